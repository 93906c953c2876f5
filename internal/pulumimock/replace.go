package pulumimock

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// This file is the replacement contract of every resource type the program
// registers: which inputs, when they change, make the provider replace the
// resource (create a new one and delete the old) rather than update it in
// place. steps.go applies it, with the engine's own options
// (replaceOnChanges, ignoreChanges, replacementTrigger), to say what a
// `pulumi up` after a config change would do.
//
// AWS: the provider's schema, "ForceNew: true" and the CustomizeDiff
// ForceNewIf/ForceNewIfChange functions, read at the pulumi fork's
// patched-v5.14.0 branch of terraform-provider-aws (the newest the mirror
// holds; see tfVersion for the release pulumi-aws v6.83.4 bridges). Only
// inputs the program can set are listed; each entry gives the file and the
// line of the schema at that branch. Random and TLS: their entries say what
// was read; what was not is taken as replacing, the stricter answer. pulumi-command's
// Command replaces only on `triggers`, which its SDK declares with the
// replaceOnChanges option, so the engine rule covers it.

// ReplaceRule is what replaces one resource type.
type ReplaceRule struct {
	// ForceNew are input paths (Pulumi names: "a", "a.b") whose change
	// replaces the resource.
	ForceNew []string
	// When, if set, decides the inputs whose replacement depends on the
	// values (CustomizeDiff): it returns the top-level keys, among changed,
	// that force a new resource.
	When func(olds, news resource.PropertyMap, changed []resource.PropertyKey) []resource.PropertyKey
	// Versioned are the inputs whose in-place update makes a new version
	// of the resource: its computed latestVersion grows by one.
	Versioned []string
	// Refreshes, if set, says whether an in-place update with these changed
	// paths replaces the resource's instances by itself (an Auto Scaling
	// group's instance refresh), which the engine shows as an update.
	Refreshes func(news resource.PropertyMap, changed []resource.PropertyPath) bool
	Source    string
}

// ReplaceRules are the rules of every resource type the program may
// register. steps.go refuses a type that has none.
var ReplaceRules = map[string]ReplaceRule{
	tVpc: {ForceNew: []string{"cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"},
		Source: tf("internal/service/ec2/vpc_.go", "cidr_block l.78, ipv4_ipam_pool_id l.122, ipv4_netmask_length l.127")},
	tInternetGateway: {Source: tf("internal/service/ec2/vpc_internet_gateway.go", "no ForceNew: vpc_id changes detach and attach")},
	tSubnet: {ForceNew: []string{"availabilityZone", "availabilityZoneId", "cidrBlock", "ipv6Native", "outpostArn", "vpcId"},
		Source: tf("internal/service/ec2/vpc_subnet.go", "availability_zone l.65, availability_zone_id l.72, cidr_block l.78, ipv6_native l.118, outpost_arn l.134, vpc_id l.152")},
	tSubnetCidrReservation: {ForceNew: []string{"cidrBlock", "description", "reservationType", "subnetId"},
		Source: tf("internal/service/ec2/vpc_subnet_cidr_reservation.go", "cidr_block l.49, description l.56, reservation_type l.65, subnet_id l.71")},
	tRouteTable: {ForceNew: []string{"vpcId"},
		Source: tf("internal/service/ec2/vpc_route_table.go", "vpc_id l.158")},
	tRouteTableAssociation: {ForceNew: []string{"gatewayId", "subnetId"},
		Source: tf("internal/service/ec2/vpc_route_table_association.go", "gateway_id l.44, subnet_id l.54")},
	tSecurityGroup: {ForceNew: []string{"description", "name", "namePrefix", "vpcId"},
		Source: tf("internal/service/ec2/vpc_security_group.go", "description l.65, name l.75, name_prefix l.86, vpc_id l.107")},
	tSecurityGroupRule: {ForceNew: []string{"cidrBlocks", "fromPort", "ipv6CidrBlocks", "prefixListIds", "protocol", "securityGroupId", "self", "sourceSecurityGroupId", "toPort", "type"},
		Source: tf("internal/service/ec2/vpc_security_group_rule.go", "cidr_blocks l.53, from_port l.69, ipv6_cidr_blocks l.82, prefix_list_ids l.93, protocol l.103, security_group_id l.109, self l.119, source_security_group_id l.126, to_port l.134, type l.147; description updates")},
	tKeyPair: {ForceNew: []string{"keyName", "keyNamePrefix", "publicKey"},
		Source: tf("internal/service/ec2/ec2_key_pair.go", "key_name l.61, key_name_prefix l.69, public_key l.84")},
	// instance_type, user data (without user_data_replace_on_change) and
	// metadata options update in place; instance_type and user data stop
	// and start the instance (resourceInstanceUpdate, l.1663); the root
	// volume's size and type are modified in place (ModifyVolume, l.1854),
	// which cannot shrink a volume.
	tInstance: {ForceNew: []string{"ami", "associatePublicIpAddress", "availabilityZone", "cpuCoreCount", "cpuThreadsPerCore",
		"ebsOptimized", "ephemeralBlockDevices", "hibernation", "hostId", "instanceMarketOptions", "ipv6AddressCount", "ipv6Addresses",
		"keyName", "launchTemplate", "placementGroup", "placementPartitionNumber", "privateDnsNameOptions", "privateIp",
		"rootBlockDevice.encrypted", "rootBlockDevice.kmsKeyId", "securityGroups", "subnetId", "tenancy"},
		When: func(_, news resource.PropertyMap, changed []resource.PropertyKey) []resource.PropertyKey {
			// ForceNewIf("user_data"/"user_data_base64"): replace when the
			// new user_data_replace_on_change is true (l.902-907).
			v, ok := news["userDataReplaceOnChange"]
			if !ok || !v.IsBool() || !v.BoolValue() {
				return nil
			}
			var out []resource.PropertyKey
			for _, k := range changed {
				if k == "userData" || k == "userDataBase64" {
					out = append(out, k)
				}
			}
			return out
		},
		Source: tf("internal/service/ec2/ec2_instance.go", "ami l.66, associate_public_ip_address l.77, availability_zone l.85, cpu_core_count l.167, cpu_threads_per_core l.175, ebs_optimized l.305, ephemeral_block_device l.327, hibernation l.363, host_id l.369, instance_market_options l.395, ipv6_address_count l.466, ipv6_addresses l.474, key_name l.484, launch_template l.491, placement_group l.625, placement_partition_number l.632, private_dns_name_options l.646, private_ip l.672, root_block_device.encrypted l.706, root_block_device.kms_key_id l.718, security_groups l.758, subnet_id l.780, tenancy l.788; CustomizeDiff ForceNewIf user_data, user_data_base64 when user_data_replace_on_change l.902-907")},
	tLoadBalancer: {ForceNew: []string{"internal", "name", "namePrefix"},
		When: func(olds, news resource.PropertyMap, changed []resource.PropertyKey) []resource.PropertyKey {
			// ForceNewIfChange("subnets"): replace when every current
			// subnet is removed (l.53-61).
			for _, k := range changed {
				if k != "subnets" {
					continue
				}
				o, n := Plain(olds["subnets"]), Plain(news["subnets"])
				os, _ := o.([]any)
				ns, _ := n.([]any)
				kept := false
				for _, s := range os {
					for _, t := range ns {
						if s == t {
							kept = true
						}
					}
				}
				if len(os) > 0 && !kept {
					return []resource.PropertyKey{"subnets"}
				}
			}
			return nil
		},
		Source: tf("internal/service/elb/load_balancer.go", "internal l.188, name l.229, name_prefix l.236; CustomizeDiff ForceNewIfChange subnets when all are removed l.53")},
	// A launch template's other inputs make a new version in place
	// (resourceLaunchTemplateUpdate: CreateLaunchTemplateVersion when any
	// of updateKeys changes, l.1061-1112; latest_version ComputedIf on any
	// change but name, name_prefix, description, default_version and
	// update_default_version, l.963); the group, which names the version,
	// then replaces its instances by its instance refresh, which the engine
	// shows as an update of the group.
	tLaunchTemplate: {ForceNew: []string{"name", "namePrefix"},
		Versioned: []string{"blockDeviceMappings", "capacityReservationSpecification", "cpuOptions", "creditSpecification", "description",
			"disableApiStop", "disableApiTermination", "ebsOptimized", "elasticGpuSpecifications", "elasticInferenceAccelerator", "enclaveOptions",
			"hibernationOptions", "iamInstanceProfile", "imageId", "instanceInitiatedShutdownBehavior", "instanceMarketOptions", "instanceRequirements",
			"instanceType", "kernelId", "keyName", "licenseSpecifications", "metadataOptions", "monitoring", "networkInterfaces", "placement",
			"privateDnsNameOptions", "ramDiskId", "securityGroupNames", "tagSpecifications", "userData", "vpcSecurityGroupIds"},
		Source: tf("internal/service/ec2/ec2_launch_template.go", "name l.715, name_prefix l.723; a new version on update of updateKeys l.1061-1112")},
	tGroup: {ForceNew: []string{"initialLifecycleHooks", "name", "namePrefix"},
		Refreshes: groupRefreshes,
		Source:    tf("internal/service/autoscaling/group.go", "initial_lifecycle_hook l.134, name l.702, name_prefix l.710; instance refresh started on update l.1256-1495")},
	tELBAttachment: {ForceNew: []string{"elb", "instance"},
		Source: tf("internal/service/elb/attachment.go", "elb l.34, instance l.40")},
	tRole: {ForceNew: []string{"name", "namePrefix", "path"},
		Source: tf("internal/service/iam/role.go", "name l.143, name_prefix l.151, path l.159")},
	tRolePolicy: {ForceNew: []string{"name", "namePrefix", "role"},
		Source: tf("internal/service/iam/role_policy.go", "name l.60, name_prefix l.67, role l.74")},
	tInstanceProfile: {ForceNew: []string{"name", "namePrefix", "path"},
		Source: tf("internal/service/iam/instance_profile.go", "name l.60, name_prefix l.68, path l.76")},
	tParameter: {ForceNew: []string{"name"},
		When: func(olds, news resource.PropertyMap, changed []resource.PropertyKey) []resource.PropertyKey {
			// ForceNewIfChange("tier"): Advanced to Standard (l.131).
			o, n := Plain(olds["tier"]), Plain(news["tier"])
			if o == "Advanced" && n == "Standard" {
				return []resource.PropertyKey{"tier"}
			}
			return nil
		},
		Source: tf("internal/service/ssm/parameter.go", "name l.86; CustomizeDiff ForceNewIfChange tier Advanced to Standard l.131")},

	"random:index/randomId:RandomId": {ForceNew: []string{"byteLength", "keepers", "prefix"},
		Source: "pulumi-random v4.18.0 sdk/go/random/randomId.go: keepers \"when changed, will trigger recreation\"; byteLength and prefix decide the value, taken as replacing (not read at the provider)"},
	"random:index/randomUuid:RandomUuid": {ForceNew: []string{"keepers"},
		Source: "pulumi-random v4.18.0 sdk/go/random/randomUuid.go: keepers \"when changed, will trigger recreation\""},
	"tls:index/privateKey:PrivateKey": {ForceNew: []string{"algorithm", "ecdsaCurve", "rsaBits"},
		Source: "pulumi-tls v5.2.0: a key's algorithm and size make the key; taken as replacing (not read at the provider)"},
	"tls:index/selfSignedCert:SelfSignedCert": {ForceNew: []string{"*"},
		Source: "pulumi-tls v5.2.0 selfSignedCert: taken as replacing on any change: a certificate cannot be edited (not read at the provider)"},
	"tls:index/certRequest:CertRequest": {ForceNew: []string{"*"},
		Source: "pulumi-tls v5.2.0 certRequest: taken as replacing on any change (not read at the provider)"},
	"tls:index/locallySignedCert:LocallySignedCert": {ForceNew: []string{"*"},
		Source: "pulumi-tls v5.2.0 locallySignedCert: taken as replacing on any change (not read at the provider)"},
	"command:local:Command": {
		Source: "pulumi/pulumi-command v1.2.1 provider/pkg/provider/common/inputs.go: only triggers replace (provider:\"replaceOnChanges\"; the SDK adds the replaceOnChanges option triggers[*]); other inputs update"},
	stashType: {
		Source: "pulumi/pulumi pkg/resource/deploy/builtins.go: an input change is an update (the output keeps its first value); only the replacementTrigger option replaces"},
}

// groupRefreshes is resourceGroupUpdate's instance refresh
// (terraform-provider-aws internal/service/autoscaling/group.go at
// patched-v5.14.0, l.1256-1495): a change of launch_configuration,
// launch_template (its id, name or version) or mixed_instances_policy sets
// shouldRefreshInstances (l.1256, l.1263, l.1283), as does a change of any
// attribute the block's triggers name (l.1466-1477); then, when the group
// has an instance_refresh block, the provider calls StartInstanceRefresh
// (l.1463, l.1480-1495), and the group replaces every instance by its
// strategy: with Rolling, terminate and launch a share at a time.
func groupRefreshes(news resource.PropertyMap, changed []resource.PropertyPath) bool {
	refresh := news["instanceRefresh"]
	if !refresh.IsObject() {
		return false
	}
	triggers := map[string]bool{"launchConfiguration": true, "launchTemplate": true, "mixedInstancesPolicy": true}
	if t := refresh.ObjectValue()["triggers"]; t.IsArray() {
		for _, v := range t.ArrayValue() {
			if v.IsString() {
				triggers[camel(v.StringValue())] = true // the block names Terraform attributes
			}
		}
	}
	for _, p := range changed {
		if k, ok := p[0].(string); ok && triggers[k] {
			return true
		}
	}
	return false
}

// camel is a Terraform attribute's Pulumi name: desired_capacity ->
// desiredCapacity.
func camel(tf string) string {
	parts := strings.Split(tf, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
