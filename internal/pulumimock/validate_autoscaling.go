package pulumimock

import (
	"regexp"
	"time"
)

// The input contract of the agents' launch template and Auto Scaling group
// (components/autoscaling.go), in the form and with the sources of
// validate.go.

const (
	tLaunchTemplate = "aws:ec2/launchTemplate:LaunchTemplate"
	tGroup          = "aws:autoscaling/group:Group"
)

// launchTemplateName: EC2 API CreateLaunchTemplate LaunchTemplateName,
// "Length Constraints: Minimum length of 3. Maximum length of 128. Pattern:
// [a-zA-Z0-9\(\)\.\-/_]+" (also verify.ValidLaunchTemplateName).
var launchTemplateNameChars = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]+$`)

func init() { InputRules = append(InputRules, autoscalingRules()...) }

func autoscalingRules() []InputRule {
	lt, grp := "internal/service/ec2/ec2_launch_template.go", "internal/service/autoscaling/group.go"
	ec2Tag := api("EC2 Tag (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Tag.html)")
	asgTag := api("Auto Scaling Tag (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_Tag.html): Key 1-128 characters, Value 0-256")
	createASG := "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html"
	refresh := "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html"
	return []InputRule{
		// aws_launch_template
		{tLaunchTemplate, "name", "3-128 characters of a-zA-Z0-9().-/_", all(matches(launchTemplateNameChars), str(func(s string) bool { return len(s) >= 3 && len(s) <= 128 })), tf(lt, "name: verify.ValidLaunchTemplateName") + "; " + api("EC2 CreateLaunchTemplate LaunchTemplateName")},
		{tLaunchTemplate, "namePrefix", "at most 102 characters (128 minus the 26-character unique suffix) of a-zA-Z0-9().-/_", all(matches(launchTemplateNameChars), maxBytes(128-uniqueIDSuffixLength)), tf(lt, "name_prefix: verify.ValidLaunchTemplateName; create.Name appends id.UniqueIDSuffixLength characters") + "; " + api("EC2 CreateLaunchTemplate LaunchTemplateName, at most 128 characters")},
		{tLaunchTemplate, "name", "conflicts with namePrefix", conflicts("namePrefix"), tf(lt, "name: ConflictsWith name_prefix")},
		{tLaunchTemplate, "description", "at most 255 characters", maxBytes(255), tf(lt, "description: StringLenBetween(0, 255)")},
		{tLaunchTemplate, "defaultVersion", "conflicts with updateDefaultVersion", conflicts("updateDefaultVersion"), tf(lt, "default_version: ConflictsWith update_default_version")},
		{tLaunchTemplate, "userData", "valid base64 (a launch template takes user data encoded)", base64String, tf(lt, "user_data: verify.ValidBase64String")},
		{tLaunchTemplate, "userData", "at most 16384 bytes once decoded", decodedMax(16384), api("EC2 RequestLaunchTemplateData UserData (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RequestLaunchTemplateData.html): user data is limited to 16 KB, before base64 encoding")},
		{tLaunchTemplate, "metadataOptions.httpEndpoint", `"enabled" or "disabled"`, oneOf("enabled", "disabled"), tf(lt, "metadata_options.http_endpoint: enum LaunchTemplateInstanceMetadataEndpointState")},
		{tLaunchTemplate, "metadataOptions.httpTokens", `"optional" or "required"`, oneOf("optional", "required"), tf(lt, "metadata_options.http_tokens: enum LaunchTemplateHttpTokensState")},
		{tLaunchTemplate, "metadataOptions.httpPutResponseHopLimit", "an integer 1-64", intBetween(1, 64), tf(lt, "metadata_options.http_put_response_hop_limit: IntBetween(1, 64)")},
		{tLaunchTemplate, "metadataOptions.instanceMetadataTags", `"enabled" or "disabled"`, oneOf("enabled", "disabled"), tf(lt, "metadata_options.instance_metadata_tags: enum LaunchTemplateInstanceMetadataTagsState")},
		{tLaunchTemplate, "blockDeviceMappings[].ebs.volumeType", "standard, io1, io2, gp2, sc1, st1 or gp3", oneOf("standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"), tf(lt, "block_device_mappings.ebs.volume_type: StringInSlice(VolumeType_Values())")},
		{tLaunchTemplate, "blockDeviceMappings[].ebs.throughput", "an integer 125-1000 (MiB/s)", intBetween(125, 1000), tf(lt, "block_device_mappings.ebs.throughput: IntBetween(125, 1000)")},
		{tLaunchTemplate, "blockDeviceMappings[].ebs.encrypted", `"true", "false" or "" (a nullable boolean)`, oneOf("true", "false", ""), tf(lt, "block_device_mappings.ebs.encrypted: nullable.ValidateTypeStringNullableBool")},
		{tLaunchTemplate, "blockDeviceMappings[].ebs.deleteOnTermination", `"true", "false" or "" (a nullable boolean)`, oneOf("true", "false", ""), tf(lt, "block_device_mappings.ebs.delete_on_termination: nullable.ValidateTypeStringNullableBool")},
		{tLaunchTemplate, "blockDeviceMappings[].ebs", "a volumeSize the volumeType allows: gp2 1-16384, gp3 1-65536, io1 4-16384, io2 4-65536, st1/sc1 125-16384, standard 1-1024 GiB", ebsSize, api("EC2 CreateVolume Size (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html)")},
		{tLaunchTemplate, "tagSpecifications[].resourceType", "instance, volume, network-interface or spot-instances-request", oneOf("instance", "volume", "network-interface", "spot-instances-request"), api("EC2 LaunchTemplateTagSpecificationRequest ResourceType (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LaunchTemplateTagSpecificationRequest.html): the resource types that can be tagged on creation from a launch template")},
		{tLaunchTemplate, "tags{key}", "a tag key of at most 127 characters, not beginning with aws:", all(maxRunes(127), notPrefix("aws:")), ec2Tag},
		{tLaunchTemplate, "tags{}", "a tag value of at most 256 characters", maxRunes(256), ec2Tag},
		{tLaunchTemplate, "tagSpecifications[].tags{key}", "a tag key of at most 127 characters, not beginning with aws:", all(maxRunes(127), notPrefix("aws:")), ec2Tag},
		{tLaunchTemplate, "tagSpecifications[].tags{}", "a tag value of at most 256 characters", maxRunes(256), ec2Tag},

		// aws_autoscaling_group
		{tGroup, "*", "both maxSize and minSize", allOf("maxSize", "minSize"), tf(grp, "max_size, min_size: Required")},
		{tGroup, "*", "exactly one of launchConfiguration, launchTemplate and mixedInstancesPolicy", exactlyOneIn("launchConfiguration", "launchTemplate", "mixedInstancesPolicy"), tf(grp, "launch_configuration, launch_template, mixed_instances_policy: ExactlyOneOf")},
		{tGroup, "*", "minSize <= desiredCapacity <= maxSize", capacityWithinSizes, api("CreateAutoScalingGroup DesiredCapacity (" + createASG + "): must be greater than or equal to the minimum size of the group and less than or equal to the maximum size")},
		{tGroup, "minSize", "a whole number, at least 0", integer(func(n int) bool { return n >= 0 }), api("CreateAutoScalingGroup MinSize, MaxSize: Integer (" + createASG + ")")},
		{tGroup, "maxSize", "a whole number, at least 0", integer(func(n int) bool { return n >= 0 }), api("CreateAutoScalingGroup MinSize, MaxSize: Integer (" + createASG + ")")},
		{tGroup, "healthCheckType", "EC2, ELB, VPC_LATTICE or EBS", oneOf("EC2", "ELB", "VPC_LATTICE", "EBS"), api("CreateAutoScalingGroup HealthCheckType (" + createASG + "): a comma-separated value of EC2, ELB, VPC_LATTICE, EBS; the provider passes it on unchecked")},
		{tGroup, "healthCheckGracePeriod", "a whole number of seconds, at least 0", integer(func(n int) bool { return n >= 0 }), api("CreateAutoScalingGroup HealthCheckGracePeriod (" + createASG + ")")},
		{tGroup, "name", "at most 255 characters", maxBytes(255), tf(grp, "name: StringLenBetween(0, 255)")},
		{tGroup, "namePrefix", "at most 229 characters (255 minus the 26-character unique suffix)", maxBytes(255 - uniqueIDSuffixLength), tf(grp, "name_prefix: StringLenBetween(0, 255-id.UniqueIDSuffixLength)")},
		{tGroup, "name", "conflicts with namePrefix", conflicts("namePrefix"), tf(grp, "name: ConflictsWith name_prefix")},
		{tGroup, "launchTemplate.id", "conflicts with launchTemplate.name", conflicts("launchTemplate.name"), tf(grp, "launch_template.id: ConflictsWith launch_template.0.name")},
		{tGroup, "launchTemplate.version", "1-255 characters", all(nonEmpty, maxBytes(255)), tf(grp, "launch_template.version: StringLenBetween(1, 255)")},
		{tGroup, "loadBalancers", "conflicts with trafficSources", conflicts("trafficSources"), tf(grp, "load_balancers: ConflictsWith traffic_source")},
		{tGroup, "loadBalancers[]", "a classic ELB's name (at most 32 letters, digits and hyphens, no hyphen at either end)", elbName, api("CreateAutoScalingGroup LoadBalancerNames, the names of Classic Load Balancers ("+createASG+")") + "; " + tf("internal/service/elb/validate.go", "validName")},
		{tGroup, "vpcZoneIdentifiers", "conflicts with availabilityZones", conflicts("availabilityZones"), tf(grp, "vpc_zone_identifier: ConflictsWith availability_zones")},
		{tGroup, "waitForCapacityTimeout", "a Go duration such as 10m0s", str(func(s string) bool { _, err := time.ParseDuration(s); return err == nil }), tf(grp, "wait_for_capacity_timeout: verify.ValidDuration")},
		{tGroup, "instanceRefresh.strategy", `"Rolling"`, oneOf("Rolling"), tf(grp, "instance_refresh.strategy: Required, enum RefreshStrategy (Rolling; ReplaceRootVolume is newer than the SDK the provider bundles, and needs a mixed instances policy)")},
		{tGroup, "instanceRefresh.preferences.minHealthyPercentage", "an integer 0-100", intBetween(0, 100), tf(grp, "instance_refresh.preferences.min_healthy_percentage: IntBetween(0, 100)")},
		{tGroup, "instanceRefresh.preferences.maxHealthyPercentage", "an integer 100-200", intBetween(100, 200), tf(grp, "instance_refresh.preferences.max_healthy_percentage: IntBetween(100, 200)")},
		{tGroup, "instanceRefresh.preferences", "maxHealthyPercentage - minHealthyPercentage at most 100", healthyRange, api("RefreshPreferences MaxHealthyPercentage (" + refresh + "): the difference between them cannot be greater than 100")},
		{tGroup, "instanceRefresh.preferences.scaleInProtectedInstances", "Refresh, Ignore or Wait", oneOf("Refresh", "Ignore", "Wait"), tf(grp, "instance_refresh.preferences.scale_in_protected_instances: enum ScaleInProtectedInstances")},
		{tGroup, "instanceRefresh.preferences.standbyInstances", "Terminate, Ignore or Wait", oneOf("Terminate", "Ignore", "Wait"), tf(grp, "instance_refresh.preferences.standby_instances: enum StandbyInstances")},
		{tGroup, "tags[]", "key, value and propagateAtLaunch, each given", allOf("key", "value", "propagateAtLaunch"), tf(grp, "tag.key, tag.value, tag.propagate_at_launch: Required")},
		{tGroup, "tags[].key", "a tag key of 1-128 characters, not beginning with aws:", all(nonEmpty, maxRunes(128), notPrefix("aws:")), asgTag},
		{tGroup, "tags[].value", "a tag value of at most 256 characters", maxRunes(256), asgTag},
	}
}

// capacityWithinSizes checks minSize <= desiredCapacity <= maxSize and
// minSize <= maxSize, where known.
func capacityWithinSizes(v any, _ Inputs) bool {
	m, _ := v.(map[string]any)
	num := func(k string) (float64, bool) {
		n, ok := m[k].(float64)
		return n, ok
	}
	lo, okLo := num("minSize")
	hi, okHi := num("maxSize")
	if okLo && okHi && lo > hi {
		return false
	}
	d, ok := num("desiredCapacity")
	return !ok || (!okLo || lo <= d) && (!okHi || d <= hi)
}

// healthyRange checks an instance refresh's preferences: the two
// percentages at most 100 apart, when both are given.
func healthyRange(v any, _ Inputs) bool {
	m, _ := v.(map[string]any)
	lo, okLo := m["minHealthyPercentage"].(float64)
	hi, okHi := m["maxHealthyPercentage"].(float64)
	return !okLo || !okHi || hi-lo <= 100
}

// ebsSize checks a launch template's EBS mapping: its volumeSize against
// the range of its own volumeType (volumeSize, validate.go).
func ebsSize(v any, _ Inputs) bool {
	m, _ := v.(map[string]any)
	size, ok := m["volumeSize"]
	if !ok || size == unknown {
		return true
	}
	return volumeSize("volumeType")(size, Inputs(m))
}
