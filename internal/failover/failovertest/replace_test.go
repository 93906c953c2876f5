package failovertest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// After the app's agent is lost and the app moved, ReplaceLostAgents adds
// a tagged instance that Mesos lists active and the outputs name, and the
// next loss moves the app there.
func TestReplaceLostAgentsRestoresFullStrength(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	if got := c.ReplaceLostAgents(); len(got) != 0 {
		t.Fatalf("replaced %v with no agent lost", got)
	}
	first, second := c.Agents()[0], c.Agents()[1]
	terminate(t, c, first.InstanceID)
	waitFor(t, "the app on the second agent", func() bool { return c.TaskHost() == second.Host && c.App().Ping(context.Background()) == nil })

	added := c.ReplaceLostAgents()
	if len(added) != 1 || slices.ContainsFunc([]string{first.InstanceID, second.InstanceID}, func(id string) bool { return id == added[0].InstanceID }) {
		t.Fatalf("added %+v: want one new agent", added)
	}
	b := added[0]
	if again := c.ReplaceLostAgents(); len(again) != 0 {
		t.Errorf("the lost agent was replaced twice: %+v", again)
	}
	in, ok := c.EC2Server().Instance(b.InstanceID)
	if !ok || in.State != ec2test.StateRunning || in.PrivateIP != b.Host || in.Tags[facts.TagStack] != failovertest.Stack || in.Tags[facts.TagRole] != facts.RoleAgent {
		t.Errorf("the new instance %+v", in)
	}
	o := c.Outputs()
	if !slices.Equal(o.AgentInstanceIDs, []string{b.InstanceID, second.InstanceID}) || !slices.Equal(o.AgentPrivateIPs, []string{b.Host, second.Host}) {
		t.Errorf("outputs name agents %v %v", o.AgentInstanceIDs, o.AgentPrivateIPs)
	}
	st, err := failover.NewMesosProbe(o.MesosURLs, nil)(context.Background())
	if err != nil || !slices.Contains(st.Agents, b.Host) {
		t.Errorf("Mesos lists %v (%v), want the new agent %s active", st.Agents, err, b.Host)
	}

	terminate(t, c, second.InstanceID)
	waitFor(t, "the app on the new agent", func() bool { return c.TaskHost() == b.Host && c.App().Ping(context.Background()) == nil })
}
