package components

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The day-two preflight: what the stack's existing nodes would refuse of
// this run, read from the account itself rather than from the stack's
// state, which may be older than what EC2 has (a volume grown by an earlier
// `up`, an address taken by an agent before the masters' reservations
// existed). docs/preflight.md lists both checks and what they cannot see.

// runningStates are the instance states whose root volume `pulumi up`
// would modify: pending, running, stopping and stopped (ModifyVolume works
// on an attached volume whatever its instance's state); shutting-down and
// terminated instances are leaving.
var runningStates = []string{"pending", "running", "stopping", "stopped"}

// existingNode is one of the stack's instances as EC2 describes it now.
type existingNode struct {
	ID, Name, Role, PrivateIP, SubnetID string
	RootGiB                             int
}

// guardNodes checks this run against the cluster's existing nodes: no root
// volume shrinks (rootVolumeShrink), and every master's address is free or
// its own (masterAddressHolders). Its output is rootVolumeSizeGiB once both
// pass; the cluster id waits for it, so a refusal stops the run before any
// resource changes.
//
// The checks need the cluster id, which is known only once the stack
// exists, so they run inside an apply of its random part: on a new stack's
// preview nothing is read (nothing exists), and on every later preview and
// `up` the instances and subnets are found by the cluster's own tags, so a
// stack of the same name in another backend is never mistaken for this one.
func guardNodes(ctx *pulumi.Context, name string, cfg config.Config, stack string, clusterID pulumi.StringOutput, parent pulumi.Resource) pulumi.IntOutput {
	return clusterID.ApplyT(func(id string) (int, error) {
		nodes, err := existingNodes(ctx, stack, id, parent)
		if err != nil {
			return 0, err
		}
		err = errors.Join(rootVolumeShrink(cfg, nodes), masterAddressHolders(ctx, name, cfg, stack, id, nodes, parent))
		return cfg.RootVolumeGiB, err
	}).(pulumi.IntOutput)
}

// ownTags are the tags every resource of this cluster carries (Tags.For).
func ownTags(stack, clusterID string) map[string]string {
	return map[string]string{facts.TagProject: facts.Project, facts.TagStack: stack, facts.TagClusterID: clusterID}
}

// existingNodes lists the cluster's instances and reads each one's root
// volume size (from DescribeVolumes: the size now, not the one asked for
// at launch), address, subnet and role.
func existingNodes(ctx *pulumi.Context, stack, clusterID string, parent pulumi.Resource) ([]existingNode, error) {
	found, err := ec2.GetInstances(ctx, &ec2.GetInstancesArgs{InstanceTags: ownTags(stack, clusterID), InstanceStateNames: runningStates}, pulumi.Parent(parent))
	if err != nil {
		return nil, fmt.Errorf("preflight: listing the cluster's instances: %w", err)
	}
	var nodes []existingNode
	for _, id := range found.Ids {
		inst, err := ec2.LookupInstance(ctx, &ec2.LookupInstanceArgs{InstanceId: pulumi.StringRef(id)}, pulumi.Parent(parent))
		if err != nil {
			return nil, fmt.Errorf("preflight: describing instance %s: %w", id, err)
		}
		n := existingNode{ID: id, Name: inst.Tags[facts.TagName], Role: inst.Tags[facts.TagRole], PrivateIP: inst.PrivateIp, SubnetID: inst.SubnetId}
		for _, rbd := range inst.RootBlockDevices {
			n.RootGiB = max(n.RootGiB, rbd.VolumeSize)
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// masterAddressHolders refuses a master address held by anything but that
// master's own instance. Every master address is reserved from a stack's
// first `up` (network.go, masterAddresses), and EC2 assigns no reserved
// address by itself; but a stack created before that may have an agent or
// an interface of its ELB on one, and raising masterCount would then fail
// at RunInstances (InvalidIPAddress.InUse) midway, possibly after the other
// masters were replaced. The masters' addresses are looked for in the
// cluster's subnet (found by its tags: none on a first `up`) with the
// filters addresses.private-ip-address (primary and secondary addresses)
// and subnet-id (AWS API reference, DescribeNetworkInterfaces).
func masterAddressHolders(ctx *pulumi.Context, name string, cfg config.Config, stack, clusterID string, nodes []existingNode, parent pulumi.Resource) error {
	tags := ownTags(stack, clusterID)
	tags[facts.TagRole] = facts.RoleNetwork
	subnets, err := ec2.GetSubnets(ctx, &ec2.GetSubnetsArgs{Tags: tags}, pulumi.Parent(parent))
	if err != nil {
		return fmt.Errorf("preflight: looking for the cluster's subnet: %w", err)
	}
	if len(subnets.Ids) == 0 {
		return nil
	}
	want := facts.MasterPrivateIPs(cfg.MasterCount)
	enis, err := ec2.GetNetworkInterfaces(ctx, &ec2.GetNetworkInterfacesArgs{Filters: []ec2.GetNetworkInterfacesFilter{
		{Name: "subnet-id", Values: subnets.Ids},
		{Name: "addresses.private-ip-address", Values: want},
	}}, pulumi.Parent(parent))
	if err != nil {
		return fmt.Errorf("preflight: listing who holds the masters' addresses: %w", err)
	}
	held := map[string]error{}
	for _, eniID := range enis.Ids {
		eni, err := ec2.LookupNetworkInterface(ctx, &ec2.LookupNetworkInterfaceArgs{Id: pulumi.StringRef(eniID)}, pulumi.Parent(parent))
		if err != nil {
			return fmt.Errorf("preflight: describing network interface %s: %w", eniID, err)
		}
		for _, ip := range append([]string{eni.PrivateIp}, eni.PrivateIps...) {
			if i := slices.Index(want, ip); i >= 0 && held[ip] == nil {
				held[ip] = addressHolder(name, cfg, clusterID, i+1, ip, eni, nodes)
			}
		}
	}
	var errs []error
	for _, ip := range want {
		errs = append(errs, held[ip])
	}
	return errors.Join(errs...)
}

// elbRequester is the principal that owns a classic ELB's interfaces
// (terraform-provider-aws internal/service/elb/load_balancer.go,
// deleteNetworkInterfaces: attachment instance owner "amazon-elb",
// description "ELB <name>").
const elbRequester = "amazon-elb"

// reregister says how the agents get registered with a replaced load
// balancer of the same name. Flocker's fixed agents: a refresh drops each
// attachment whose instance the load balancer no longer lists
// (terraform-provider-aws internal/service/elb/attachment.go,
// resourceAttachmentRead), and the next up creates it again. REX-Ray's
// group: AttachLoadBalancers "registers the running instances" with it
// (Amazon EC2 Auto Scaling API reference, AttachLoadBalancers); whether a
// group still lists a deleted load balancer's name is not documented, so
// the attachment is made explicitly.
func reregister(cfg config.Config, clusterID, elbName string) string {
	if !InGroup(cfg.VolumeDriver) {
		return "then `pulumi up --refresh` registers the agents again"
	}
	return fmt.Sprintf("then `aws autoscaling attach-load-balancers --load-balancer-names %s --auto-scaling-group-name "+
		"$(aws autoscaling describe-auto-scaling-groups --filters Name=tag:%s,Values=%s --query 'AutoScalingGroups[0].AutoScalingGroupName' --output text)` "+
		"registers the agents' group with it", elbName, facts.TagClusterID, clusterID)
}

// addressHolder is nil when master index's address ip is held by that
// master's own instance, or the refusal naming who holds it and how to
// free it.
func addressHolder(name string, cfg config.Config, clusterID string, index int, ip string, eni *ec2.LookupNetworkInterfaceResult, nodes []existingNode) error {
	var attached, owner string
	if len(eni.Attachments) > 0 {
		attached, owner = eni.Attachments[0].InstanceId, eni.Attachments[0].InstanceOwnerId
	}
	i := slices.IndexFunc(nodes, func(n existingNode) bool { return n.ID == attached })
	if i >= 0 && nodes[i].Role == facts.RoleMaster && nodes[i].PrivateIP == ip {
		return nil
	}
	refuse := func(holder, fix string) error {
		return &PreflightError{Check: "master addresses",
			Found: fmt.Sprintf("%s, the address of master %d (%s:%s is %d), is held by %s; EC2 would refuse that master's launch (InvalidIPAddress.InUse) midway through `pulumi up`",
				ip, index, facts.Project, config.KeyMasterCount, cfg.MasterCount, holder),
			Fix: fix + "; then preview again (docs/preflight.md)"}
	}
	switch {
	case owner == elbRequester || eni.RequesterId == elbRequester || strings.HasPrefix(eni.Description, "ELB "):
		elbName := strings.TrimPrefix(eni.Description, "ELB ")
		return refuse(fmt.Sprintf("interface %s of the classic load balancer %s", eni.Id, elbName),
			fmt.Sprintf("an ELB's addresses are AWS's choice and cannot be moved: keep %s at its current value and replace the load balancer, "+
				"`pulumi up --replace $(pulumi stack --show-urns | grep -o 'urn:pulumi:[^ ]*elb/loadBalancer:LoadBalancer::%s-elb$')` "+
				"(its new interfaces take no reserved address; the app's URL, appUrl, changes); the new one has no agents registered: %s",
				config.KeyMasterCount, name, reregister(cfg, clusterID, elbName)))
	case i >= 0 && nodes[i].Role == facts.RoleAgent && InGroup(cfg.VolumeDriver):
		return refuse(fmt.Sprintf("agent %s (%s)", attached, nodes[i].Name),
			fmt.Sprintf("terminate it through its Auto Scaling group, `aws autoscaling terminate-instance-in-auto-scaling-group --instance-id %s --no-should-decrement-desired-capacity`: "+
				"the group launches its replacement at an address EC2 picks, never a reserved one (if the app runs there, Marathon moves it); "+
				"wait until the group is back to %s (`aws autoscaling describe-auto-scaling-groups`)", attached, config.KeyAgentCount))
	case i >= 0 && nodes[i].Role == facts.RoleAgent:
		index := "[0-9]*" // the agent's index, from its Name tag <stack>-agent-<i> (agents.go)
		if k := strings.LastIndex(nodes[i].Name, "-agent-"); k >= 0 {
			index = nodes[i].Name[k+len("-agent-"):]
		}
		resource := fmt.Sprintf("%s-agents-%s", name, index)
		return refuse(fmt.Sprintf("agent %s (%s)", attached, nodes[i].Name),
			fmt.Sprintf("keep %s at its current value and replace that agent, `pulumi up --replace $(pulumi stack --show-urns | grep -o 'urn:pulumi:[^ ]*ec2/instance:Instance::%s$')`: "+
				"its replacement gets an address EC2 picks, never a reserved one (if the app runs there, Marathon moves it)", config.KeyMasterCount, resource))
	}
	holder := fmt.Sprintf("network interface %s (description %q, not attached)", eni.Id, eni.Description)
	if attached != "" {
		holder = fmt.Sprintf("network interface %s (description %q) of instance %s, not this cluster's master %d", eni.Id, eni.Description, attached, index)
	}
	return refuse(holder, fmt.Sprintf("free the address: terminate or move what holds it, or delete the interface if it is unused (`aws ec2 delete-network-interface --network-interface-id %s`)", eni.Id))
}
