package failovertest

import "slices"

// The partition drill's physics: kill-node --mode partition and the
// rehearsal's partition drill swap the agent's security groups for a drill
// group through the EC2 API (ec2ops Isolate: ModifyInstanceAttribute
// GroupId.N). The masters reach an agent only through the agents' group,
// which their rules name (components/network.go: Mesos's pings to the
// agent's port and the agent's answers); a rule that names a group matches
// only its members (Amazon VPC User Guide, "Security group rules",
// referencing security groups). So an agent in none of its launch groups
// is cut off from the masters, while the drill group lets the ELB in on
// the app port (the ELB's egress to it added by the drill). Restoring any
// of its launch groups heals it.

// rememberGroups records an agent's groups as EC2 launched it.
func (c *Cluster) rememberGroups(instanceID string) {
	in, ok := c.ec2.Instance(instanceID)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.homeGroups[instanceID] = slices.Clone(in.SecurityGroups)
}

// onGroupsChanged is ec2test's hook for a change of an instance's groups
// (under ec2test's lock: it calls nothing of the EC2 stand-in).
func (c *Cluster) onGroupsChanged(instanceID string, groupIDs []string) {
	c.mu.Lock()
	home, agent := c.homeGroups[instanceID]
	c.mu.Unlock()
	if !agent {
		return // a master: the drill refuses them
	}
	cut := true
	for _, g := range groupIDs {
		if slices.Contains(home, g) {
			cut = false
		}
	}
	c.SetPartitioned(instanceID, cut)
}
