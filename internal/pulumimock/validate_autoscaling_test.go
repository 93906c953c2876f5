package pulumimock

import (
	"encoding/base64"
	"strings"
)

// autoscalingBaseline is a valid launch template and group, shaped as
// components/autoscaling.go registers them; nil for other types.
func autoscalingBaseline(typ string, ec2Tags map[string]any) map[string]any {
	switch typ {
	case tLaunchTemplate:
		return map[string]any{
			"namePrefix": "dev-mha-1a2b3c4d-agents-", "imageId": "ami-1", "instanceType": "m4.large", "keyName": "k",
			"vpcSecurityGroupIds": []any{"sg-1"}, "iamInstanceProfile": map[string]any{"name": "p"},
			"userData":        base64.StdEncoding.EncodeToString([]byte("#cloud-config\n")),
			"metadataOptions": map[string]any{"httpEndpoint": "enabled", "httpTokens": "optional", "httpPutResponseHopLimit": 1},
			"blockDeviceMappings": []any{map[string]any{"deviceName": "/dev/sda1", "ebs": map[string]any{
				"encrypted": "true", "deleteOnTermination": "true", "volumeType": "gp3", "volumeSize": 30}}},
			"tagSpecifications": []any{map[string]any{"resourceType": "volume", "tags": ec2Tags}},
			"tags":              ec2Tags,
		}
	case tGroup:
		return map[string]any{
			"namePrefix": "dev-mha-1a2b3c4d-agents-", "minSize": 2, "maxSize": 2, "desiredCapacity": 2,
			"vpcZoneIdentifiers": []any{"subnet-1"}, "launchTemplate": map[string]any{"id": "lt-1", "version": "1"},
			"loadBalancers": []any{"dev-mha-1a2b3c4d"}, "healthCheckType": "EC2", "healthCheckGracePeriod": 300,
			"waitForCapacityTimeout": "10m0s",
			"instanceRefresh":        map[string]any{"strategy": "Rolling", "preferences": map[string]any{"minHealthyPercentage": 50, "maxHealthyPercentage": 100}},
			"tags":                   []any{map[string]any{"key": "marathon-ha:role", "value": "agent", "propagateAtLaunch": true}},
		}
	}
	return nil
}

func init() {
	ud := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", n))) }
	ruleCases = append(ruleCases,
		ruleCase{tLaunchTemplate, "name", "3-128", "-", multi{"namePrefix": del, "name": "ab"}, multi{"namePrefix": del, "name": "abc"}},
		ruleCase{tLaunchTemplate, "name", "3-128", "-", multi{"namePrefix": del, "name": "a b c"}, multi{"namePrefix": del, "name": "a.b-c_(d)/e"}},
		ruleCase{tLaunchTemplate, "namePrefix", "102", "namePrefix", long("p", 103), long("p", 102)},
		ruleCase{tLaunchTemplate, "name", "conflicts", "name", "lt-name", del},
		ruleCase{tLaunchTemplate, "description", "255", "description", long("d", 256), "agents"},
		ruleCase{tLaunchTemplate, "defaultVersion", "conflicts", "-", multi{"defaultVersion": 1, "updateDefaultVersion": true}, multi{"defaultVersion": 1}},
		ruleCase{tLaunchTemplate, "userData", "base64", "userData", "#cloud-config\n", ud(10)},
		ruleCase{tLaunchTemplate, "userData", "16384", "userData", ud(16385), ud(16384)},
		ruleCase{tLaunchTemplate, "metadataOptions.httpEndpoint", "enabled", "metadataOptions.httpEndpoint", "on", "disabled"},
		ruleCase{tLaunchTemplate, "metadataOptions.httpTokens", "optional", "metadataOptions.httpTokens", "v2", "required"},
		ruleCase{tLaunchTemplate, "metadataOptions.httpPutResponseHopLimit", "1-64", "metadataOptions.httpPutResponseHopLimit", 0, 64},
		ruleCase{tLaunchTemplate, "metadataOptions.instanceMetadataTags", "enabled", "metadataOptions.instanceMetadataTags", "yes", "enabled"},
		ruleCase{tLaunchTemplate, "blockDeviceMappings[].ebs.volumeType", "gp3", "blockDeviceMappings[0].ebs.volumeType", "gp4", "gp2"},
		ruleCase{tLaunchTemplate, "blockDeviceMappings[].ebs.throughput", "125-1000", "blockDeviceMappings[0].ebs.throughput", 100, 125},
		ruleCase{tLaunchTemplate, "blockDeviceMappings[].ebs.encrypted", "nullable", "blockDeviceMappings[0].ebs.encrypted", "yes", "false"},
		ruleCase{tLaunchTemplate, "blockDeviceMappings[].ebs.deleteOnTermination", "nullable", "blockDeviceMappings[0].ebs.deleteOnTermination", "1", ""},
		ruleCase{tLaunchTemplate, "blockDeviceMappings[].ebs", "volumeSize", "blockDeviceMappings[0].ebs.volumeSize", 70000, 65536},
		ruleCase{tLaunchTemplate, "tagSpecifications[].resourceType", "spot-instances-request", "tagSpecifications[0].resourceType", "launch-template", "instance"},
		ruleCase{tLaunchTemplate, "tags{key}", "127", "tags." + long("k", 128), "v", del},
		ruleCase{tLaunchTemplate, "tags{}", "256", "tags.Name", long("v", 257), "ok"},
		ruleCase{tLaunchTemplate, "tagSpecifications[].tags{key}", "127", "tagSpecifications[0].tags.'aws:x'", "v", del},
		ruleCase{tLaunchTemplate, "tagSpecifications[].tags{}", "256", "tagSpecifications[0].tags.Name", long("v", 257), "ok"},

		ruleCase{tGroup, "*", "maxSize and minSize", "minSize", del, 1},
		ruleCase{tGroup, "*", "exactly one of launchConfiguration", "launchTemplate", del, map[string]any{"name": "lt", "version": "$Latest"}},
		ruleCase{tGroup, "*", "exactly one of launchConfiguration", "launchConfiguration", "lc", del},
		ruleCase{tGroup, "*", "minSize <= desiredCapacity", "desiredCapacity", 3, 2},
		ruleCase{tGroup, "*", "minSize <= desiredCapacity", "-", multi{"minSize": 3, "desiredCapacity": 3}, multi{"minSize": 1}},
		ruleCase{tGroup, "minSize", "at least 0", "-", multi{"minSize": -1, "desiredCapacity": -1}, multi{"minSize": 0}},
		ruleCase{tGroup, "maxSize", "at least 0", "maxSize", 2.5, 3},
		ruleCase{tGroup, "healthCheckType", "VPC_LATTICE", "healthCheckType", "elb", "ELB"},
		ruleCase{tGroup, "healthCheckGracePeriod", "seconds", "healthCheckGracePeriod", -1, 0},
		ruleCase{tGroup, "name", "255", "name", long("n", 256), del},
		ruleCase{tGroup, "namePrefix", "229", "namePrefix", long("n", 230), long("n", 229)},
		ruleCase{tGroup, "name", "conflicts", "name", "agents", del},
		ruleCase{tGroup, "launchTemplate.id", "conflicts", "launchTemplate.name", "lt", del},
		ruleCase{tGroup, "launchTemplate.version", "1-255", "launchTemplate.version", "", "$Latest"},
		ruleCase{tGroup, "loadBalancers", "conflicts", "trafficSources", []any{map[string]any{"identifier": "x"}}, del},
		ruleCase{tGroup, "loadBalancers[]", "classic ELB", "loadBalancers", []any{"-elb"}, []any{"elb-1"}},
		ruleCase{tGroup, "vpcZoneIdentifiers", "conflicts", "availabilityZones", []any{"us-east-1a"}, del},
		ruleCase{tGroup, "waitForCapacityTimeout", "duration", "waitForCapacityTimeout", "10 minutes", "0"},
		ruleCase{tGroup, "instanceRefresh.strategy", "Rolling", "instanceRefresh.strategy", "rolling", "Rolling"},
		ruleCase{tGroup, "instanceRefresh.preferences.minHealthyPercentage", "0-100", "instanceRefresh.preferences.minHealthyPercentage", 101, 100},
		ruleCase{tGroup, "instanceRefresh.preferences.maxHealthyPercentage", "100-200", "instanceRefresh.preferences.maxHealthyPercentage", 99, 150},
		ruleCase{tGroup, "instanceRefresh.preferences", "at most 100", "-", multi{"instanceRefresh.preferences.minHealthyPercentage": 0, "instanceRefresh.preferences.maxHealthyPercentage": 150}, multi{"instanceRefresh.preferences.minHealthyPercentage": 50, "instanceRefresh.preferences.maxHealthyPercentage": 150}},
		ruleCase{tGroup, "instanceRefresh.preferences.scaleInProtectedInstances", "Refresh", "instanceRefresh.preferences.scaleInProtectedInstances", "Skip", "Wait"},
		ruleCase{tGroup, "instanceRefresh.preferences.standbyInstances", "Terminate", "instanceRefresh.preferences.standbyInstances", "Refresh", "Ignore"},
		ruleCase{tGroup, "tags[]", "propagateAtLaunch", "tags[0]", map[string]any{"key": "k", "value": "v"}, map[string]any{"key": "k", "value": "v", "propagateAtLaunch": true}},
		ruleCase{tGroup, "tags[].key", "aws:", "tags[0].key", "aws:owner", "owner"},
		ruleCase{tGroup, "tags[].value", "256", "tags[0].value", long("v", 257), long("v", 256)},
	)
}
