// Package operatoriam is what the operator's AWS credentials must be allowed
// to do: `pulumi up` and `pulumi destroy` through the AWS provider, the
// steps the program runs on this machine, and each operator tool. One table
// (Needs) is the source of docs/operator-iam-policy.json (Policy, a test
// keeps the file equal) and of the permissions the tools' help text names
// (ToolActions, a test holds the help to it).
//
// The provider's calls per resource type are listed from
// terraform-provider-aws 5.x (the release pulumi-aws v6.83.4 bridges),
// internal/service/{ec2,elb,iam,ssm}: each resource's create, read, update
// and delete functions and their waiters. They were not re-read call by
// call for this table: UNVERIFIED until a rehearsal runs with this policy
// (the AWS provider then names any action it is refused).
package operatoriam

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
)

// Need is one reason to call AWS: who calls (a resource type token, a
// program step or a tool), why, and the actions.
type Need struct {
	Who     string
	Why     string
	Actions []string
}

// Tool names, as under scripts/.
const (
	KillNode       = "kill-node"
	CleanupVolumes = "cleanup-volumes"
	DeployApp      = "deploy-app"
	BootTimeline   = "boot-timeline"
	Rehearsal      = "rehearsal"
	PrepareAMI     = "prepare-ami"
)

// Needs lists every caller. Resource types are the ones the program
// registers (a test holds the list to a run of the program); data sources
// and the program's local steps follow, then the tools.
var Needs = []Need{
	{"aws:ec2/vpc:Vpc", "the cluster's VPC", []string{
		"ec2:CreateVpc", "ec2:DeleteVpc", "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:ModifyVpcAttribute",
		"ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:CreateTags", "ec2:DeleteTags"}},
	{"aws:ec2/internetGateway:InternetGateway", "the VPC's internet gateway", []string{
		"ec2:CreateInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway",
		"ec2:DescribeInternetGateways", "ec2:CreateTags"}},
	{"aws:ec2/subnet:Subnet", "the public subnet", []string{
		"ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:DescribeSubnets", "ec2:ModifySubnetAttribute", "ec2:DescribeNetworkInterfaces", "ec2:CreateTags"}},
	{"aws:ec2/subnetCidrReservation:SubnetCidrReservation", "the masters' fixed addresses", []string{
		"ec2:CreateSubnetCidrReservation", "ec2:DeleteSubnetCidrReservation", "ec2:GetSubnetCidrReservations"}},
	{"aws:ec2/routeTable:RouteTable", "the route to the internet", []string{
		"ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:DescribeRouteTables", "ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute", "ec2:CreateTags"}},
	{"aws:ec2/routeTableAssociation:RouteTableAssociation", "the subnet's route table", []string{
		"ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:DescribeRouteTables"}},
	{"aws:ec2/securityGroup:SecurityGroup", "the nodes' and the ELB's security groups", []string{
		"ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules",
		"ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:DescribeNetworkInterfaces", "ec2:CreateTags"}},
	{"aws:ec2/securityGroupRule:SecurityGroupRule", "each rule between the groups", []string{
		"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
		"ec2:RevokeSecurityGroupEgress", "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules"}},
	{"aws:ec2/keyPair:KeyPair", "the imported SSH key", []string{"ec2:ImportKeyPair", "ec2:DeleteKeyPair", "ec2:DescribeKeyPairs", "ec2:CreateTags"}},
	{"aws:ec2/instance:Instance", "the masters and agents, with their instance profiles", []string{
		"ec2:RunInstances", "ec2:TerminateInstances", "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute",
		"ec2:ModifyInstanceAttribute", "ec2:ModifyInstanceMetadataOptions", "ec2:DescribeInstanceCreditSpecifications",
		"ec2:DescribeInstanceTypes", "ec2:DescribeVolumes", "ec2:DescribeTags", "ec2:CreateTags", "ec2:DescribeImages",
		"ec2:DescribeNetworkInterfaces", "iam:PassRole"}},
	{"aws:elb/loadBalancer:LoadBalancer", "the classic ELB and its health check", []string{
		"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DescribeLoadBalancers",
		"elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:ModifyLoadBalancerAttributes",
		"elasticloadbalancing:ConfigureHealthCheck", "elasticloadbalancing:CreateLoadBalancerListeners",
		"elasticloadbalancing:DeleteLoadBalancerListeners", "elasticloadbalancing:DescribeLoadBalancerPolicies",
		"elasticloadbalancing:SetLoadBalancerPoliciesOfListener", "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
		"elasticloadbalancing:AttachLoadBalancerToSubnets", "elasticloadbalancing:DetachLoadBalancerFromSubnets",
		"elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags", "elasticloadbalancing:DescribeTags",
		"ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces"}},
	{"aws:elb/attachment:Attachment", "each agent's registration with the ELB", []string{
		"elasticloadbalancing:RegisterInstancesWithLoadBalancer", "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
		"elasticloadbalancing:DescribeLoadBalancers"}},
	{"aws:iam/role:Role", "the nodes' roles", []string{
		"iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy",
		"iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"}},
	{"aws:iam/rolePolicy:RolePolicy", "each role's inline policy", []string{"iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"}},
	{"aws:iam/instanceProfile:InstanceProfile", "the nodes' instance profiles", []string{
		"iam:CreateInstanceProfile", "iam:GetInstanceProfile", "iam:DeleteInstanceProfile", "iam:TagInstanceProfile",
		"iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile"}},
	{"aws:ssm/parameter:Parameter", "the Flocker certificates as SecureStrings (with the AWS-managed key)", []string{
		"ssm:PutParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:DeleteParameter", "ssm:DescribeParameters",
		"ssm:AddTagsToResource", "ssm:ListTagsForResource", "ssm:RemoveTagsFromResource"}},
	{"aws:ec2/launchTemplate:LaunchTemplate", "the REX-Ray agents' launch template (docs/agents.md)", []string{
		"ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate",
		"ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions", "ec2:GetLaunchTemplateData", "ec2:CreateTags",
		"iam:PassRole"}},
	{"aws:autoscaling/group:Group", "the REX-Ray agents' Auto Scaling group, its ELB registration and instance refresh (docs/agents.md)", []string{
		"autoscaling:CreateAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup", "autoscaling:DeleteAutoScalingGroup",
		"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeScalingActivities", "autoscaling:CreateOrUpdateTags",
		"autoscaling:DeleteTags", "autoscaling:AttachLoadBalancers", "autoscaling:DetachLoadBalancers",
		"autoscaling:DescribeLoadBalancers", "autoscaling:SetDesiredCapacity", "autoscaling:StartInstanceRefresh",
		"autoscaling:DescribeInstanceRefreshes", "autoscaling:CancelInstanceRefresh",
		"ec2:RunInstances", "ec2:CreateTags", "ec2:DescribeLaunchTemplateVersions",
		"iam:PassRole", "iam:CreateServiceLinkedRole"}},
	{"data sources", "the AMI, the zones and the instance types they offer; the preflight's account reads (docs/preflight.md)", []string{
		"ec2:DescribeImages", "ec2:DescribeAvailabilityZones", "ec2:DescribeInstanceTypeOfferings",
		"ec2:GetEbsEncryptionByDefault", "ec2:GetEbsDefaultKmsKeyId", "ec2:DescribeVpcs", "ec2:DescribeInstanceTypes",
		"servicequotas:GetAWSDefaultServiceQuota", "servicequotas:GetServiceQuota"}},
	{"preflight (aws-sdk-go-v2)", "the program's own read of the account's default instance metadata options, which no data source answers (components/preflight_imds.go); whose credentials it reads with is asked of sts:GetCallerIdentity, which needs no permission", []string{
		"ec2:GetInstanceMetadataDefaults"}},
	// terraform-provider-aws internal/service/ec2: ec2_instances_data_source.go
	// (DescribeInstances); ec2_instance_data_source.go, instanceDescriptionAttributes:
	// DescribeInstances, DescribeInstanceTypes, DescribeVpcs (readSecurityGroups),
	// DescribeVolumes (readBlockDevices), DescribeInstanceAttribute three times,
	// DescribeInstanceCreditSpecifications for a burstable type;
	// vpc_subnets_data_source.go (DescribeSubnets); vpc_network_interfaces_data_source.go
	// and vpc_network_interface_data_source.go (DescribeNetworkInterfaces).
	{"data sources (existing nodes)", "the day-two preflight: the cluster's instances and root volumes, and who holds the masters' addresses (docs/preflight.md)", []string{
		"ec2:DescribeInstances", "ec2:DescribeInstanceTypes", "ec2:DescribeVpcs", "ec2:DescribeVolumes", "ec2:DescribeInstanceAttribute",
		"ec2:DescribeInstanceCreditSpecifications", "ec2:DescribeSubnets", "ec2:DescribeNetworkInterfaces"}},
	{DeployApp, "the app step of `pulumi up`: reads each node's boot from its console while it waits for Marathon", []string{
		"ec2:DescribeInstances", "ec2:GetConsoleOutput"}},
	{CleanupVolumes, "the last step of `pulumi destroy`: deletes the volumes the driver created (the credentials' account is checked with sts:GetCallerIdentity, which needs no permission)", []string{
		"ec2:DescribeVolumes", "ec2:DeleteVolume", "ec2:DescribeInstances"}},
	{KillNode, "the failover drill: finds the app's agent and terminates it, watches the ELB", []string{
		"ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:TerminateInstances",
		"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeInstanceHealth"}},
	{KillNode + " --mode partition", "the partition drill's security group, swapped onto the agent and back", []string{
		"ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:AuthorizeSecurityGroupIngress",
		"ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:ModifyInstanceAttribute", "ec2:DeleteSecurityGroup"}},
	{BootTimeline, "each node's boot from its console", []string{"ec2:DescribeInstances", "ec2:GetConsoleOutput"}},
	{Rehearsal, "its teardown's sweep of what a dead run left (besides the stack's own up and destroy, the drill's and the boot's)", []string{
		"ec2:DescribeInstances", "ec2:TerminateInstances", "ec2:DescribeVolumes", "ec2:DeleteVolume",
		"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DeleteLoadBalancer"}},
	{Rehearsal + " rounds", "after each round, waits for the REX-Ray agents' group to be back to agentCount in service (docs/agents.md)", []string{
		"autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstances"}},
}

// ToolActions is every action a tool's Needs list, sorted: the tool's own
// and those of its variants ("kill-node --mode partition").
func ToolActions(tool string) []string {
	var out []string
	for _, n := range Needs {
		if n.Who == tool || strings.HasPrefix(n.Who, tool+" ") {
			out = append(out, n.Actions...)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// statement is one statement of an IAM policy document.
type statement struct {
	Sid      string
	Effect   string
	Action   []string
	Resource string
}

// Policy is the operator's policy document: one statement per service,
// its actions sorted and each once, on every resource. Resource-level
// scoping is left out: the operator creates the resources, whose ARNs and
// tags do not exist before `pulumi up`, and several actions (Describe*,
// RunInstances' many resource types) take no narrower resource anyway.
func Policy() ([]byte, error) {
	by := map[string][]string{}
	for _, n := range Needs {
		for _, a := range n.Actions {
			svc, _, _ := strings.Cut(a, ":")
			by[svc] = append(by[svc], a)
		}
	}
	services := make([]string, 0, len(by))
	for s := range by {
		services = append(services, s)
	}
	sort.Strings(services)
	doc := struct {
		Version   string
		Statement []statement
	}{Version: "2012-10-17"}
	for _, s := range services {
		acts := by[s]
		sort.Strings(acts)
		doc.Statement = append(doc.Statement, statement{Sid: sid(s), Effect: "Allow", Action: slices.Compact(acts), Resource: "*"})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// sid makes a statement id of a service prefix: IAM wants [A-Za-z0-9].
func sid(service string) string {
	out := []byte("MarathonHa")
	up := true
	for _, c := range []byte(service) {
		switch {
		case c >= 'a' && c <= 'z' && up:
			out = append(out, c-'a'+'A')
			up = false
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			out = append(out, c)
		default:
			up = true
		}
	}
	return string(out)
}
