package pulumimock

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// baseline is a valid registration of each type, shaped as the program
// registers it.
func baseline(typ string) map[string]any {
	ec2Tags := map[string]any{"Name": "dev-vpc", "marathon-ha:project": "marathon-ha", "marathon-ha:stack": "dev", "marathon-ha:cluster-id": "mha-1a2b3c4d", "marathon-ha:role": "network"}
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Action":["ec2:DescribeVolumes"],"Resource":["*"]}]}`
	switch typ {
	case tVpc:
		return map[string]any{"cidrBlock": "10.42.0.0/16", "enableDnsSupport": true, "enableDnsHostnames": true, "tags": ec2Tags}
	case tInternetGateway:
		return map[string]any{"vpcId": "vpc-1", "tags": ec2Tags}
	case tSubnet:
		return map[string]any{"vpcId": "vpc-1", "cidrBlock": "10.42.1.0/24", "availabilityZone": "us-east-1a", "mapPublicIpOnLaunch": true, "tags": ec2Tags}
	case tSubnetCidrReservation:
		return map[string]any{"subnetId": "subnet-1", "cidrBlock": "10.42.1.10/32", "reservationType": "explicit", "description": "marathon-ha master private address 10.42.1.10"}
	case tELBAttachment:
		return map[string]any{"elb": "dev-mha-1a2b3c4d", "instance": "i-0123456789abcdef0"}
	case tRouteTable:
		return map[string]any{"vpcId": "vpc-1", "routes": []any{map[string]any{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}}, "tags": ec2Tags}
	case tRouteTableAssociation:
		return map[string]any{"subnetId": "subnet-1", "routeTableId": "rtb-1"}
	case tSecurityGroup:
		return map[string]any{"vpcId": "vpc-1", "namePrefix": "dev-mha-1a2b3c4d-master-", "description": "marathon-ha master: ZooKeeper, Mesos master, Marathon, Flocker control", "tags": ec2Tags}
	case tSecurityGroupRule:
		return map[string]any{"securityGroupId": "sg-1", "type": "ingress", "fromPort": 22, "toPort": 22, "protocol": "tcp", "description": "operator SSH to the master", "cidrBlocks": []any{"203.0.113.7/32"}}
	case tInstance:
		return map[string]any{
			"ami": "ami-1", "instanceType": "t3.medium", "subnetId": "subnet-1", "vpcSecurityGroupIds": []any{"sg-1"},
			"keyName": "k", "iamInstanceProfile": "p", "userData": "#!/bin/bash\n", "userDataReplaceOnChange": true, "privateIp": "10.42.1.10",
			"metadataOptions": map[string]any{"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1},
			"rootBlockDevice": map[string]any{"encrypted": true, "volumeType": "gp3", "volumeSize": 30, "deleteOnTermination": true, "tags": ec2Tags},
			"tags":            ec2Tags,
		}
	case tKeyPair:
		return map[string]any{"keyNamePrefix": "dev-mha-1a2b3c4d-ssh-", "publicKey": "ssh-ed25519 AAAAC3Nza op@example", "tags": ec2Tags}
	case tLoadBalancer:
		return map[string]any{
			"name": "dev-mha-1a2b3c4d", "subnets": []any{"subnet-1"}, "securityGroups": []any{"sg-1"},
			"listeners":   []any{map[string]any{"lbPort": 80, "lbProtocol": "http", "instancePort": 31080, "instanceProtocol": "http"}},
			"healthCheck": map[string]any{"target": "HTTP:31080/v1/ping", "interval": 5, "timeout": 2, "healthyThreshold": 2, "unhealthyThreshold": 2},
			"instances":   []any{"i-1"}, "crossZoneLoadBalancing": true, "connectionDraining": true, "connectionDrainingTimeout": 5, "tags": ec2Tags,
		}
	case tRole:
		return map[string]any{"namePrefix": "dev-mha-1a2b3c4d-agents-", "assumeRolePolicy": policy, "tags": ec2Tags}
	case tRolePolicy:
		return map[string]any{"role": "dev-mha-1a2b3c4d-agents-2026", "policy": policy}
	case tInstanceProfile:
		return map[string]any{"namePrefix": "dev-mha-1a2b3c4d-agents-", "role": "dev-mha-1a2b3c4d-agents-2026", "tags": ec2Tags}
	case tParameter:
		return map[string]any{"name": "/marathon-ha/mha-1a2b3c4d/master/cluster.crt", "type": "SecureString", "value": "-----BEGIN CERTIFICATE-----", "description": "Flocker credential of the marathon-ha master (read at boot by its instance profile)", "tags": ec2Tags}
	}
	if b := autoscalingBaseline(typ, ec2Tags); b != nil {
		return b
	}
	panic("no baseline for " + typ)
}

var del = struct{ deleted bool }{true}

// multi sets several paths at once.
type multi map[string]any

func apply(m map[string]any, path string, v any) {
	if mv, ok := v.(multi); ok {
		for p, v := range mv {
			set(m, p, v)
		}
		return
	}
	set(m, path, v)
}

func mockArgs(typ, name string, in resource.PropertyMap) pulumi.MockResourceArgs {
	return pulumi.MockResourceArgs{TypeToken: typ, Name: name, Inputs: in, Custom: true}
}

var pathStep = regexp.MustCompile(`^([A-Za-z0-9]+)(?:\[(\d+)\])?$`)

// set sets (or, with del, deletes) a dotted path with [i] indices. A map
// key with dots is written tags.'aws:x'.
func set(m map[string]any, path string, v any) {
	var parts []string
	for rest := path; rest != ""; {
		if strings.HasPrefix(rest, "'") {
			end := strings.Index(rest[1:], "'") + 1
			parts = append(parts, rest[1:end])
			rest = strings.TrimPrefix(rest[end+1:], ".")
			continue
		}
		p, r, _ := strings.Cut(rest, ".")
		parts, rest = append(parts, p), r
	}
	cur := m
	for i, p := range parts {
		last := i == len(parts)-1
		key, idx := p, -1
		if g := pathStep.FindStringSubmatch(p); g != nil && g[2] != "" {
			key = g[1]
			idx, _ = strconv.Atoi(g[2])
		}
		if idx >= 0 {
			list := cur[key].([]any)
			if last {
				list[idx] = v
				continue
			}
			cur = list[idx].(map[string]any)
			continue
		}
		if last {
			if v == del {
				delete(cur, key)
			} else {
				cur[key] = v
			}
			continue
		}
		next, ok := cur[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[key] = next
		}
		cur = next
	}
}

// deepCopy copies through JSON (numbers become float64, as Pulumi's are).
func deepCopy(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func props(m map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(m) }

func ruleKey(r InputRule) string { return r.Type + " " + r.Path + " " + r.Rule }

// ruleCase breaks one rule: setting set to bad must break the rule at
// (Type, Path) whose text contains rule; setting it to good must leave the
// registration valid.
type ruleCase struct {
	typ, path, rule string
	set             string
	bad, good       any
}

var long = strings.Repeat

var ruleCases = []ruleCase{
	{tVpc, "cidrBlock", "valid IPv4 network", "cidrBlock", "10.0.0.1/16", "10.0.0.0/16"},
	{tVpc, "cidrBlock", "valid IPv4 network", "cidrBlock", "10.0.0.0/8", "10.0.0.0/28"},
	{tVpc, "instanceTenancy", "dedicated", "instanceTenancy", "host", "dedicated"},
	{tVpc, "cidrBlock", "conflicts", "ipv4NetmaskLength", 16, del},
	{tVpc, "tags{key}", "127", "tags." + long("k", 128), "v", del},
	{tVpc, "tags{key}", "aws:", "tags.'aws:created-by'", "me", del},
	{tVpc, "tags{}", "256", "tags.Name", long("v", 257), long("v", 256)},
	{tInternetGateway, "tags{}", "256", "tags.Name", long("v", 257), "igw"},
	{tInternetGateway, "tags{key}", "127", "tags." + long("k", 128), "v", del},

	{tSubnet, "cidrBlock", "network address", "cidrBlock", "10.42.1.1/24", "10.42.1.0/24"},
	{tSubnet, "cidrBlock", "/16 to /28", "cidrBlock", "10.42.1.0/29", "10.42.1.0/28"},
	{tSubnet, "availabilityZone", "conflicts", "availabilityZoneId", "use1-az1", del},
	{tSubnet, "ipv6CidrBlock", "IPv6", "ipv6CidrBlock", "2001:db8::1/64", "2001:db8::/64"},
	{tSubnet, "tags{}", "256", "tags.Name", long("v", 257), "ok"},
	{tSubnet, "tags{key}", "127", "tags." + long("k", 128), "v", del},

	{tSubnetCidrReservation, "*", "all of", "subnetId", del, "subnet-2"},
	{tSubnetCidrReservation, "*", "all of", "reservationType", del, "prefix"},
	{tSubnetCidrReservation, "*", "all of", "cidrBlock", del, "10.42.1.16/28"},
	{tSubnetCidrReservation, "cidrBlock", "network address", "cidrBlock", "10.42.1.10/28", "10.42.1.0/28"},
	{tSubnetCidrReservation, "cidrBlock", "network address", "cidrBlock", "2001:db8::1/64", "2001:db8::/64"},
	{tSubnetCidrReservation, "cidrBlock", "network address", "cidrBlock", "10.42.1.10", "10.42.1.10/32"},
	{tSubnetCidrReservation, "reservationType", "explicit", "reservationType", "Explicit", "prefix"},

	{tRouteTable, "routes[].cidrBlock", "IPv4", "routes[0].cidrBlock", "0.0.0.1/0", "0.0.0.0/0"},
	{tRouteTable, "routes[].ipv6CidrBlock", "IPv6", "routes[0].ipv6CidrBlock", "::1/0", del},
	{tRouteTable, "routes[]", "one destination", "routes[0].destinationPrefixListId", "pl-1", del},
	{tRouteTable, "routes[]", "one target", "routes[0].natGatewayId", "nat-1", del},
	{tRouteTable, "routes[]", "one target", "routes[0].gatewayId", del, "igw-1"},
	{tRouteTable, "tags{}", "256", "tags.Name", long("v", 257), "rt"},
	{tRouteTable, "tags{key}", "127", "tags." + long("k", 128), "v", del},

	{tRouteTableAssociation, "*", "exactly one", "gatewayId", "igw-1", del},
	{tRouteTableAssociation, "*", "exactly one", "subnetId", del, "subnet-1"},

	{tSecurityGroup, "name", "at most 255", "name", long("n", 256), del},
	{tSecurityGroup, "name", "at most 255", "name", "sg-master", del},
	{tSecurityGroup, "namePrefix", "229", "namePrefix", long("n", 230), long("n", 229)},
	{tSecurityGroup, "namePrefix", "229", "namePrefix", "sg-master-", "master-"},
	{tSecurityGroup, "name", "conflicts", "name", "master", del},
	{tSecurityGroup, "description", "at most 255", "description", long("d", 256), long("d", 255)},
	{tSecurityGroup, "description", "only a-z", "description", "the master's group", "the master group"},
	{tSecurityGroup, "name", "only a-z", "name", "master's", del},
	{tSecurityGroup, "namePrefix", "only a-z", "namePrefix", "master's-", "master-"},
	{tSecurityGroup, "ingress[].description", "at most 255", "ingress", []any{map[string]any{"description": "it's SSH", "protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": []any{"10.0.0.0/8"}}}, []any{map[string]any{"description": "SSH", "protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": []any{"10.0.0.0/8"}}}},
	{tSecurityGroup, "egress[].description", "at most 255", "egress", []any{map[string]any{"description": "it's all", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": []any{"0.0.0.0/0"}}}, []any{map[string]any{"description": "all", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": []any{"0.0.0.0/0"}}}},
	{tSecurityGroup, "ingress[].cidrBlocks[]", "IPv4", "ingress", []any{map[string]any{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": []any{"10.0.0.1/8"}}}, del},
	{tSecurityGroup, "egress[].cidrBlocks[]", "IPv4", "egress", []any{map[string]any{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": []any{"0.0.0.0/33"}}}, del},
	{tSecurityGroup, "ingress[]", "both 0", "ingress", []any{map[string]any{"protocol": "-1", "fromPort": 0, "toPort": 65535, "cidrBlocks": []any{"10.0.0.0/8"}}}, []any{map[string]any{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": []any{"10.0.0.0/8"}}}},
	{tSecurityGroup, "egress[]", "both 0", "egress", []any{map[string]any{"protocol": "all", "fromPort": 1, "toPort": 0, "cidrBlocks": []any{"0.0.0.0/0"}}}, del},
	{tSecurityGroup, "tags{}", "256", "tags.Name", long("v", 257), "sg"},
	{tSecurityGroup, "tags{key}", "aws:", "tags.'aws:x'", "v", del},

	{tSecurityGroupRule, "type", "ingress", "type", "inbound", "egress"},
	{tSecurityGroupRule, "description", "at most 255", "description", long("d", 256), long("d", 255)},
	{tSecurityGroupRule, "description", "only letters", "description", "the operator's SSH", "SSH of the operator: (tcp/22) #1, @home [a+b=c&d;{e}!$*]"},
	{tSecurityGroupRule, "cidrBlocks[]", "IPv4", "cidrBlocks", []any{"10.0.0.1/16"}, []any{"10.0.0.0/16"}},
	{tSecurityGroupRule, "cidrBlocks[]", "IPv4", "cidrBlocks", []any{"2001:db8::/32"}, []any{"0.0.0.0/0"}},
	{tSecurityGroupRule, "ipv6CidrBlocks[]", "IPv6", "ipv6CidrBlocks", []any{"2001:db8::1/32"}, []any{"2001:db8::/32"}},
	{tSecurityGroupRule, "prefixListIds[]", "empty", "prefixListIds", []any{""}, []any{"pl-1"}},
	{tSecurityGroupRule, "cidrBlocks", "conflicts", "sourceSecurityGroupId", "sg-2", del},
	{tSecurityGroupRule, "cidrBlocks", "conflicts", "self", true, false},
	{tSecurityGroupRule, "ipv6CidrBlocks", "conflicts", "-", multi{"ipv6CidrBlocks": []any{"::/0"}, "self": true}, multi{"ipv6CidrBlocks": []any{"::/0"}}},
	{tSecurityGroupRule, "sourceSecurityGroupId", "conflicts", "-", multi{"cidrBlocks": del, "sourceSecurityGroupId": "sg-2", "self": true}, multi{"cidrBlocks": del, "sourceSecurityGroupId": "sg-2"}},
	{tSecurityGroupRule, "*", "at least one", "cidrBlocks", del, []any{"0.0.0.0/0"}},
	{tSecurityGroupRule, "protocol", "protocol number", "protocol", "tcpx", "TCP"},
	{tSecurityGroupRule, "protocol", "protocol number", "protocol", "256", "6"},
	{tSecurityGroupRule, "fromPort", "fromPort <= toPort", "fromPort", 8080, 0},
	{tSecurityGroupRule, "fromPort", "fromPort <= toPort", "fromPort", -1, 22},
	{tSecurityGroupRule, "fromPort", "ICMP type", "-", multi{"protocol": "icmp", "fromPort": 300, "toPort": 0}, multi{"protocol": "icmp", "fromPort": 8, "toPort": 0}},
	{tSecurityGroupRule, "fromPort", "ICMP type", "-", multi{"protocol": "58", "fromPort": -1, "toPort": 256}, multi{"protocol": "icmpv6", "fromPort": -1, "toPort": -1}},

	{tInstance, "privateIp", "IPv4", "privateIp", "10.42.1.300", "10.42.1.11"},
	{tInstance, "secondaryPrivateIps[]", "IPv4", "secondaryPrivateIps", []any{"fe80::1"}, []any{"10.42.1.12"}},
	{tInstance, "userData", "16384", "userData", long("x", 16385), long("x", 16384)},
	{tInstance, "userData", "conflicts", "userDataBase64", "IyEvYmluL2Jhc2gK", del},
	{tInstance, "userDataBase64", "base64", "-", multi{"userData": del, "userDataBase64": "#!/bin/bash"}, multi{"userData": del, "userDataBase64": "IyEvYmluL2Jhc2gK"}},
	{tInstance, "userDataBase64", "decoded", "-", multi{"userData": del, "userDataBase64": base64.StdEncoding.EncodeToString([]byte(long("x", 16385)))}, multi{"userData": del, "userDataBase64": base64.StdEncoding.EncodeToString([]byte(long("x", 16384)))}},
	{tInstance, "*", "instanceType", "instanceType", del, "t3.small"},
	{tInstance, "metadataOptions.httpEndpoint", "enabled", "metadataOptions.httpEndpoint", "on", "disabled"},
	{tInstance, "metadataOptions.httpTokens", "optional", "metadataOptions.httpTokens", "always", "optional"},
	{tInstance, "metadataOptions.httpPutResponseHopLimit", "1-64", "metadataOptions.httpPutResponseHopLimit", 65, 64},
	{tInstance, "metadataOptions.httpPutResponseHopLimit", "1-64", "metadataOptions.httpPutResponseHopLimit", 0, 2},
	{tInstance, "metadataOptions.httpProtocolIpv6", "enabled", "metadataOptions.httpProtocolIpv6", "yes", "enabled"},
	{tInstance, "metadataOptions.instanceMetadataTags", "enabled", "metadataOptions.instanceMetadataTags", "on", "disabled"},
	{tInstance, "rootBlockDevice.volumeType", "gp3", "rootBlockDevice.volumeType", "gp4", "gp2"},
	{tInstance, "rootBlockDevice.volumeSize", "gp2 1-16384", "rootBlockDevice.volumeSize", 65537, 65536},
	{tInstance, "rootBlockDevice.tags", "conflicts", "volumeTags", map[string]any{"a": "b"}, del},
	{tInstance, "tenancy", "dedicated", "tenancy", "shared", "default"},
	{tInstance, "tags{key}", "127", "tags." + long("k", 128), "v", del},
	{tInstance, "tags{}", "256", "tags.Name", long("v", 257), "agent-1"},
	{tInstance, "volumeTags{key}", "aws:", "volumeTags.'aws:x'", "v", del},
	{tInstance, "volumeTags{}", "256", "volumeTags", map[string]any{"a": long("v", 257)}, del},
	{tInstance, "rootBlockDevice.tags{key}", "aws:", "rootBlockDevice.tags.'aws:x'", "v", del},
	{tInstance, "rootBlockDevice.tags{}", "256", "rootBlockDevice.tags.Name", long("v", 257), "root"},

	{tKeyPair, "keyName", "at most 255", "keyName", long("k", 256), del},
	{tKeyPair, "keyNamePrefix", "229", "keyNamePrefix", long("k", 230), long("k", 229)},
	{tKeyPair, "keyName", "conflicts", "keyName", "ssh", del},
	{tKeyPair, "publicKey", "non-empty", "publicKey", "", "ssh-rsa AAAAB3Nza op"},
	{tKeyPair, "tags{}", "256", "tags.Name", long("v", 257), "ssh"},
	{tKeyPair, "tags{key}", "127", "tags." + long("k", 128), "v", del},

	{tLoadBalancer, "name", "32", "name", "a-forty-character-stack-name-for-", "a-forty-character-stack-name-for"},
	{tLoadBalancer, "name", "32", "name", "-dev-mha", "dev-mha"},
	{tLoadBalancer, "name", "32", "name", "dev-mha-", "dev-mha-1"},
	{tLoadBalancer, "name", "32", "name", "dev_mha", "dev-mha"},
	{tLoadBalancer, "namePrefix", "6", "namePrefix", "dev-mha", del},
	{tLoadBalancer, "namePrefix", "6", "namePrefix", "-dev", del},
	{tLoadBalancer, "name", "conflicts", "namePrefix", "dev-", del},
	{tLoadBalancer, "listeners[].instancePort", "1-65535", "listeners[0].instancePort", 0, 1},
	{tLoadBalancer, "listeners[].lbPort", "1-65535", "listeners[0].lbPort", 65536, 65535},
	{tLoadBalancer, "listeners[].instanceProtocol", "HTTP", "listeners[0].instanceProtocol", "udp", "TCP"},
	{tLoadBalancer, "listeners[].lbProtocol", "HTTP", "listeners[0].lbProtocol", "http2", "HTTP"},
	{tLoadBalancer, "listeners[].sslCertificateId", "ARN", "listeners[0].sslCertificateId", "my-cert", "arn:aws:iam::123456789012:server-certificate/c"},
	{tLoadBalancer, "*", "listener", "listeners", []any{}, []any{map[string]any{"lbPort": 443, "lbProtocol": "TCP", "instancePort": 443, "instanceProtocol": "TCP"}}},
	{tLoadBalancer, "healthCheck.healthyThreshold", "2-10", "healthCheck.healthyThreshold", 11, 10},
	{tLoadBalancer, "healthCheck.unhealthyThreshold", "2-10", "healthCheck.unhealthyThreshold", 1, 3},
	{tLoadBalancer, "healthCheck.interval", "5-300", "healthCheck.interval", 4, 300},
	{tLoadBalancer, "healthCheck.interval", "5-300", "healthCheck.interval", 301, 30},
	{tLoadBalancer, "healthCheck.timeout", "2-60", "healthCheck.timeout", 61, 4},
	{tLoadBalancer, "healthCheck.timeout", "less than", "healthCheck.timeout", 5, 4},
	{tLoadBalancer, "healthCheck.target", "PROTOCOL:PORT", "healthCheck.target", "HTTP:31080", "TCP:31080"},
	{tLoadBalancer, "healthCheck.target", "PROTOCOL:PORT", "healthCheck.target", "TCP:31080/v1/ping", "HTTPS:443/"},
	{tLoadBalancer, "healthCheck.target", "PROTOCOL:PORT", "healthCheck.target", "FTP:21", "SSL:443"},
	{tLoadBalancer, "healthCheck.target", "PROTOCOL:PORT", "healthCheck.target", "HTTP:0/x", "http:65535/x"},
	{tLoadBalancer, "healthCheck.target", "PROTOCOL:PORT", "healthCheck.target", "HTTP:80/" + long("p", 1024), "HTTP:80/" + long("p", 1023)},
	{tLoadBalancer, "idleTimeout", "1-4000", "idleTimeout", 4001, 4000},
	{tLoadBalancer, "accessLogs.interval", "5 or 60", "accessLogs", map[string]any{"bucket": "b", "interval": 10}, map[string]any{"bucket": "b", "interval": 5}},
	{tLoadBalancer, "desyncMitigationMode", "strictest", "desyncMitigationMode", "lenient", "monitor"},
	{tLoadBalancer, "connectionDrainingTimeout", "1-3600", "connectionDrainingTimeout", 3601, 3600},
	{tLoadBalancer, "tags{key}", "1-128", "tags", map[string]any{"": "v"}, del},
	{tLoadBalancer, "tags{key}", "1-128", "tags." + long("k", 129), "v", del},
	{tLoadBalancer, "tags{}", "256", "tags.Name", "dev elb!", "dev elb"},

	{tELBAttachment, "*", "both", "instance", del, "i-0a1b2c3d"},
	{tELBAttachment, "*", "both", "elb", del, "dev-mha"},
	{tELBAttachment, "elb", "not its ARN", "elb", "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/dev-mha", "dev-mha-1a2b3c4d"},
	{tELBAttachment, "elb", "not its ARN", "elb", "dev-mha-1234567890.us-east-1.elb.amazonaws.com", "a"},
	{tELBAttachment, "elb", "not its ARN", "elb", "", "dev-mha-1a2b3c4d-x"},
	{tELBAttachment, "instance", "instance id", "instance", "marathon-ha-agents-1", "i-0a1b2c3d"},
	{tELBAttachment, "instance", "instance id", "instance", "i-0123456789ABCDEF0", "i-0123456789abcdef0"},

	{tRole, "name", "1-64", "name", long("r", 65), del},
	{tRole, "name", "1-64", "name", "agents role", del},
	{tRole, "namePrefix", "1-38", "namePrefix", long("r", 39), long("r", 38)},
	{tRole, "namePrefix", "1-38", "namePrefix", "", "r-"},
	{tRole, "name", "conflicts", "name", "agents", del},
	{tRole, "assumeRolePolicy", "JSON object", "assumeRolePolicy", `[{"Version":"2012-10-17"}]`, `{"Version":"2012-10-17","Statement":[]}`},
	{tRole, "assumeRolePolicy", "JSON object", "assumeRolePolicy", `{"Version":`, ` {"Version":"2012-10-17"}`},
	{tRole, "description", "1000", "description", "the “agents” role", `the "agents" role`},
	{tRole, "maxSessionDuration", "3600-43200", "maxSessionDuration", 3599, 43200},
	{tRole, "path", "512", "path", "/" + long("p", 512), "/marathon-ha/"},
	{tRole, "permissionsBoundary", "ARN", "permissionsBoundary", "boundary", "arn:aws:iam::123456789012:policy/b"},
	{tRole, "tags{key}", "1-128", "tags.'bad!key'", "v", del},
	{tRole, "tags{}", "256", "tags.Name", "dev#role", "dev role"},

	{tRolePolicy, "name", "1-128", "name", long("p", 129), long("p", 128)},
	{tRolePolicy, "namePrefix", "1-102", "namePrefix", long("p", 103), long("p", 102)},
	{tRolePolicy, "name", "conflicts", "-", multi{"name": "p", "namePrefix": "p-"}, multi{"namePrefix": "p-"}},
	{tRolePolicy, "policy", "JSON object", "policy", "{", `{}`},
	{tRolePolicy, "policy", "10,240", "policy", `{"Sid":"` + long("x", 10240) + `"}`, `{"Sid":` + long(" ", 20000) + `"x"}`},
	{tRolePolicy, "role", "not its ARN", "role", "arn:aws:iam::123456789012:role/agents", "agents"},
	{tRolePolicy, "role", "not its ARN", "role", long("r", 129), long("r", 128)},

	{tInstanceProfile, "name", "1-128", "name", "agents profile", del},
	{tInstanceProfile, "namePrefix", "1-102", "namePrefix", long("p", 103), long("p", 102)},
	{tInstanceProfile, "name", "conflicts", "name", "agents", del},
	{tInstanceProfile, "tags{key}", "1-128", "tags." + long("k", 129), "v", del},
	{tInstanceProfile, "tags{}", "256", "tags.Name", long("v", 257), "profile"},

	{tParameter, "name", "1-2048", "name", long("n", 2049), "n"},
	{tParameter, "name", "1011", "name", "/" + long("n", 1011), "/" + long("n", 1010)},
	{tParameter, "name", "1011", "name", "ssm-params/x", "params-ssm"},
	{tParameter, "name", "1011", "name", "AWSparam", "/marathon-ha/aws"},
	{tParameter, "name", "1011", "name", "marathon-ha/x", "/marathon-ha/x"},
	{tParameter, "name", "1011", "name", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o"},
	{tParameter, "name", "1011", "name", "/marathon ha/x", "/marathon_ha/x.y"},
	{tParameter, "type", "SecureString", "type", "Text", "String"},
	{tParameter, "tier", "Advanced", "tier", "Premium", "Advanced"},
	{tParameter, "description", "1024", "description", long("d", 1025), long("d", 1024)},
	{tParameter, "allowedPattern", "1024", "allowedPattern", long("p", 1025), "^[a-z]+$"},
	{tParameter, "dataType", "text", "dataType", "json", "text"},
	{tParameter, "*", "exactly one", "insecureValue", "plain", del},
	{tParameter, "*", "exactly one", "value", del, "v"},
	{tParameter, "value", "4096", "value", long("v", 4097), long("v", 4096)},
	{tParameter, "tags{key}", "1-128", "tags." + long("k", 129), "v", del},
	{tParameter, "tags{}", "256", "tags.Name", long("v", 257), "param"},
}

func findRule(t *testing.T, typ, path, text string) InputRule {
	t.Helper()
	var found []InputRule
	for _, r := range InputRules {
		if r.Type == typ && r.Path == path && strings.Contains(r.Rule, text) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d rules of %s at %s contain %q", len(found), typ, path, text)
	}
	return found[0]
}

func TestBaselinesPass(t *testing.T) {
	for _, typ := range awsTypes() {
		vs, err := CheckInputs(typ, props(deepCopy(baseline(typ))))
		if err != nil || len(vs) > 0 {
			t.Errorf("%s baseline: %v %v", typ, err, vs)
		}
	}
}

func TestEachRuleRefusesBadAndAcceptsGood(t *testing.T) {
	for i, c := range ruleCases {
		t.Run(fmt.Sprintf("%d %s %s", i, c.typ, c.path), func(t *testing.T) {
			rule := findRule(t, c.typ, c.path, c.rule)

			bad := deepCopy(baseline(c.typ))
			apply(bad, c.set, c.bad)
			vs, err := CheckInputs(c.typ, props(bad))
			if err != nil {
				t.Fatal(err)
			}
			hit := false
			for _, v := range vs {
				hit = hit || ruleKey(v.Rule) == ruleKey(rule)
			}
			if !hit {
				t.Errorf("%s = %v was accepted by %q; violations: %v", c.set, c.bad, rule.Rule, vs)
			}

			good := deepCopy(baseline(c.typ))
			apply(good, c.set, c.good)
			if vs, err := CheckInputs(c.typ, props(good)); err != nil || len(vs) > 0 {
				t.Errorf("%s = %v was refused: %v %v", c.set, c.good, err, vs)
			}
		})
	}
}

// TestEveryRuleHasACase keeps the table and its tests together: a rule
// added without a failing example fails here.
func TestEveryRuleHasACase(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range ruleCases {
		covered[ruleKey(findRule(t, c.typ, c.path, c.rule))] = true
	}
	seen := map[string]bool{}
	for _, r := range InputRules {
		k := ruleKey(r)
		if seen[k] {
			t.Errorf("rule listed twice: %s", k)
		}
		seen[k] = true
		if !covered[k] {
			t.Errorf("no case breaks %s", k)
		}
		if r.Source == "" || r.Rule == "" || r.Check == nil {
			t.Errorf("rule without source, text or check: %s", k)
		}
	}
}

func awsTypes() []string {
	return []string{tVpc, tInternetGateway, tSubnet, tSubnetCidrReservation, tRouteTable, tRouteTableAssociation, tSecurityGroup, tSecurityGroupRule, tInstance, tKeyPair, tLoadBalancer, tELBAttachment, tRole, tRolePolicy, tInstanceProfile, tParameter}
}

func TestUnknownValuesAreSkipped(t *testing.T) {
	in := props(baseline(tSecurityGroupRule))
	in["description"] = resource.MakeComputed(resource.NewStringProperty(""))
	in["cidrBlocks"] = resource.NewArrayProperty([]resource.PropertyValue{resource.MakeComputed(resource.NewStringProperty(""))})
	in["fromPort"] = resource.NewOutputProperty(resource.Output{Element: resource.NewNumberProperty(0), Known: false})
	if vs, err := CheckInputs(tSecurityGroupRule, in); err != nil || len(vs) > 0 {
		t.Errorf("unknown values were checked: %v %v", err, vs)
	}
	// An unknown source group is not known to conflict with cidrBlocks.
	in = props(baseline(tSecurityGroupRule))
	in["sourceSecurityGroupId"] = resource.MakeComputed(resource.NewStringProperty(""))
	if vs, _ := CheckInputs(tSecurityGroupRule, in); len(vs) > 0 {
		t.Errorf("an unknown sourceSecurityGroupId conflicted: %v", vs)
	}
	// An unknown target may be the one target of a route.
	rt := baseline(tRouteTable)
	in = props(rt)
	route := in["routes"].ArrayValue()[0].ObjectValue()
	route["gatewayId"] = resource.MakeComputed(resource.NewStringProperty(""))
	if vs, _ := CheckInputs(tRouteTable, in); len(vs) > 0 {
		t.Errorf("a route with an unknown gateway was refused: %v", vs)
	}
	// Known values next to unknown ones are still checked.
	in = props(baseline(tSecurityGroupRule))
	in["cidrBlocks"] = resource.NewArrayProperty([]resource.PropertyValue{resource.MakeComputed(resource.NewStringProperty("")), resource.NewStringProperty("10.0.0.1/8")})
	if vs, _ := CheckInputs(tSecurityGroupRule, in); len(vs) != 1 || vs[0].At != "cidrBlocks[1]" {
		t.Errorf("violations %v, want cidrBlocks[1]", vs)
	}
}

func TestErrorNamesResourcePropertyValueRuleAndSource(t *testing.T) {
	in := props(baseline(tSecurityGroupRule))
	in["description"] = resource.NewStringProperty("the operator's SSH")
	err := ValidateInputs(tSecurityGroupRule, "net-master-ssh", in)
	if err == nil {
		t.Fatal("an apostrophe was accepted")
	}
	for _, want := range []string{
		tSecurityGroupRule, `"net-master-ssh"`, "input description", `"the operator's SSH"`,
		"only letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
		"hashicorp/terraform-provider-aws v5.100.0 internal/service/ec2/validate.go (validSecurityGroupRuleDescription",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestSecretsAreNotPrinted(t *testing.T) {
	in := props(baseline(tParameter))
	in["value"] = resource.MakeSecret(resource.NewStringProperty(long("s", 5000)))
	err := ValidateInputs(tParameter, "p", in)
	if err == nil || !strings.Contains(err.Error(), "input value = [secret]") || strings.Contains(err.Error(), "sss") {
		t.Errorf("error %v", err)
	}
}

func TestAWSTypesWithoutRulesAreRefused(t *testing.T) {
	err := ValidateInputs("aws:s3/bucket:Bucket", "logs", resource.PropertyMap{})
	if err == nil || !strings.Contains(err.Error(), "no input rules for aws:s3/bucket:Bucket") {
		t.Errorf("error %v", err)
	}
	for _, typ := range []string{"random:index/randomId:RandomId", "tls:index/privateKey:PrivateKey", "command:local:Command", "pulumi:providers:aws", "marathon-ha:index:Network"} {
		if err := ValidateInputs(typ, "x", resource.PropertyMap{}); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	for _, typ := range awsTypes() {
		if _, err := CheckInputs(typ, resource.PropertyMap{}); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

func TestNewResourceRefuses(t *testing.T) {
	m := NewMocks()
	in := props(baseline(tLoadBalancer))
	in["name"] = resource.NewStringProperty("a-thirty-three-character-elb-name")
	if _, _, err := m.NewResource(mockArgs(tLoadBalancer, "elb", in)); err == nil || !strings.Contains(err.Error(), "at most 32 characters") {
		t.Errorf("error %v", err)
	}
	if n := len(m.Resources()); n != 0 {
		t.Errorf("a refused registration was recorded (%d)", n)
	}
	if _, _, err := m.NewResource(mockArgs(tLoadBalancer, "elb", props(baseline(tLoadBalancer)))); err != nil {
		t.Error(err)
	}
}
