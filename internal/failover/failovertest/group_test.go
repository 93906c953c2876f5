package failovertest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// With AgentGroup, the stand-in group does what ReplaceLostAgents does by
// hand: after the app's agent is killed, it launches a replacement, tagged
// at launch, which joins Mesos and the ELB; the outputs name no agent, and
// the tools find the new one by tag; the next kill moves the app there.
func TestGroupReplacesLostAgents(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{AgentGroup: true})
	o := c.Outputs()
	if len(o.AgentInstanceIDs) != 0 || len(o.AgentPrivateIPs) != 0 {
		t.Fatalf("outputs name agents %v %v: a group's stack names none", o.AgentInstanceIDs, o.AgentPrivateIPs)
	}
	if got := c.ReplaceLostAgents(); got != nil {
		t.Errorf("ReplaceLostAgents %v with a group: the group replaces", got)
	}
	first, second := c.Agents()[0], c.Agents()[1]
	scope := ec2ops.Scope{Stack: failovertest.Stack, ClusterID: failovertest.ClusterID}
	ec2 := c.EC2()
	ctx := context.Background()
	if g, err := ec2.AgentGroup(ctx, scope); err != nil || !g.Full() || g.Desired != 2 {
		t.Fatalf("group %v %v", g, err)
	}
	terminate(t, c, first.InstanceID)
	took, g, err := ec2.WaitFullStrength(ctx, scope, nil)
	if err != nil || slices.Contains(g.InService, first.InstanceID) || !slices.Contains(g.InService, second.InstanceID) {
		t.Fatalf("group %v %v after the kill", g, err)
	}
	if took < failovertest.DefaultGroupReplaceDelay {
		t.Errorf("full strength after %s, under the group's replace delay", took)
	}
	var added string
	for _, id := range g.InService {
		if id != second.InstanceID {
			added = id
		}
	}
	live, err := ec2.LiveAgents(ctx, failovertest.ClusterID)
	if err != nil {
		t.Fatal(err)
	}
	var host string
	for _, a := range live {
		if a.ID == added && a.Tags[facts.TagStack] == failovertest.Stack {
			host = a.PrivateIP
		}
	}
	if host == "" {
		t.Fatalf("the tools' tag look-up does not find the replacement %s among %+v", added, live)
	}
	waitFor(t, "Mesos to list the replacement active", func() bool {
		st, err := failover.NewMesosProbe(o.MesosURLs, nil)(ctx)
		return err == nil && slices.Contains(st.Agents, host)
	})
	waitFor(t, "the app on the second agent", func() bool { return c.TaskHost() == second.Host && c.App().Ping(ctx) == nil })
	terminate(t, c, second.InstanceID)
	waitFor(t, "the app on the replacement", func() bool { return c.TaskHost() == host && c.App().Ping(ctx) == nil })
	if _, _, err := ec2.WaitFullStrength(ctx, scope, nil); err != nil {
		t.Errorf("the group after the second kill: %v", err)
	}
}
