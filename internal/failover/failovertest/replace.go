package failovertest

import (
	"fmt"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// ReplaceLostAgents brings the cluster back to full strength after agents
// were terminated, as `pulumi up --refresh` does on the real stack (the
// refresh finds the terminated instance gone, the up creates it again): for
// each terminated agent a new instance with a new id and private IP, tagged
// as the stack tags its agents, registered with the ELB (which keeps the
// dead one, out of service) and with Mesos, whose leader lists it active.
// The outputs name the new agents in place of the lost ones. It returns
// the new agents; none when no agent was lost.
func (c *Cluster) ReplaceLostAgents() []Agent {
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
		tags := map[string]string{facts.TagName: fmt.Sprintf("%s-%s-agent-%d", facts.Project, Stack, s.index+1)}
		if !c.opts.UntaggedAgents {
			tags[facts.TagProject], tags[facts.TagStack], tags[facts.TagClusterID], tags[facts.TagRole] = facts.Project, Stack, ClusterID, facts.RoleAgent
		}
		c.ec2.AddInstance(ec2test.Instance{ID: s.new.InstanceID, PrivateIP: s.new.Host, Tags: tags})
		c.rememberGroups(s.new.InstanceID)
		c.elb.Register(s.new.InstanceID)
		c.mu.Lock()
		c.agents = append(c.agents, s.new)
		c.registered[s.new.Host] = true
		c.active[s.new.Host] = c.mesosLeader >= 0
		for j, id := range c.outputs.AgentInstanceIDs {
			if id == s.lost.InstanceID {
				c.outputs.AgentInstanceIDs[j], c.outputs.AgentPrivateIPs[j] = s.new.InstanceID, s.new.Host
			}
		}
		c.mu.Unlock()
		c.mt.AddAgent(s.new.Host) // last: Marathon may place the app there at once
		added = append(added, s.new)
	}
	return added
}
