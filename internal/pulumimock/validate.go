package pulumimock

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// This file is the input contract of the AWS resources the program
// registers: what the real provider or the AWS API refuses at preview or
// create. Mocks.NewResource refuses a registration that breaks a rule, and
// any aws:* type that has no rule at all, so a new resource type cannot slip
// past the stand-in.
//
// The provider is pulumi-aws v6.83.4. It bridges hashicorp/terraform-provider-aws
// 5.x (its SDK has none of 6.x's per-resource region arguments; pulumi-aws
// moved to 6.x with its own v7), most likely v5.100.0, the last 5.x release:
// the upstream submodule pointer at tag v6.83.4 was not readable here.
//
// Each rule names its source. "tf" sources are the provider's schema
// (ValidateFunc, ConflictsWith, ExactlyOneOf, AtLeastOneOf) or create-time
// checks; every one quoted is identical in the pulumi/terraform-provider-aws
// fork at patched-v5.14.0 (2023-08) and in upstream 6.48 (2026), and the 6.x
// CHANGELOG changes none of them, so they hold at v5.100.0 in between. "api"
// sources are AWS documentation of the call the provider makes at create.

// tfVersion is the terraform-provider-aws release pulumi-aws v6.83.4 bridges.
const tfVersion = "v5.100.0"

func tf(path, symbol string) string {
	return "hashicorp/terraform-provider-aws " + tfVersion + " " + path + " (" + symbol + ")"
}

func api(ref string) string { return "AWS API reference: " + ref }

// Type tokens of the AWS resources the program registers.
const (
	tVpc                   = "aws:ec2/vpc:Vpc"
	tInternetGateway       = "aws:ec2/internetGateway:InternetGateway"
	tSubnet                = "aws:ec2/subnet:Subnet"
	tSubnetCidrReservation = "aws:ec2/subnetCidrReservation:SubnetCidrReservation"
	tRouteTable            = "aws:ec2/routeTable:RouteTable"
	tRouteTableAssociation = "aws:ec2/routeTableAssociation:RouteTableAssociation"
	tSecurityGroup         = "aws:ec2/securityGroup:SecurityGroup"
	tSecurityGroupRule     = "aws:ec2/securityGroupRule:SecurityGroupRule"
	tInstance              = "aws:ec2/instance:Instance"
	tKeyPair               = "aws:ec2/keyPair:KeyPair"
	tLoadBalancer          = "aws:elb/loadBalancer:LoadBalancer"
	tELBAttachment         = "aws:elb/attachment:Attachment"
	tRole                  = "aws:iam/role:Role"
	tRolePolicy            = "aws:iam/rolePolicy:RolePolicy"
	tInstanceProfile       = "aws:iam/instanceProfile:InstanceProfile"
	tParameter             = "aws:ssm/parameter:Parameter"
)

// InputRule is one input constraint of a resource type.
type InputRule struct {
	Type string // resource type token
	// Path is the input it applies to, in Pulumi's (camelCase) names:
	// "a.b" a nested object's property, "a[]" every element of a list,
	// "a{}" every value of a map, "a{key}" every key of a map, "*" the whole
	// inputs (for rules across properties). An absent input passes; an
	// unknown (computed during preview) one is skipped.
	Path string
	Rule string // what the value must be, in the source's terms
	// Check reports whether v (never unknown) is acceptable; in gives the
	// resource's other inputs, for rules that relate several.
	Check  func(v any, in Inputs) bool
	Source string
}

// Patterns and limits quoted from the sources.
var (
	// validSecurityGroupRuleDescription; EC2 API IpRange Description. The
	// same characters are the only ones CreateSecurityGroup accepts in a VPC
	// group's name and description.
	ec2DescriptionChars = regexp.MustCompile(`^[0-9A-Za-z_ .:/()#,@\[\]+=&;{}!$*-]*$`)
	// internal/service/elb/validate.go validName, validNamePrefix.
	elbNameChars = regexp.MustCompile(`^[0-9A-Za-z-]+$`)
	// internal/service/iam/validate.go validResourceName.
	iamNameChars = regexp.MustCompile(`^[\w+=,.@-]*$`)
	// internal/service/elb/load_balancer.go validHeathCheckTarget.
	elbTarget = regexp.MustCompile(`\A(\w+):(\d+)(.+)?\z`)
	// IAM API Tag; ELB API Tag.
	iamTagKey   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	awsTagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	// SSM API PutParameter Name.
	ssmNameChars = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
	// EC2 user guide, Resource IDs: i-1234567890abcdef0 (17 digits since
	// 2016, 8 before).
	ec2InstanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// uniqueIDSuffixLength is what the provider appends to a name_prefix
// (terraform-plugin-sdk helper/id UniqueIDSuffixLength, internal/create/id.go).
const uniqueIDSuffixLength = 26

// InputRules is the table. Tag rules, the same for every resource of a
// service, are appended from tagRules below.
var InputRules = append([]InputRule{
	// aws_vpc (internal/service/ec2/vpc_.go)
	{tVpc, "cidrBlock", "a valid IPv4 network CIDR (the network address) with a /16 to /28 netmask", cidrNetwork(16, 28), tf("internal/service/ec2/vpc_.go", "cidr_block: validation.IsCIDRNetwork(vpcCIDRMinIPv4Netmask=16, vpcCIDRMaxIPv4Netmask=28)")},
	{tVpc, "instanceTenancy", `"default" or "dedicated"`, oneOf("default", "dedicated"), tf("internal/service/ec2/vpc_.go", "instance_tenancy: StringInSlice(TenancyDefault, TenancyDedicated)")},
	{tVpc, "cidrBlock", "conflicts with ipv4NetmaskLength", conflicts("ipv4NetmaskLength"), tf("internal/service/ec2/vpc_.go", "cidr_block: ConflictsWith ipv4_netmask_length")},

	// aws_internet_gateway (internal/service/ec2/vpc_internet_gateway.go)
	// validates nothing itself: only the EC2 tag rules below apply.

	// aws_subnet (internal/service/ec2/vpc_subnet.go)
	{tSubnet, "cidrBlock", "a valid IPv4 CIDR whose address is the network address", ipv4CIDRNetwork, tf("internal/service/ec2/vpc_subnet.go", "cidr_block: verify.ValidIPv4CIDRNetworkAddress")},
	{tSubnet, "cidrBlock", "a /16 to /28 block", cidrNetwork(16, 28), api("EC2 CreateSubnet CidrBlock (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html): the allowed block size is between a /16 and a /28 netmask")},
	{tSubnet, "availabilityZone", "conflicts with availabilityZoneId", conflicts("availabilityZoneId"), tf("internal/service/ec2/vpc_subnet.go", "availability_zone: ConflictsWith availability_zone_id")},
	{tSubnet, "ipv6CidrBlock", "a valid IPv6 CIDR whose address is the network address", ipv6CIDRNetwork, tf("internal/service/ec2/vpc_subnet.go", "ipv6_cidr_block: verify.ValidIPv6CIDRNetworkAddress")},

	// aws_ec2_subnet_cidr_reservation (internal/service/ec2/vpc_subnet_cidr_reservation.go)
	// has no tags and no rule on description.
	{tSubnetCidrReservation, "*", "all of cidrBlock, reservationType and subnetId", allOf("cidrBlock", "reservationType", "subnetId"), tf("internal/service/ec2/vpc_subnet_cidr_reservation.go", "cidr_block, reservation_type, subnet_id: Required")},
	{tSubnetCidrReservation, "cidrBlock", "an IPv4 or IPv6 CIDR written as its network address", cidrNetworkAddress, tf("internal/service/ec2/vpc_subnet_cidr_reservation.go", "cidr_block: verify.ValidCIDRNetworkAddress")},
	{tSubnetCidrReservation, "reservationType", `"prefix" or "explicit"`, oneOf("prefix", "explicit"), tf("internal/service/ec2/vpc_subnet_cidr_reservation.go", "reservation_type: enum SubnetCidrReservationType (prefix, explicit)")},

	// aws_route_table (internal/service/ec2/vpc_route_table.go)
	{tRouteTable, "routes[].cidrBlock", "a valid IPv4 CIDR whose address is the network address", ipv4CIDRNetwork, tf("internal/service/ec2/vpc_route_table.go", "route.cidr_block: verify.ValidIPv4CIDRNetworkAddress")},
	{tRouteTable, "routes[].ipv6CidrBlock", "a valid IPv6 CIDR whose address is the network address", ipv6CIDRNetwork, tf("internal/service/ec2/vpc_route_table.go", "route.ipv6_cidr_block: verify.ValidIPv6CIDRNetworkAddress")},
	{tRouteTable, "routes[]", "exactly one destination: cidrBlock, ipv6CidrBlock or destinationPrefixListId", exactlyOneIn("cidrBlock", "ipv6CidrBlock", "destinationPrefixListId"), tf("internal/service/ec2/vpc_route_table.go", "routeTableAddRoute: validNestedExactlyOneOf(routeTableValidDestinations)")},
	{tRouteTable, "routes[]", "exactly one target: carrierGatewayId, coreNetworkArn, egressOnlyGatewayId, gatewayId, localGatewayId, natGatewayId, networkInterfaceId, transitGatewayId, vpcEndpointId or vpcPeeringConnectionId", exactlyOneIn("carrierGatewayId", "coreNetworkArn", "egressOnlyGatewayId", "gatewayId", "localGatewayId", "natGatewayId", "networkInterfaceId", "transitGatewayId", "vpcEndpointId", "vpcPeeringConnectionId"), tf("internal/service/ec2/vpc_route_table.go", "routeTableAddRoute: validNestedExactlyOneOf(routeTableValidTargets)")},

	// aws_route_table_association (internal/service/ec2/vpc_route_table_association.go)
	{tRouteTableAssociation, "*", "exactly one of subnetId and gatewayId", exactlyOneIn("subnetId", "gatewayId"), tf("internal/service/ec2/vpc_route_table_association.go", "subnet_id, gateway_id: ExactlyOneOf")},

	// aws_security_group (internal/service/ec2/vpc_security_group.go)
	{tSecurityGroup, "name", "at most 255 characters, not starting with sg-", all(maxBytes(255), notPrefix("sg-")), tf("internal/service/ec2/vpc_security_group.go", "name: StringLenBetween(0, 255), StringDoesNotMatch(^sg-)")},
	{tSecurityGroup, "namePrefix", "at most 229 characters (255 minus the 26-character unique suffix), not starting with sg-", all(maxBytes(255-uniqueIDSuffixLength), notPrefix("sg-")), tf("internal/service/ec2/vpc_security_group.go", "name_prefix: StringLenBetween(0, 255-id.UniqueIDSuffixLength), StringDoesNotMatch(^sg-)")},
	{tSecurityGroup, "name", "conflicts with namePrefix", conflicts("namePrefix"), tf("internal/service/ec2/vpc_security_group.go", "name: ConflictsWith name_prefix")},
	{tSecurityGroup, "description", "at most 255 characters", maxBytes(255), tf("internal/service/ec2/vpc_security_group.go", "description: StringLenBetween(0, 255)")},
	{tSecurityGroup, "description", "only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (a VPC security group)", matches(ec2DescriptionChars), api("EC2 CreateSecurityGroup GroupDescription (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html)")},
	{tSecurityGroup, "name", "only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (a VPC security group)", matches(ec2DescriptionChars), api("EC2 CreateSecurityGroup GroupName (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html)")},
	{tSecurityGroup, "namePrefix", "only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (the group name starts with it)", matches(ec2DescriptionChars), api("EC2 CreateSecurityGroup GroupName (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html)")},
	{tSecurityGroup, "ingress[].description", "at most 255 characters of a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$*", all(maxBytes(255), matches(ec2DescriptionChars)), tf("internal/service/ec2/validate.go", "validSecurityGroupRuleDescription")},
	{tSecurityGroup, "egress[].description", "at most 255 characters of a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$*", all(maxBytes(255), matches(ec2DescriptionChars)), tf("internal/service/ec2/validate.go", "validSecurityGroupRuleDescription")},
	{tSecurityGroup, "ingress[].cidrBlocks[]", "a valid IPv4 CIDR whose address is the network address", ipv4CIDRNetwork, tf("internal/service/ec2/vpc_security_group.go", "securityGroupRuleNestedBlock cidr_blocks: verify.ValidIPv4CIDRNetworkAddress")},
	{tSecurityGroup, "egress[].cidrBlocks[]", "a valid IPv4 CIDR whose address is the network address", ipv4CIDRNetwork, tf("internal/service/ec2/vpc_security_group.go", "securityGroupRuleNestedBlock cidr_blocks: verify.ValidIPv4CIDRNetworkAddress")},
	{tSecurityGroup, "ingress[]", `fromPort and toPort both 0 with protocol "-1"`, allProtocolPortsZero, tf("internal/service/ec2/vpc_security_group.go", "expandIPPerms: from_port and to_port must both be 0 to use the 'ALL' \"-1\" protocol")},
	{tSecurityGroup, "egress[]", `fromPort and toPort both 0 with protocol "-1"`, allProtocolPortsZero, tf("internal/service/ec2/vpc_security_group.go", "expandIPPerms: from_port and to_port must both be 0 to use the 'ALL' \"-1\" protocol")},

	// aws_security_group_rule (internal/service/ec2/vpc_security_group_rule.go)
	{tSecurityGroupRule, "type", `"ingress" or "egress"`, oneOf("ingress", "egress"), tf("internal/service/ec2/vpc_security_group_rule.go", "type: enum securityGroupRuleType (consts.go)")},
	{tSecurityGroupRule, "description", "at most 255 characters", maxBytes(255), tf("internal/service/ec2/validate.go", "validSecurityGroupRuleDescription")},
	{tSecurityGroupRule, "description", "only letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*", matches(ec2DescriptionChars), tf("internal/service/ec2/validate.go", "validSecurityGroupRuleDescription; EC2 API IpRange Description https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html")},
	{tSecurityGroupRule, "cidrBlocks[]", "a valid IPv4 CIDR whose address is the network address", ipv4CIDRNetwork, tf("internal/service/ec2/vpc_security_group_rule.go", "cidr_blocks: verify.ValidIPv4CIDRNetworkAddress")},
	{tSecurityGroupRule, "ipv6CidrBlocks[]", "a valid IPv6 CIDR whose address is the network address", ipv6CIDRNetwork, tf("internal/service/ec2/vpc_security_group_rule.go", "ipv6_cidr_blocks: verify.ValidIPv6CIDRNetworkAddress")},
	{tSecurityGroupRule, "prefixListIds[]", "no empty prefix list id", nonEmpty, tf("internal/service/ec2/vpc_security_group_rule.go", "prefix_list_ids: validation.NoZeroValues")},
	{tSecurityGroupRule, "cidrBlocks", "conflicts with sourceSecurityGroupId and self", conflicts("sourceSecurityGroupId", "self"), tf("internal/service/ec2/vpc_security_group_rule.go", "cidr_blocks: ConflictsWith source_security_group_id, self")},
	{tSecurityGroupRule, "ipv6CidrBlocks", "conflicts with sourceSecurityGroupId and self", conflicts("sourceSecurityGroupId", "self"), tf("internal/service/ec2/vpc_security_group_rule.go", "ipv6_cidr_blocks: ConflictsWith source_security_group_id, self")},
	{tSecurityGroupRule, "sourceSecurityGroupId", "conflicts with self", conflicts("self"), tf("internal/service/ec2/vpc_security_group_rule.go", "source_security_group_id: ConflictsWith cidr_blocks, ipv6_cidr_blocks, self")},
	{tSecurityGroupRule, "*", "at least one of cidrBlocks, ipv6CidrBlocks, prefixListIds, self and sourceSecurityGroupId", atLeastOne("cidrBlocks", "ipv6CidrBlocks", "prefixListIds", "self", "sourceSecurityGroupId"), tf("internal/service/ec2/vpc_security_group_rule.go", "AtLeastOneOf cidr_blocks, ipv6_cidr_blocks, prefix_list_ids, self, source_security_group_id")},
	{tSecurityGroupRule, "protocol", "tcp, udp, icmp, icmpv6, all or -1, or a protocol number 0-255", ipProtocol, api("EC2 IpPermission IpProtocol (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html); the provider passes it on unchecked (protocolForValue)")},
	{tSecurityGroupRule, "fromPort", "for tcp and udp a port range 0-65535 with fromPort <= toPort", tcpUDPPortRange, api("EC2 IpPermission FromPort/ToPort (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html): AuthorizeSecurityGroupIngress/Egress refuse an invalid TCP/UDP port range")},
	{tSecurityGroupRule, "fromPort", "for icmp and icmpv6 an ICMP type -1-255 (and toPort an ICMP code -1-255)", icmpTypeCode, api("EC2 IpPermission FromPort/ToPort (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html)")},

	// aws_instance (internal/service/ec2/ec2_instance.go)
	{tInstance, "privateIp", "an IPv4 address", ipv4Address, tf("internal/service/ec2/ec2_instance.go", "private_ip: validation.IsIPv4Address")},
	{tInstance, "secondaryPrivateIps[]", "an IPv4 address", ipv4Address, tf("internal/service/ec2/ec2_instance.go", "secondary_private_ips: validation.IsIPv4Address")},
	{tInstance, "userData", "at most 16384 bytes", maxBytes(16384), tf("internal/service/ec2/ec2_instance.go", "user_data: StringLenBetween(0, 16384)")},
	{tInstance, "userData", "conflicts with userDataBase64", conflicts("userDataBase64"), tf("internal/service/ec2/ec2_instance.go", "user_data: ConflictsWith user_data_base64")},
	{tInstance, "userDataBase64", "valid base64", base64String, tf("internal/service/ec2/ec2_instance.go", "user_data_base64: verify.ValidBase64String")},
	{tInstance, "userDataBase64", "at most 16384 bytes once decoded", decodedMax(16384), "AWS EC2 user guide, Work with instance user data (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html): user data is limited to 16 KB, in raw form, before it is base64-encoded; the provider does not check user_data_base64's size"},
	{tInstance, "*", "at least one of instanceType and launchTemplate", atLeastOne("instanceType", "launchTemplate"), tf("internal/service/ec2/ec2_instance.go", "instance_type: AtLeastOneOf instance_type, launch_template")},
	{tInstance, "metadataOptions.httpEndpoint", `"enabled" or "disabled"`, oneOf("enabled", "disabled"), tf("internal/service/ec2/ec2_instance.go", "metadata_options.http_endpoint: enum InstanceMetadataEndpointState")},
	{tInstance, "metadataOptions.httpTokens", `"optional" or "required"`, oneOf("optional", "required"), tf("internal/service/ec2/ec2_instance.go", "metadata_options.http_tokens: enum HttpTokensState")},
	{tInstance, "metadataOptions.httpPutResponseHopLimit", "an integer 1-64", intBetween(1, 64), tf("internal/service/ec2/ec2_instance.go", "metadata_options.http_put_response_hop_limit: IntBetween(1, 64)")},
	{tInstance, "metadataOptions.httpProtocolIpv6", `"enabled" or "disabled"`, oneOf("enabled", "disabled"), tf("internal/service/ec2/ec2_instance.go", "metadata_options.http_protocol_ipv6: enum InstanceMetadataProtocolState")},
	{tInstance, "metadataOptions.instanceMetadataTags", `"enabled" or "disabled"`, oneOf("enabled", "disabled"), tf("internal/service/ec2/ec2_instance.go", "metadata_options.instance_metadata_tags: enum InstanceMetadataTagsState")},
	{tInstance, "rootBlockDevice.volumeType", "standard, io1, io2, gp2, sc1, st1 or gp3", oneOf("standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"), tf("internal/service/ec2/ec2_instance.go", "root_block_device.volume_type: enum VolumeType")},
	{tInstance, "rootBlockDevice.volumeSize", "a size the volume type allows: gp2 1-16384, gp3 1-65536, io1 4-16384, io2 4-65536, st1/sc1 125-16384, standard 1-1024 GiB", volumeSize("rootBlockDevice.volumeType"), api("EC2 CreateVolume Size (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html)")},
	{tInstance, "rootBlockDevice.tags", "conflicts with volumeTags", conflicts("volumeTags"), tf("internal/service/ec2/ec2_instance.go", "root_block_device.tags: tagsSchemaConflictsWith(volume_tags)")},
	{tInstance, "tenancy", "default, dedicated or host", oneOf("default", "dedicated", "host"), tf("internal/service/ec2/ec2_instance.go", "tenancy: enum Tenancy")},

	// aws_key_pair (internal/service/ec2/ec2_key_pair.go)
	{tKeyPair, "keyName", "at most 255 characters", maxBytes(255), tf("internal/service/ec2/ec2_key_pair.go", "key_name: StringLenBetween(0, 255)")},
	{tKeyPair, "keyNamePrefix", "at most 229 characters (255 minus the 26-character unique suffix)", maxBytes(255 - uniqueIDSuffixLength), tf("internal/service/ec2/ec2_key_pair.go", "key_name_prefix: StringLenBetween(0, 255-id.UniqueIDSuffixLength)")},
	{tKeyPair, "keyName", "conflicts with keyNamePrefix", conflicts("keyNamePrefix"), tf("internal/service/ec2/ec2_key_pair.go", "key_name: ConflictsWith key_name_prefix")},
	{tKeyPair, "publicKey", "a non-empty public key", nonEmpty, tf("internal/service/ec2/ec2_key_pair.go", "public_key: Required") + "; " + api("EC2 ImportKeyPair PublicKeyMaterial, required (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ImportKeyPair.html)")},

	// aws_elb (internal/service/elb/load_balancer.go, validate.go)
	{tLoadBalancer, "name", "at most 32 characters, only letters, digits and hyphens, not beginning or ending with a hyphen", elbName, tf("internal/service/elb/validate.go", "validName")},
	{tLoadBalancer, "namePrefix", "at most 6 characters, only letters, digits and hyphens, not beginning with a hyphen", elbNamePrefix, tf("internal/service/elb/validate.go", "validNamePrefix")},
	{tLoadBalancer, "name", "conflicts with namePrefix", conflicts("namePrefix"), tf("internal/service/elb/load_balancer.go", "name: ConflictsWith name_prefix")},
	{tLoadBalancer, "listeners[].instancePort", "a port 1-65535", intBetween(1, 65535), tf("internal/service/elb/load_balancer.go", "listener.instance_port: IntBetween(1, 65535)")},
	{tLoadBalancer, "listeners[].lbPort", "a port 1-65535", intBetween(1, 65535), tf("internal/service/elb/load_balancer.go", "listener.lb_port: IntBetween(1, 65535)")},
	{tLoadBalancer, "listeners[].instanceProtocol", "HTTP, HTTPS, SSL or TCP (any case)", oneOfFold("HTTP", "HTTPS", "SSL", "TCP"), tf("internal/service/elb/load_balancer.go", "validateListenerProtocol")},
	{tLoadBalancer, "listeners[].lbProtocol", "HTTP, HTTPS, SSL or TCP (any case)", oneOfFold("HTTP", "HTTPS", "SSL", "TCP"), tf("internal/service/elb/load_balancer.go", "validateListenerProtocol")},
	{tLoadBalancer, "listeners[].sslCertificateId", "an ARN", arnString, tf("internal/service/elb/load_balancer.go", "listener.ssl_certificate_id: verify.ValidARN")},
	{tLoadBalancer, "*", "at least one listener", atLeastOne("listeners"), tf("internal/service/elb/load_balancer.go", "listener: Required")},
	{tLoadBalancer, "healthCheck.healthyThreshold", "an integer 2-10", intBetween(2, 10), tf("internal/service/elb/load_balancer.go", "health_check.healthy_threshold: IntBetween(2, 10)")},
	{tLoadBalancer, "healthCheck.unhealthyThreshold", "an integer 2-10", intBetween(2, 10), tf("internal/service/elb/load_balancer.go", "health_check.unhealthy_threshold: IntBetween(2, 10)")},
	{tLoadBalancer, "healthCheck.interval", "an integer 5-300 (seconds)", intBetween(5, 300), tf("internal/service/elb/load_balancer.go", "health_check.interval: IntBetween(5, 300)")},
	{tLoadBalancer, "healthCheck.timeout", "an integer 2-60 (seconds)", intBetween(2, 60), tf("internal/service/elb/load_balancer.go", "health_check.timeout: IntBetween(2, 60)")},
	{tLoadBalancer, "healthCheck.timeout", "less than healthCheck.interval", lessThan("healthCheck.interval"), api("ELB HealthCheck Timeout (https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_HealthCheck.html): must be less than the Interval value")},
	{tLoadBalancer, "healthCheck.target", "PROTOCOL:PORT[PATH] with protocol TCP, SSL, HTTP or HTTPS, port 1-65535, a path for HTTP(S) (at most 1024 characters) and none for TCP/SSL", elbHealthTarget, tf("internal/service/elb/load_balancer.go", "validHeathCheckTarget")},
	{tLoadBalancer, "idleTimeout", "an integer 1-4000 (seconds)", intBetween(1, 4000), tf("internal/service/elb/load_balancer.go", "idle_timeout: IntBetween(1, 4000)")},
	{tLoadBalancer, "accessLogs.interval", "5 or 60 (minutes)", intIn(5, 60), tf("internal/service/elb/load_balancer.go", "access_logs.interval: validAccessLogsInterval")},
	{tLoadBalancer, "desyncMitigationMode", "monitor, defensive or strictest", oneOf("monitor", "defensive", "strictest"), tf("internal/service/elb/load_balancer.go", "desync_mitigation_mode: StringInSlice")},
	{tLoadBalancer, "connectionDrainingTimeout", "an integer 1-3600 (seconds)", intBetween(1, 3600), "AWS Classic Load Balancer user guide, Configure connection draining (https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/config-conn-drain.html): the timeout can be set between 1 and 3,600 seconds; the provider does not check it"},

	// aws_elb_attachment (internal/service/elb/attachment.go) validates
	// nothing itself; Create passes elb as RegisterInstancesWithLoadBalancer's
	// LoadBalancerName and instance as its one InstanceId.
	{tELBAttachment, "*", "both elb and instance", allOf("elb", "instance"), tf("internal/service/elb/attachment.go", "elb, instance: Required")},
	{tELBAttachment, "elb", "the ELB's name (at most 32 letters, digits and hyphens, no hyphen at either end), not its ARN or DNS name", all(nonEmpty, elbName), api("ELB RegisterInstancesWithLoadBalancer LoadBalancerName, the name of the load balancer (https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_RegisterInstancesWithLoadBalancer.html); a name is what internal/service/elb/validate.go validName allows")},
	{tELBAttachment, "instance", "an EC2 instance id: i- and 8 or 17 hexadecimal digits", matches(ec2InstanceID), "AWS EC2 user guide, Resource IDs (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html); RegisterInstancesWithLoadBalancer Instances.member.N.InstanceId"},

	// aws_iam_role (internal/service/iam/role.go, validate.go)
	{tRole, "name", "1-64 characters of letters, digits and +=,.@_-", iamName(64), tf("internal/service/iam/role.go", "name: validResourceName(roleNameMaxLen=64)")},
	{tRole, "namePrefix", "1-38 characters (64 minus the 26-character unique suffix) of letters, digits and +=,.@_-", iamName(64 - uniqueIDSuffixLength), tf("internal/service/iam/role.go", "name_prefix: validResourceName(roleNamePrefixMaxLen=roleNameMaxLen-UniqueIDSuffixLength)")},
	{tRole, "name", "conflicts with namePrefix", conflicts("namePrefix"), tf("internal/service/iam/role.go", "name: ConflictsWith name_prefix")},
	{tRole, "assumeRolePolicy", "a JSON object (a policy document)", iamPolicyJSON, tf("internal/verify/validate.go", "assume_role_policy: ValidIAMPolicyJSON")},
	{tRole, "description", "at most 1000 characters, without the typographic quotes “ ‘", all(maxBytes(1000), notContains("“", "‘")), tf("internal/service/iam/role.go", "description: StringLenBetween(0, 1000), StringDoesNotMatch([“‘])")},
	{tRole, "maxSessionDuration", "an integer 3600-43200 (seconds)", intBetween(3600, 43200), tf("internal/service/iam/role.go", "max_session_duration: IntBetween(3600, 43200)")},
	{tRole, "path", "at most 512 characters", maxBytes(512), tf("internal/service/iam/role.go", "path: StringLenBetween(0, 512)")},
	{tRole, "permissionsBoundary", "an ARN", arnString, tf("internal/service/iam/role.go", "permissions_boundary: verify.ValidARN")},

	// aws_iam_role_policy (internal/service/iam/role_policy.go, validate.go)
	{tRolePolicy, "name", "1-128 characters of letters, digits and +=,.@_-", iamName(128), tf("internal/service/iam/validate.go", "validRolePolicyName = validResourceName(rolePolicyNameMaxLen=128)")},
	{tRolePolicy, "namePrefix", "1-102 characters of letters, digits and +=,.@_-", iamName(128 - uniqueIDSuffixLength), tf("internal/service/iam/role_policy.go", "name_prefix: validResourceName(rolePolicyNamePrefixMaxLen)")},
	{tRolePolicy, "name", "conflicts with namePrefix", conflicts("namePrefix"), tf("internal/service/iam/role_policy.go", "name: ConflictsWith name_prefix")},
	{tRolePolicy, "policy", "a JSON object (a policy document)", iamPolicyJSON, tf("internal/verify/validate.go", "policy: ValidIAMPolicyJSON")},
	{tRolePolicy, "policy", "at most 10,240 characters, whitespace not counted (all inline policies of a role together)", inlinePolicySize, api("IAM and AWS STS quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): role policy size cannot exceed 10,240 characters")},
	{tRolePolicy, "role", "the role's name (1-128 characters), not its ARN", rolePolicyRole, tf("internal/service/iam/validate.go", "validRolePolicyRole")},

	// aws_iam_instance_profile (internal/service/iam/instance_profile.go)
	{tInstanceProfile, "name", "1-128 characters of letters, digits and +=,.@_-", iamName(128), tf("internal/service/iam/instance_profile.go", "name: validResourceName(instanceProfileNameMaxLen=128)")},
	{tInstanceProfile, "namePrefix", "1-102 characters (128 minus the 26-character unique suffix) of letters, digits and +=,.@_-", iamName(128 - uniqueIDSuffixLength), tf("internal/service/iam/instance_profile.go", "name_prefix: validResourceName(instanceProfileNamePrefixMaxLen)")},
	{tInstanceProfile, "name", "conflicts with namePrefix", conflicts("namePrefix"), tf("internal/service/iam/instance_profile.go", "name: ConflictsWith name_prefix")},

	// aws_ssm_parameter (internal/service/ssm/parameter.go)
	{tParameter, "name", "1-2048 characters", all(nonEmpty, maxBytes(2048)), tf("internal/service/ssm/parameter.go", "name: StringLenBetween(1, 2048)")},
	{tParameter, "name", "at most 1011 characters of a-zA-Z0-9_.-/, not starting with aws or ssm (any case), a leading / when hierarchical, at most 15 levels", ssmName, api("SSM PutParameter Name (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html)")},
	{tParameter, "type", "String, StringList or SecureString", oneOf("String", "StringList", "SecureString"), tf("internal/service/ssm/parameter.go", "type: enum ParameterType")},
	{tParameter, "tier", "Standard, Advanced or Intelligent-Tiering", oneOf("Standard", "Advanced", "Intelligent-Tiering"), tf("internal/service/ssm/parameter.go", "tier: enum ParameterTier")},
	{tParameter, "description", "at most 1024 characters", maxBytes(1024), tf("internal/service/ssm/parameter.go", "description: StringLenBetween(0, 1024)")},
	{tParameter, "allowedPattern", "at most 1024 characters", maxBytes(1024), tf("internal/service/ssm/parameter.go", "allowed_pattern: StringLenBetween(0, 1024)")},
	{tParameter, "dataType", "aws:ec2:image, aws:ssm:integration or text", oneOf("aws:ec2:image", "aws:ssm:integration", "text"), tf("internal/service/ssm/parameter.go", "data_type: StringInSlice")},
	{tParameter, "*", "exactly one of value and insecureValue", exactlyOneIn("value", "insecureValue"), tf("internal/service/ssm/parameter.go", "value, insecure_value: ExactlyOneOf")},
	{tParameter, "value", "at most 4096 characters in the Standard tier (8192 in Advanced)", ssmValueSize, api("SSM PutParameter Value (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html): standard parameters have a value limit of 4 KB, advanced 8 KB")},
}, tagRules()...)

// tagRules are the tag limits of each service's API; the provider's tags
// schema (tftags.TagsSchema) checks nothing itself.
func tagRules() []InputRule {
	ec2Src := api("EC2 Tag (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Tag.html)")
	var out []InputRule
	for _, t := range []struct{ typ, path string }{
		{tVpc, "tags"}, {tInternetGateway, "tags"}, {tSubnet, "tags"}, {tRouteTable, "tags"},
		{tSecurityGroup, "tags"}, {tKeyPair, "tags"}, {tInstance, "tags"}, {tInstance, "volumeTags"},
		{tInstance, "rootBlockDevice.tags"},
	} {
		out = append(out,
			InputRule{t.typ, t.path + "{key}", "a tag key of at most 127 characters, not beginning with aws:", all(maxRunes(127), notPrefix("aws:")), ec2Src},
			InputRule{t.typ, t.path + "{}", "a tag value of at most 256 characters", maxRunes(256), ec2Src},
		)
	}
	iamSrc := api("IAM Tag (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html)")
	for _, typ := range []string{tRole, tInstanceProfile} {
		out = append(out,
			InputRule{typ, "tags{key}", `a tag key of 1-128 characters matching [\p{L}\p{Z}\p{N}_.:/=+\-@]+`, all(maxRunes(128), matches(iamTagKey)), iamSrc},
			InputRule{typ, "tags{}", `a tag value of at most 256 characters matching [\p{L}\p{Z}\p{N}_.:/=+\-@]*`, all(maxRunes(256), matches(awsTagChars)), iamSrc},
		)
	}
	elbSrc := api("Elastic Load Balancing Tag (https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_Tag.html)")
	ssmSrc := api("Systems Manager Tag (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Tag.html)")
	for _, t := range []struct{ typ, src string }{{tLoadBalancer, elbSrc}, {tParameter, ssmSrc}} {
		out = append(out,
			InputRule{t.typ, "tags{key}", `a tag key of 1-128 characters matching [\p{L}\p{Z}\p{N}_.:/=+\-@]*`, all(nonEmpty, maxRunes(128), matches(awsTagChars)), t.src},
			InputRule{t.typ, "tags{}", `a tag value of at most 256 characters matching [\p{L}\p{Z}\p{N}_.:/=+\-@]*`, all(maxRunes(256), matches(awsTagChars)), t.src},
		)
	}
	return out
}

// Inputs are a resource's inputs as plain values: string, float64, bool,
// []any, map[string]any, or unknown for what is not known yet.
type Inputs map[string]any

type unknownValue struct{}

// unknown stands for a computed value not known during a preview.
var unknown any = unknownValue{}

// get returns the input at a dotted path of object properties.
func (in Inputs) get(path string) (any, bool) {
	var cur any = map[string]any(in)
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok || cur == nil {
			return nil, false
		}
	}
	return cur, true
}

// isSet reports whether v counts as given: present and not a zero value
// (false, "", an empty list or map). unknown counts as set.
func isSet(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// Violation is one input that breaks a rule.
type Violation struct {
	Rule  InputRule
	At    string // the input's concrete path, e.g. listeners[0].lbPort
	Value string // the value as printed (secrets hidden)
}

func (v Violation) String() string {
	return fmt.Sprintf("input %s = %s breaks the rule %q (%s)", v.At, v.Value, v.Rule.Rule, v.Rule.Source)
}

// CheckInputs returns the inputs of a registration that break InputRules.
// Types outside aws:* have no rules and pass; an aws:* type without rules is
// an error.
func CheckInputs(typ string, props resource.PropertyMap) ([]Violation, error) {
	if !strings.HasPrefix(typ, "aws:") {
		return nil, nil
	}
	var rules []InputRule
	for _, r := range InputRules {
		if r.Type == typ {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("no input rules for %s: add them from terraform-provider-aws %s internal/service/<service>/<resource>.go (ValidateFunc, ConflictsWith, ExactlyOneOf, AtLeastOneOf) and the AWS API reference to pulumimock.InputRules", typ, tfVersion)
	}
	secret := map[string]bool{}
	in := Inputs{}
	for k, v := range props {
		in[string(k)] = known(v, string(k), secret)
	}
	var out []Violation
	for _, r := range rules {
		for _, f := range find(map[string]any(in), r.Path, "") {
			if f.v == unknown || r.Check(f.v, in) {
				continue
			}
			out = append(out, Violation{Rule: r, At: f.at, Value: show(f.v, f.at, secret)})
		}
	}
	return out, nil
}

// ValidateInputs is CheckInputs as one error naming the resource and every
// broken rule, or nil.
func ValidateInputs(typ, name string, props resource.PropertyMap) error {
	vs, err := CheckInputs(typ, props)
	if err != nil {
		return fmt.Errorf("%s %q: %w", typ, name, err)
	}
	if len(vs) == 0 {
		return nil
	}
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.String()
	}
	return fmt.Errorf("%s %q: the AWS provider refuses its inputs:\n  %s", typ, name, strings.Join(lines, "\n  "))
}

// known converts a property value; values not known yet become unknown, and
// secret paths are recorded so errors never print them.
func known(v resource.PropertyValue, at string, secret map[string]bool) any {
	switch {
	case v.IsSecret():
		secret[at] = true
		return known(v.SecretValue().Element, at, secret)
	case v.IsComputed():
		return unknown
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret {
			secret[at] = true
		}
		if !o.Known {
			return unknown
		}
		return known(o.Element, at, secret)
	case v.IsNull():
		return nil
	case v.IsObject():
		m := map[string]any{}
		for k, e := range v.ObjectValue() {
			m[string(k)] = known(e, at+"."+string(k), secret)
		}
		return m
	case v.IsArray():
		a := []any{}
		for i, e := range v.ArrayValue() {
			a = append(a, known(e, fmt.Sprintf("%s[%d]", at, i), secret))
		}
		return a
	default:
		return v.V
	}
}

type found struct {
	at string // the concrete path, e.g. listeners[0].lbPort, tags["Name"]
	v  any
}

// find returns the values at a rule path; absent values yield nothing.
// ValidateInputs skips a value that is unknown; a whole-object rule
// ("routes[]", "*") may get an object with unknown members, and its check
// treats them as possibly anything.
func find(cur any, path, at string) []found {
	if path == "*" {
		return []found{{"(inputs)", cur}}
	}
	if path == "" {
		if cur == nil {
			return nil
		}
		return []found{{at, cur}}
	}
	if _, ok := cur.(unknownValue); ok {
		return nil
	}
	seg, rest, _ := strings.Cut(path, ".")
	join := func(k string) string {
		if at == "" {
			return k
		}
		return at + "." + k
	}
	switch {
	case strings.HasSuffix(seg, "[]"):
		k := strings.TrimSuffix(seg, "[]")
		m, _ := cur.(map[string]any)
		list, _ := m[k].([]any)
		var out []found
		for i, e := range list {
			out = append(out, find(e, rest, fmt.Sprintf("%s[%d]", join(k), i))...)
		}
		return out
	case strings.HasSuffix(seg, "{}"), strings.HasSuffix(seg, "{key}"):
		k := seg[:strings.Index(seg, "{")]
		m, _ := cur.(map[string]any)
		mm, _ := m[k].(map[string]any)
		keys := make([]string, 0, len(mm))
		for key := range mm {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		var out []found
		for _, key := range keys {
			if strings.HasSuffix(seg, "{key}") {
				out = append(out, found{fmt.Sprintf("%s key %q", join(k), key), key})
			} else {
				out = append(out, find(mm[key], rest, fmt.Sprintf("%s[%q]", join(k), key))...)
			}
		}
		return out
	default:
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		return find(m[seg], rest, join(seg))
	}
}

// show prints a value for an error, hiding secrets.
func show(v any, at string, secret map[string]bool) string {
	for p := range secret {
		if at == p || strings.HasPrefix(at, p+".") || strings.HasPrefix(at, p+"[") {
			return "[secret]"
		}
	}
	s := fmt.Sprintf("%#v", v)
	if str, ok := v.(string); ok {
		s = strconv.Quote(str)
	}
	if len(s) > 160 {
		s = s[:160] + fmt.Sprintf("... (%d characters)", len(s))
	}
	return s
}

// Checks. Each reports whether a value is acceptable.

type check = func(v any, in Inputs) bool

func str(f func(string) bool) check {
	return func(v any, _ Inputs) bool {
		s, ok := v.(string)
		return ok && f(s)
	}
}

func integer(f func(int) bool) check {
	return func(v any, _ Inputs) bool {
		n, ok := v.(float64)
		return ok && n == float64(int(n)) && f(int(n))
	}
}

func all(cs ...check) check {
	return func(v any, in Inputs) bool {
		for _, c := range cs {
			if !c(v, in) {
				return false
			}
		}
		return true
	}
}

func matches(re *regexp.Regexp) check { return str(re.MatchString) }
func maxBytes(n int) check            { return str(func(s string) bool { return len(s) <= n }) }
func maxRunes(n int) check {
	return str(func(s string) bool { return utf8.RuneCountInString(s) <= n })
}
func notPrefix(p string) check {
	return str(func(s string) bool { return !strings.HasPrefix(s, p) })
}
func notContains(subs ...string) check {
	return str(func(s string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return false
			}
		}
		return true
	})
}

var nonEmpty = str(func(s string) bool { return s != "" })

func oneOf(vals ...string) check {
	return str(func(s string) bool {
		for _, v := range vals {
			if s == v {
				return true
			}
		}
		return false
	})
}

func oneOfFold(vals ...string) check {
	return str(func(s string) bool {
		for _, v := range vals {
			if strings.EqualFold(s, v) {
				return true
			}
		}
		return false
	})
}

func intBetween(min, max int) check {
	return integer(func(n int) bool { return min <= n && n <= max })
}

func intIn(vals ...int) check {
	return integer(func(n int) bool {
		for _, v := range vals {
			if n == v {
				return true
			}
		}
		return false
	})
}

// conflicts: the property may not be given with any of others. As in
// Terraform, an unknown other value defers the check.
func conflicts(others ...string) check {
	return func(_ any, in Inputs) bool {
		for _, o := range others {
			if v, ok := in.get(o); ok && v != unknown && isSet(v) {
				return false
			}
		}
		return true
	}
}

// atLeastOne: one of keys (of the inputs) is given; unknown counts.
func atLeastOne(keys ...string) check {
	return func(v any, _ Inputs) bool {
		m, _ := v.(map[string]any)
		for _, k := range keys {
			if isSet(m[k]) {
				return true
			}
		}
		return false
	}
}

// allOf: every one of keys (of the inputs) is given; unknown counts.
func allOf(keys ...string) check {
	return func(v any, _ Inputs) bool {
		m, _ := v.(map[string]any)
		for _, k := range keys {
			if !isSet(m[k]) {
				return false
			}
		}
		return true
	}
}

// exactlyOneIn: exactly one of keys of the object v is given. With unknown
// members the count is not known, so only a sure breach fails.
func exactlyOneIn(keys ...string) check {
	return func(v any, _ Inputs) bool {
		m, _ := v.(map[string]any)
		sure, maybe := 0, 0
		for _, k := range keys {
			switch e := m[k]; {
			case e == unknown:
				maybe++
			case isSet(e):
				sure++
			}
		}
		return sure <= 1 && sure+maybe >= 1
	}
}

func lessThan(other string) check {
	return func(v any, in Inputs) bool {
		o, ok := in.get(other)
		if !ok || o == unknown {
			return true
		}
		a, ok1 := v.(float64)
		b, ok2 := o.(float64)
		return ok1 && ok2 && a < b
	}
}

// ipv4CIDRNetwork is internal/types/cidr_block.go ValidateIPv4CIDRBlock:
// parses, is IPv4, and is written as its network (10.0.0.0/16, not
// 10.0.0.1/16).
var ipv4CIDRNetwork = str(func(s string) bool {
	ip, ipnet, err := net.ParseCIDR(s)
	return err == nil && ip.To4() != nil && ipnet.String() == s
})

// cidrNetworkAddress is internal/verify/validate.go ValidCIDRNetworkAddress
// (types.ValidateCIDRBlock): an IPv4 or IPv6 CIDR that parses and is written
// as its network address.
var cidrNetworkAddress = str(func(s string) bool {
	ip, ipnet, err := net.ParseCIDR(s)
	return err == nil && ipnet.IP.Equal(ip)
})

var ipv6CIDRNetwork = str(func(s string) bool {
	ip, ipnet, err := net.ParseCIDR(s)
	return err == nil && ip.To4() == nil && ipnet.IP.Equal(ip)
})

// cidrNetwork is terraform-plugin-sdk validation.IsCIDRNetwork(min, max).
func cidrNetwork(min, max int) check {
	return str(func(s string) bool {
		_, ipnet, err := net.ParseCIDR(s)
		if err != nil || ipnet.String() != s {
			return false
		}
		bits, _ := ipnet.Mask.Size()
		return min <= bits && bits <= max
	})
}

var ipv4Address = str(func(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.To4() != nil && !strings.Contains(s, ":")
})

var base64String = str(func(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
})

// decodedMax: base64 that decodes to at most n bytes (undecodable values
// are the base64 rule's to refuse).
func decodedMax(n int) check {
	return str(func(s string) bool {
		b, err := base64.StdEncoding.DecodeString(s)
		return err != nil || len(b) <= n
	})
}

var arnString = str(func(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] != "" && parts[5] != ""
})

var elbName = str(func(s string) bool {
	return s == "" || len(s) <= 32 && elbNameChars.MatchString(s) && !strings.HasPrefix(s, "-") && !strings.HasSuffix(s, "-")
})

var elbNamePrefix = str(func(s string) bool {
	return len(s) <= 6 && elbNameChars.MatchString(s) && !strings.HasPrefix(s, "-")
})

var elbHealthTarget = str(func(s string) bool {
	m := elbTarget.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	port, _ := strconv.Atoi(m[2])
	if port < 1 || port > 65535 {
		return false
	}
	switch strings.ToLower(m[1]) {
	case "tcp", "ssl":
		return m[3] == ""
	case "http", "https":
		return m[3] != "" && utf8.RuneCountInString(m[3]) <= 1024
	}
	return false
})

func iamName(max int) check {
	return str(func(s string) bool { return len(s) >= 1 && len(s) <= max && iamNameChars.MatchString(s) })
}

// iamPolicyJSON is internal/verify/validate.go ValidIAMPolicyJSON: a JSON
// object, nothing else.
var iamPolicyJSON = str(func(s string) bool {
	s = strings.TrimSpace(s)
	var obj map[string]any
	return strings.HasPrefix(s, "{") && json.Unmarshal([]byte(s), &obj) == nil
})

var inlinePolicySize = str(func(s string) bool {
	n := 0
	for _, r := range s {
		if !strings.ContainsRune(" \t\r\n", r) {
			n++
		}
	}
	return n <= 10240
})

var rolePolicyRoleChars = regexp.MustCompile(`[\w+=,.@-]+`)

var rolePolicyRole = str(func(s string) bool {
	return len(s) >= 1 && len(s) <= 128 && rolePolicyRoleChars.MatchString(s) && !arnString(s, nil)
})

var ssmName = str(func(s string) bool {
	if len(s) > 1011 || !ssmNameChars.MatchString(s) {
		return false
	}
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		return false
	}
	if strings.Contains(s, "/") {
		if !strings.HasPrefix(s, "/") {
			return false
		}
		if strings.Count(s, "/") > 15 {
			return false
		}
	}
	return true
})

func ssmValueSize(v any, in Inputs) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	limit := 4096
	if tier, ok := in.get("tier"); ok && tier != "Standard" {
		limit = 8192
	}
	return len(s) <= limit
}

// ipProtocol: a name or number EC2 accepts (names in any case, as the
// provider's protocolForValue lower-cases them).
var ipProtocol = str(func(s string) bool {
	switch strings.ToLower(s) {
	case "tcp", "udp", "icmp", "icmpv6", "all", "-1":
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && 0 <= n && n <= 255
})

func protocolOf(in Inputs) (string, bool) {
	p, ok := in.get("protocol")
	s, isStr := p.(string)
	if !ok || !isStr {
		return "", false
	}
	switch s = strings.ToLower(s); s {
	case "6":
		s = "tcp"
	case "17":
		s = "udp"
	case "1":
		s = "icmp"
	case "58":
		s = "icmpv6"
	}
	return s, true
}

func tcpUDPPortRange(v any, in Inputs) bool {
	p, ok := protocolOf(in)
	if !ok || (p != "tcp" && p != "udp") {
		return true
	}
	to, ok := in.get("toPort")
	if !ok || to == unknown {
		return true
	}
	from, ok1 := v.(float64)
	t, ok2 := to.(float64)
	return ok1 && ok2 && 0 <= from && from <= t && t <= 65535
}

func icmpTypeCode(v any, in Inputs) bool {
	p, ok := protocolOf(in)
	if !ok || (p != "icmp" && p != "icmpv6") {
		return true
	}
	from, _ := v.(float64)
	to, ok := in.get("toPort")
	t, isNum := to.(float64)
	return -1 <= from && from <= 255 && (!ok || to == unknown || isNum && -1 <= t && t <= 255)
}

// allProtocolPortsZero is for an inline rule element of aws_security_group.
func allProtocolPortsZero(v any, _ Inputs) bool {
	m, _ := v.(map[string]any)
	p, _ := m["protocol"].(string)
	if p = strings.ToLower(p); p != "-1" && p != "all" {
		return true
	}
	from, _ := m["fromPort"].(float64)
	to, _ := m["toPort"].(float64)
	return m["fromPort"] == unknown || m["toPort"] == unknown || from == 0 && to == 0
}

// volumeSize checks a size against the range of the sibling volume type;
// without a type (the AMI's then applies) only the widest range does. 0
// means unset.
func volumeSize(typePath string) check {
	ranges := map[string][2]int{
		"gp2": {1, 16384}, "gp3": {1, 65536}, "io1": {4, 16384}, "io2": {4, 65536},
		"st1": {125, 16384}, "sc1": {125, 16384}, "standard": {1, 1024},
	}
	return func(v any, in Inputs) bool {
		n, ok := v.(float64)
		if !ok || n != float64(int(n)) {
			return false
		}
		if n == 0 { // the provider leaves VolumeSize out
			return true
		}
		r := [2]int{1, 65536}
		if t, ok := in.get(typePath); ok {
			if t == unknown {
				return true
			}
			if tr, ok := ranges[t.(string)]; ok {
				r = tr
			}
		}
		return r[0] <= int(n) && int(n) <= r[1]
	}
}
