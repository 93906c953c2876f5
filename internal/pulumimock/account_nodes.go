package pulumimock

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// This file is the contract of the data sources that read the stack's
// existing nodes and who holds the masters' addresses
// (components/preflight_nodes.go): getInstances, getInstance, getSubnets,
// getNetworkInterfaces and getNetworkInterface. They answer from the
// account's instances, subnets and network interfaces: those the previous
// run created (derived from Prior, see derivedNodes) and the extras a test
// adds (Account.Nodes). Sources, read at the pulumi fork's patched-v5.14.0
// branch of terraform-provider-aws (internal/service/ec2; the read
// functions are the same in the index's later 5.x copy of
// ec2_instances_data_source.go), tfVersion for the release bridged:
//   - ec2_instances_data_source.go: instance_state_names (each one of
//     InstanceStateName_Values) becomes an instance-state-name filter, or
//     "running" when unset; instance_tags become tag:<key> filters; filter
//     blocks are appended; `ids`, `private_ips` (only the non-empty ones);
//     id is the region; no match is an empty list, not an error.
//   - ec2_instance_data_source.go: instance_tags and filter blocks, and
//     instance_id as InstanceIds (no state filter: a terminated instance is
//     found by its id); FindInstance fails on none or several, reported by
//     tfresource.SingularDataSourceFindError as "no matching EC2 Instance
//     found" and "multiple EC2 Instances matched; ..."; EC2's
//     InvalidInstanceID.NotFound for an unknown id is a not-found too.
//     root_block_device comes from DescribeVolumes (readBlockDevicesFromInstance
//     in ec2_instance.go): the volume's current size.
//   - vpc_subnets_data_source.go, vpc_network_interfaces_data_source.go:
//     tags become tag:<key> filters, filter blocks appended; `ids`; an empty
//     list when nothing matches.
//   - vpc_network_interface_data_source.go: `id` as NetworkInterfaceIds and
//     filter blocks; FindNetworkInterface's errors are wrapped as "reading
//     EC2 Network Interface: %s" without the singular rewording: "empty
//     result" (tfresource.EmptyResultError), "too many results: wanted 1, got
//     N", and for an unknown id EC2's InvalidNetworkInterfaceID.NotFound
//     becomes retry.NotFoundError, "couldn't find resource". Its `tags`
//     argument is computed and filters nothing.
//   - A classic ELB's interfaces: description "ELB <name>" and attachment
//     instance owner "amazon-elb" (internal/service/elb/load_balancer.go,
//     deleteNetworkInterfaces, l.941); its requester "amazon-elb" is taken
//     from EC2's answers as commonly shown, not from a source read here.
//   - Filter names: AWS API reference DescribeInstances, DescribeSubnets,
//     DescribeNetworkInterfaces (aws-sdk-go-v2 service/ec2 v1.344.2); a name
//     EC2 does not know fails InvalidParameterValue; one it knows but this
//     file does not model is refused too.

// Nodes are the account's instances, subnets and network interfaces beyond
// those the previous run created.
type Nodes struct {
	Instances         []EC2Instance
	Subnets           []Subnet
	NetworkInterfaces []NetworkInterface
}

// EC2Instance is one instance as DescribeInstances (and DescribeVolumes,
// for its root volume) describes it.
type EC2Instance struct {
	ID, State, Type, PrivateIP, SubnetID string
	RootGiB                              int
	Tags                                 map[string]string
}

// Subnet is one subnet.
type Subnet struct {
	ID, VpcID, CIDR string
	Tags            map[string]string
}

// NetworkInterface is one network interface; AttachedTo is the instance id
// ("" when none, as for an ELB's, whose attachment names only its owner).
type NetworkInterface struct {
	ID, SubnetID, Description, Requester, Type string
	PrivateIPs                                 []string
	AttachedTo, AttachmentOwner                string
}

// instanceStates are ec2.InstanceStateName_Values.
var instanceStates = []string{"pending", "running", "shutting-down", "terminated", "stopping", "stopped"}

// The addresses the mocks' account gives interfaces that are not a node's:
// a classic ELB's, in each of its subnets, outside the masters' range
// (facts.MasterPrivateIPs) and the mocks' node addresses (mocks.go).
const elbInterfaceIP = "10.42.1.250"

// groupInstanceIP is the address of an Auto Scaling group's k-th instance
// in the mocks' account: EC2's pick, outside the masters' reserved range.
func groupInstanceIP(k int) string { return fmt.Sprintf("10.42.1.%d", 180+k) }

// derivedNodes is what the previous run left in the account: its instances
// (running, at their addresses, with the root volume of their inputs), each
// Auto Scaling group's desiredCapacity instances (launched from its launch
// template, with the group's tags that propagate at launch: Amazon EC2 Auto
// Scaling User Guide, "Tag Auto Scaling groups and instances"), its
// subnets, each instance's primary interface, and an interface of each
// classic ELB in each of its subnets.
func (m *Mocks) derivedNodes() Nodes {
	var n Nodes
	for _, k := range slices.Sorted(maps.Keys(m.Prior)) {
		r := m.Prior[k]
		switch r.Type {
		case tInstance:
			size := 0
			if rbd, ok := r.Input("rootBlockDevice").(map[string]any); ok {
				if v, ok := rbd["volumeSize"].(float64); ok {
					size = int(v)
				}
			}
			ip, _ := Plain(r.Outputs["privateIp"]).(string)
			inst := EC2Instance{ID: r.ID, State: "running", Type: r.String("instanceType"), PrivateIP: ip,
				SubnetID: r.String("subnetId"), RootGiB: size, Tags: stringMap(r.Input("tags"))}
			n.Instances = append(n.Instances, inst)
			n.NetworkInterfaces = append(n.NetworkInterfaces, inst.primaryInterface())
		case tGroup:
			for _, i := range m.groupInstances(r) {
				n.Instances = append(n.Instances, i)
				n.NetworkInterfaces = append(n.NetworkInterfaces, i.primaryInterface())
			}
		case tSubnet:
			n.Subnets = append(n.Subnets, Subnet{ID: r.ID, VpcID: r.String("vpcId"), CIDR: r.String("cidrBlock"), Tags: stringMap(r.Input("tags"))})
		case tLoadBalancer:
			subnets, _ := r.Input("subnets").([]any)
			for _, s := range subnets {
				id, _ := s.(string)
				n.NetworkInterfaces = append(n.NetworkInterfaces, NetworkInterface{ID: "eni-" + digest(r.ID, id)[:17], SubnetID: id,
					Description: "ELB " + r.String("name"), Requester: "amazon-elb", Type: "interface",
					PrivateIPs: []string{elbInterfaceIP}, AttachmentOwner: "amazon-elb"})
			}
		}
	}
	return n
}

// primaryInterface is the interface RunInstances creates with i, at its
// address, attached at device index 0.
func (i EC2Instance) primaryInterface() NetworkInterface {
	return NetworkInterface{ID: "eni-" + digest(i.ID)[:17], SubnetID: i.SubnetID, Type: "interface",
		PrivateIPs: []string{i.PrivateIP}, AttachedTo: i.ID, AttachmentOwner: mockAccount}
}

// groupInstances are the instances group g of the previous run launched.
func (m *Mocks) groupInstances(g Resource) []EC2Instance {
	lt, _ := g.Input("launchTemplate").(map[string]any)
	size, typ := 0, ""
	for _, r := range m.Prior {
		if r.Type != tLaunchTemplate || r.ID != lt["id"] {
			continue
		}
		typ = r.String("instanceType")
		if bdms, ok := r.Input("blockDeviceMappings").([]any); ok && len(bdms) > 0 {
			ebs, _ := bdms[0].(map[string]any)["ebs"].(map[string]any)
			if v, ok := ebs["volumeSize"].(float64); ok {
				size = int(v)
			}
		}
	}
	tags := map[string]string{}
	groupTags, _ := g.Input("tags").([]any)
	for _, t := range groupTags {
		if t, ok := t.(map[string]any); ok && t["propagateAtLaunch"] == true {
			tags[t["key"].(string)], _ = t["value"].(string)
		}
	}
	subnets, _ := g.Input("vpcZoneIdentifiers").([]any)
	desired, _ := g.Input("desiredCapacity").(float64)
	if len(subnets) == 0 {
		return nil
	}
	var out []EC2Instance
	for k := range int(desired) {
		subnet, _ := subnets[k%len(subnets)].(string)
		out = append(out, EC2Instance{ID: "i-" + digest(g.ID, fmt.Sprint(k))[:17], State: "running", Type: typ, PrivateIP: groupInstanceIP(k),
			SubnetID: subnet, RootGiB: size, Tags: maps.Clone(tags)})
	}
	return out
}

// nodes is the account: derived, then the extras.
func (m *Mocks) nodes() Nodes {
	n := m.derivedNodes()
	x := m.Account.Nodes
	n.Instances = append(n.Instances, x.Instances...)
	n.Subnets = append(n.Subnets, x.Subnets...)
	n.NetworkInterfaces = append(n.NetworkInterfaces, x.NetworkInterfaces...)
	return n
}

func stringMap(v any) map[string]string {
	out := map[string]string{}
	if m, ok := v.(map[string]any); ok {
		for k, e := range m {
			out[k], _ = e.(string)
		}
	}
	return out
}

// tagFilters turns a tags argument into tag:<key> filters.
func (c callArgs) tagFilters(key string) []filter {
	var out []filter
	tags := stringMap(Plain(c.args[resource.PropertyKey(key)]))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, filter{Name: "tag:" + k, Values: []string{tags[k]}})
	}
	return out
}

// filtersMatch says whether every filter matches one of a resource's values
// for its name (field), tags answering tag:<key>.
func filtersMatch(fs []filter, tags map[string]string, field map[string][]string) bool {
	for _, f := range fs {
		vals := field[f.Name]
		if k, ok := strings.CutPrefix(f.Name, "tag:"); ok {
			v, has := tags[k]
			if !has {
				return false
			}
			vals = []string{v}
		}
		if !slices.ContainsFunc(vals, f.match) {
			return false
		}
	}
	return true
}

var instanceFilters = []string{"instance-state-name", "instance-id", "subnet-id", "private-ip-address", "tag:*"}

func (i EC2Instance) fields() map[string][]string {
	return map[string][]string{"instance-state-name": {i.State}, "instance-id": {i.ID}, "subnet-id": {i.SubnetID}, "private-ip-address": {i.PrivateIP}}
}

// getInstances answers aws:ec2/getInstances:getInstances.
func (m *Mocks) getInstances(args resource.PropertyMap) (map[string]any, error) {
	c, err := newCallArgs("getInstances", args, "filters", "instanceStateNames", "instanceTags")
	if err != nil {
		return nil, err
	}
	states := c.strings("instanceStateNames")
	for i, s := range states {
		if !slices.Contains(instanceStates, s) {
			// validation.StringInSlice, on the set's i-th element.
			return nil, fmt.Errorf("expected instance_state_names.%d to be one of %q, got %s", i, instanceStates, s)
		}
	}
	if len(states) == 0 {
		states = []string{"running"}
	}
	fs := append([]filter{{Name: "instance-state-name", Values: states}}, c.tagFilters("instanceTags")...)
	more, err := c.filters(instanceFilters...)
	if err != nil {
		return nil, err
	}
	fs = append(fs, more...)
	ids, ips := []string{}, []string{}
	for _, i := range m.nodes().Instances {
		if filtersMatch(fs, i.Tags, i.fields()) {
			ids = append(ids, i.ID)
			if i.PrivateIP != "" {
				ips = append(ips, i.PrivateIP)
			}
		}
	}
	return map[string]any{"id": mockRegion, "ids": ids, "privateIps": ips, "publicIps": []any{}, "ipv6Addresses": []any{}}, nil
}

// instanceIDPattern is EC2's instance id: 8 or 17 hexadecimal digits
// (EC2 User Guide, "Resource IDs"); another fails InvalidInstanceID.Malformed.
var instanceIDPattern = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// lookupInstance answers aws:ec2/getInstance:getInstance with the fields
// the program reads and a few beside them.
func (m *Mocks) lookupInstance(args resource.PropertyMap) (map[string]any, error) {
	c, err := newCallArgs("getInstance", args, "filters", "instanceId", "instanceTags", "getPasswordData", "getUserData")
	if err != nil {
		return nil, err
	}
	if c.boolean("getPasswordData") || c.boolean("getUserData") {
		return nil, errors.New("pulumimock: getInstance getPasswordData and getUserData are not modelled")
	}
	fs := c.tagFilters("instanceTags")
	more, err := c.filters(instanceFilters...)
	if err != nil {
		return nil, err
	}
	fs = append(fs, more...)
	id := c.str("instanceId")
	if id != "" && !instanceIDPattern.MatchString(id) {
		return nil, fmt.Errorf("reading EC2 Instance: InvalidInstanceID.Malformed: Invalid id: %q", id)
	}
	var found []EC2Instance
	for _, i := range m.nodes().Instances {
		if (id == "" || i.ID == id) && filtersMatch(fs, i.Tags, i.fields()) {
			found = append(found, i)
		}
	}
	switch {
	case len(found) == 0:
		return nil, errors.New("no matching EC2 Instance found")
	case len(found) > 1:
		return nil, errors.New("multiple EC2 Instances matched; use additional constraints to reduce matches to a single EC2 Instance")
	}
	i := found[0]
	root := map[string]any{"deviceName": "/dev/sda1", "volumeId": "vol-" + digest(i.ID)[:17], "volumeSize": i.RootGiB, "volumeType": "gp3",
		"encrypted": true, "deleteOnTermination": true, "iops": 3000, "throughput": 125, "kmsKeyId": "", "tags": tagsOf(i.Tags)}
	return map[string]any{"id": i.ID, "instanceId": i.ID, "instanceState": i.State, "instanceType": i.Type, "privateIp": i.PrivateIP,
		"subnetId": i.SubnetID, "tags": tagsOf(i.Tags), "rootBlockDevices": []any{root}, "ebsBlockDevices": []any{},
		"arn": fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", mockRegion, mockAccount, i.ID)}, nil
}

func tagsOf(tags map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range tags {
		out[k] = v
	}
	return out
}

// getSubnets answers aws:ec2/getSubnets:getSubnets.
func (m *Mocks) getSubnets(args resource.PropertyMap) (map[string]any, error) {
	c, err := newCallArgs("getSubnets", args, "filters", "tags")
	if err != nil {
		return nil, err
	}
	more, err := c.filters("subnet-id", "vpc-id", "cidr-block", "tag:*")
	if err != nil {
		return nil, err
	}
	fs := append(c.tagFilters("tags"), more...)
	ids := []string{}
	for _, s := range m.nodes().Subnets {
		if filtersMatch(fs, s.Tags, map[string][]string{"subnet-id": {s.ID}, "vpc-id": {s.VpcID}, "cidr-block": {s.CIDR}}) {
			ids = append(ids, s.ID)
		}
	}
	return map[string]any{"id": mockRegion, "ids": ids}, nil
}

var interfaceFilters = []string{"subnet-id", "addresses.private-ip-address", "private-ip-address", "attachment.instance-id",
	"attachment.instance-owner-id", "description", "requester-id", "network-interface-id"}

func (n NetworkInterface) fields() map[string][]string {
	return map[string][]string{"subnet-id": {n.SubnetID}, "addresses.private-ip-address": n.PrivateIPs, "private-ip-address": n.PrivateIPs,
		"attachment.instance-id": {n.AttachedTo}, "attachment.instance-owner-id": {n.AttachmentOwner}, "description": {n.Description},
		"requester-id": {n.Requester}, "network-interface-id": {n.ID}}
}

// getNetworkInterfaces answers aws:ec2/getNetworkInterfaces:getNetworkInterfaces.
// The mocks' interfaces carry no tags, so a tags argument matches none.
func (m *Mocks) getNetworkInterfaces(args resource.PropertyMap) (map[string]any, error) {
	c, err := newCallArgs("getNetworkInterfaces", args, "filters", "tags")
	if err != nil {
		return nil, err
	}
	more, err := c.filters(interfaceFilters...)
	if err != nil {
		return nil, err
	}
	fs := append(c.tagFilters("tags"), more...)
	ids := []string{}
	for _, n := range m.nodes().NetworkInterfaces {
		if filtersMatch(fs, nil, n.fields()) {
			ids = append(ids, n.ID)
		}
	}
	return map[string]any{"id": mockRegion, "ids": ids}, nil
}

// lookupNetworkInterface answers aws:ec2/getNetworkInterface:getNetworkInterface.
func (m *Mocks) lookupNetworkInterface(args resource.PropertyMap) (map[string]any, error) {
	c, err := newCallArgs("getNetworkInterface", args, "filters", "id")
	if err != nil {
		return nil, err
	}
	fs, err := c.filters(interfaceFilters...)
	if err != nil {
		return nil, err
	}
	id := c.str("id")
	var found []NetworkInterface
	for _, n := range m.nodes().NetworkInterfaces {
		if (id == "" || n.ID == id) && filtersMatch(fs, nil, n.fields()) {
			found = append(found, n)
		}
	}
	switch {
	case len(found) == 0 && id != "":
		return nil, errors.New("reading EC2 Network Interface: couldn't find resource")
	case len(found) == 0:
		return nil, errors.New("reading EC2 Network Interface: empty result")
	case len(found) > 1:
		return nil, fmt.Errorf("reading EC2 Network Interface: too many results: wanted 1, got %d", len(found))
	}
	n := found[0]
	attachments := []any{}
	if n.AttachmentOwner != "" {
		a := map[string]any{"attachmentId": "eni-attach-" + digest(n.ID)[:17], "deviceIndex": 0, "instanceOwnerId": n.AttachmentOwner}
		if n.AttachedTo != "" {
			a["instanceId"] = n.AttachedTo
		}
		attachments = append(attachments, a)
	}
	ips := make([]any, len(n.PrivateIPs))
	for i, ip := range n.PrivateIPs {
		ips[i] = ip
	}
	return map[string]any{"id": n.ID, "subnetId": n.SubnetID, "description": n.Description, "requesterId": n.Requester,
		"interfaceType": n.Type, "privateIp": n.PrivateIPs[0], "privateIps": ips, "attachments": attachments,
		"ownerId": mockAccount, "tags": map[string]any{},
		"arn": fmt.Sprintf("arn:aws:ec2:%s:%s:network-interface/%s", mockRegion, mockAccount, n.ID)}, nil
}
