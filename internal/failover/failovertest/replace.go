package failovertest

import (
	"fmt"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// GroupName is the stand-in agents' Auto Scaling group (Options.AgentGroup).
const GroupName = Stack + "-" + ClusterID + "-agents-group"

// Defaults of the agents' group, in the cluster's time: the EC2 health
// check's detection and the scaling activity, then the replacement's
// launch and boot until it is InService and registered.
const (
	DefaultGroupReplaceDelay = 150 * time.Millisecond
	DefaultGroupLaunchDelay  = 150 * time.Millisecond
)

// agentTags are the tags the stack gives agent n (from 1), as the
// program's fixed agents carry them and the group propagates them at launch.
func (c *Cluster) agentTags(name string) map[string]string {
	tags := map[string]string{facts.TagName: name}
	if !c.opts.UntaggedAgents {
		tags[facts.TagProject], tags[facts.TagStack], tags[facts.TagClusterID], tags[facts.TagRole] = facts.Project, Stack, ClusterID, facts.RoleAgent
	}
	return tags
}

// startGroup makes the agents the members of an Auto Scaling group
// (Options.AgentGroup), as the REX-Ray stack's are: the group replaces a
// lost agent by itself, and the new agent joins the ELB, Mesos and
// Marathon (join).
func (c *Cluster) startGroup() {
	if !c.opts.AgentGroup {
		return
	}
	c.asg = ec2test.NewAutoScaling(c.ec2)
	var members []string
	for _, a := range c.agents {
		members = append(members, a.InstanceID)
	}
	replace, launch := c.opts.GroupReplaceDelay, c.opts.GroupLaunchDelay
	if replace <= 0 {
		replace = DefaultGroupReplaceDelay
	}
	if launch <= 0 {
		launch = DefaultGroupLaunchDelay
	}
	c.asg.AddGroup(ec2test.Group{Name: GroupName, Desired: len(c.agents), Tags: c.agentTags(fmt.Sprintf("%s-%s-agent", facts.Project, Stack)),
		LoadBalancers: []string{Stack + "-" + ClusterID}, Members: members, ReplaceDelay: replace, LaunchDelay: launch,
		OnLaunch: func(in ec2test.Instance) { c.join(Agent{InstanceID: in.ID, Host: in.PrivateIP}, "") }})
}

// groupOutputs empties the agents' outputs of a group's cluster, as the
// real stack exports them: the tools find the agents by tag.
func (c *Cluster) groupOutputs() {
	if c.asg != nil {
		c.outputs.AgentInstanceIDs, c.outputs.AgentPrivateIPs = []string{}, []string{}
	}
}

// AutoScaling is the agents' group's API stand-in, nil without
// Options.AgentGroup.
func (c *Cluster) AutoScaling() *ec2test.AutoScaling { return c.asg }

// ReplaceLostAgents brings the cluster back to full strength after agents
// were terminated, as `pulumi up --refresh` does on a stack of fixed
// agents (Flocker's; the refresh finds the terminated instance gone, the up
// creates it again): for each terminated agent a new instance with a new
// id and private IP, tagged as the stack tags its agents, registered with
// the ELB (which keeps the dead one, out of service) and with Mesos, whose
// leader lists it active. The outputs name the new agents in place of the
// lost ones. It returns the new agents; none when no agent was lost, and
// none with Options.AgentGroup: the group replaces lost agents itself.
func (c *Cluster) ReplaceLostAgents() []Agent {
	if c.asg != nil {
		return nil
	}
	type swap struct {
		lost  Agent
		index int
		new   Agent
	}
	// ec2test calls onTerminate under its lock, which then takes c.mu: the
	// stand-ins are called without c.mu held.
	c.mu.Lock()
	var swaps []swap
	for i, a := range c.agents {
		if !c.dead[a.Host] || c.replaced[a.Host] {
			continue
		}
		c.replaced[a.Host] = true
		c.replacements++
		n := c.replacements
		swaps = append(swaps, swap{lost: a, index: i, new: Agent{InstanceID: fmt.Sprintf("i-0a9e000000002%04x", n), Host: fmt.Sprintf("10.42.%d.%d", 2+n/250, 1+n%250)}})
	}
	c.mu.Unlock()
	var added []Agent
	for _, s := range swaps {
		c.ec2.AddInstance(ec2test.Instance{ID: s.new.InstanceID, PrivateIP: s.new.Host, Tags: c.agentTags(fmt.Sprintf("%s-%s-agent-%d", facts.Project, Stack, s.index+1))})
		c.join(s.new, s.lost.InstanceID)
		added = append(added, s.new)
	}
	return added
}

// join makes a new agent a member of the cluster: registered with the ELB
// and with Mesos (active with its leader), offered to Marathon, and named
// in the outputs in place of lost when the outputs name agents.
func (c *Cluster) join(a Agent, lost string) {
	c.rememberGroups(a.InstanceID)
	c.elb.Register(a.InstanceID)
	c.mu.Lock()
	c.agents = append(c.agents, a)
	c.registered[a.Host] = true
	c.active[a.Host] = c.mesosLeader >= 0
	for j, id := range c.outputs.AgentInstanceIDs {
		if id == lost {
			c.outputs.AgentInstanceIDs[j], c.outputs.AgentPrivateIPs[j] = a.InstanceID, a.Host
		}
	}
	c.mu.Unlock()
	c.mt.AddAgent(a.Host) // last: Marathon may place the app there at once
}
