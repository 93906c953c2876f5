package main

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

// firstUp runs a stack's first `pulumi up` and returns its mocks, the
// subnet it made and its cluster id.
func firstUp(t *testing.T, cfg map[string]string) (m *pulumimock.Mocks, subnet, clusterID string) {
	t.Helper()
	m = pulumimock.NewMocks()
	res, err := pulumimock.Run(program, m, "dev", cfg, false)
	if err != nil {
		t.Fatalf("first up: %v", err)
	}
	subnet = res.OfType(tSubnet)[0].ID
	tags, _ := res.OfType(tInstance)[0].Input("tags").(map[string]any)
	clusterID, _ = tags[facts.TagClusterID].(string)
	if subnet == "" || clusterID == "" {
		t.Fatalf("first up: subnet %q, cluster id %q", subnet, clusterID)
	}
	return m, subnet, clusterID
}

// node is an instance of the cluster the mocks did not launch (an Auto
// Scaling group's), with its primary interface.
func node(subnet, clusterID, role, name, id, ip string, rootGiB int) (pulumimock.EC2Instance, pulumimock.NetworkInterface) {
	tags := map[string]string{facts.TagProject: facts.Project, facts.TagStack: "dev", facts.TagClusterID: clusterID, facts.TagRole: role, facts.TagName: name}
	return pulumimock.EC2Instance{ID: id, State: "running", Type: "m4.large", PrivateIP: ip, SubnetID: subnet, RootGiB: rootGiB, Tags: tags},
		pulumimock.NetworkInterface{ID: "eni-" + id[2:], SubnetID: subnet, Type: "interface", PrivateIPs: []string{ip}, AttachedTo: id, AttachmentOwner: "123456789012"}
}

// accepted runs cfg after prev under setup's account and wants it to pass.
func accepted(t *testing.T, label string, prev *pulumimock.Mocks, cfg map[string]string, setup func(*pulumimock.Mocks)) {
	t.Helper()
	m := pulumimock.NextRun(prev)
	setup(m)
	if _, err := pulumimock.Run(program, m, "dev", cfg, true); err != nil {
		t.Errorf("%s: %v", label, err)
	}
}

// TestMasterAddressHolders: a stack made before every master address was
// reserved may have an agent or its ELB on one. Raising masterCount is
// refused at preview when an address it needs is held by anything but that
// master, naming the address, the holder and the fix; addresses it does not
// need, and a same-named stack's in another subnet, are no concern.
func TestMasterAddressHolders(t *testing.T) {
	t.Run("rexray agent and a stray interface", func(t *testing.T) {
		m1, subnet, id := firstUp(t, baseConfig())
		agent, agentENI := node(subnet, id, facts.RoleAgent, "dev-agent", "i-0a0000000000000d3", "10.42.1.13", 30)
		stray := pulumimock.NetworkInterface{ID: "eni-0f00000000000000e", SubnetID: subnet, Description: "left over", Type: "interface", PrivateIPs: []string{"10.42.1.14"}}
		older := func(m *pulumimock.Mocks) {
			m.Account.Nodes.Instances = append(m.Account.Nodes.Instances, agent)
			m.Account.Nodes.NetworkInterfaces = append(m.Account.Nodes.NetworkInterfaces, agentENI, stray)
		}
		refusedFirst(t, "masterCount 5", m1, baseConfig(config.KeyMasterCount, "5"), older,
			"10.42.1.13, the address of master 4", agent.ID, "dev-agent", "terminate-instance-in-auto-scaling-group --instance-id "+agent.ID,
			"10.42.1.14, the address of master 5", stray.ID, "not attached", "delete-network-interface --network-interface-id "+stray.ID)
		accepted(t, "masterCount 3 needs neither address", m1, baseConfig(config.KeyMasterCount, "3"), older)
	})
	t.Run("the ELB", func(t *testing.T) {
		for driver, cfg := range map[string]func(...string) map[string]string{"rexray": baseConfig, "flocker": flockerConfig} {
			m1, subnet, id := firstUp(t, cfg())
			elb := pulumimock.NetworkInterface{ID: "eni-0e1b0000000000012", SubnetID: subnet, Description: "ELB dev-" + id, Requester: "amazon-elb",
				Type: "interface", PrivateIPs: []string{"10.42.1.12"}, AttachmentOwner: "amazon-elb"}
			reregister := []string{"attach-load-balancers --load-balancer-names dev-" + id, "Values=" + id}
			if driver == "flocker" {
				reregister = []string{"then `pulumi up --refresh` registers the agents again"}
			}
			refusedFirst(t, driver+" masterCount 3", m1, cfg(config.KeyMasterCount, "3"),
				func(m *pulumimock.Mocks) {
					m.Account.Nodes.NetworkInterfaces = append(m.Account.Nodes.NetworkInterfaces, elb)
				},
				append([]string{"10.42.1.12, the address of master 3", "classic load balancer dev-" + id, "pulumi up --replace", "LoadBalancer::marathon-ha-elb$", "appUrl"}, reregister...)...)
		}
	})
	t.Run("flocker agent", func(t *testing.T) {
		m1, _, _ := firstUp(t, flockerConfig())
		// The first agent launched at .11, as before the reservations.
		movedAgent := func(m *pulumimock.Mocks) {
			k := tInstance + "::marathon-ha-agents-1"
			r := m.Prior[k]
			r.Outputs = r.Outputs.Copy()
			r.Outputs["privateIp"] = resource.NewStringProperty("10.42.1.11")
			m.Prior[k] = r
		}
		refusedFirst(t, "masterCount 3", m1, flockerConfig(config.KeyMasterCount, "3"), movedAgent,
			"10.42.1.11, the address of master 2", "dev-agent-1", "pulumi up --replace", "Instance::marathon-ha-agents-1$")
	})
	t.Run("a same-named stack in another backend", func(t *testing.T) {
		m1, _, _ := firstUp(t, baseConfig())
		other, otherENI := node("subnet-0other00000000001", "mha-0ther000", facts.RoleMaster, "dev-master-2", "i-0b0000000000000b2", "10.42.1.11", 100)
		accepted(t, "its masters' addresses and volumes are not this cluster's", m1, baseConfig(config.KeyMasterCount, "3"), func(m *pulumimock.Mocks) {
			m.Account.Nodes.Instances = append(m.Account.Nodes.Instances, other)
			m.Account.Nodes.NetworkInterfaces = append(m.Account.Nodes.NetworkInterfaces, otherENI)
		})
	})
}

// TestRootVolumeCountsNodesResizedInPlace: the check reads each node's
// volume as EC2 reports it. A REX-Ray agent is the group's and gets a new
// volume from the launch template, so its size is no bound; a fixed
// Flocker agent's volume is resized in place, so it is.
func TestRootVolumeCountsNodesResizedInPlace(t *testing.T) {
	m1, subnet, id := firstUp(t, baseConfig())
	big, _ := node(subnet, id, facts.RoleAgent, "dev-agent", "i-0a0000000000000b1", "10.42.1.151", 100)
	withBig := func(m *pulumimock.Mocks) { m.Account.Nodes.Instances = append(m.Account.Nodes.Instances, big) }
	accepted(t, "rexray: a group agent's 100 GiB volume", m1, baseConfig(), withBig)

	f1, subnet, id := firstUp(t, flockerConfig())
	big, _ = node(subnet, id, facts.RoleAgent, "dev-agent-3", "i-0a0000000000000b3", "10.42.1.153", 100)
	withBig = func(m *pulumimock.Mocks) { m.Account.Nodes.Instances = append(m.Account.Nodes.Instances, big) }
	refusedFirst(t, "flocker: a fixed agent's 100 GiB volume", f1, flockerConfig(), withBig, "100 GiB", "dev-agent-3", big.ID, "pulumi config set rootVolumeSizeGiB 100")
}

// TestRootVolumeStashIsDroppedHarmlessly: stacks made before the check
// kept the first up's size in a Stash. The next up deletes it and changes
// nothing else (a Stash's delete touches only the state: pulumi/pulumi
// builtins.go).
func TestRootVolumeStashIsDroppedHarmlessly(t *testing.T) {
	m1, _, _ := firstUp(t, baseConfig())
	m2 := pulumimock.NextRun(m1)
	const name = "marathon-ha-root-volume"
	size := resource.NewNumberProperty(30)
	m2.Prior[tStash+"::"+name] = pulumimock.Resource{Type: tStash, Name: name, Custom: true, Parent: "marathon-ha:index:Cluster::marathon-ha",
		Inputs: resource.PropertyMap{"input": size}, ID: name + "-id", Outputs: resource.PropertyMap{"input": size, "output": size}}
	m2.Stashes[name] = pulumimock.StashState{Input: size, Output: size, Trigger: resource.NewNullProperty(), Step: "same"}
	if _, err := pulumimock.Run(program, m2, "dev", baseConfig(), false); err != nil {
		t.Fatal(err)
	}
	got := moved(m2)
	if want := "delete " + tStash + "::" + name + " []"; len(got) != 1 || got[0] != want {
		t.Errorf("the upgrade does:\n%s\nwant only %s", strings.Join(got, "\n"), want)
	}
}
