package failover_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// startAndTarget starts a cluster and finds the agent to kill.
func startAndTarget(t *testing.T) (*failovertest.Cluster, stackoutputs.Outputs, failover.Target) {
	t.Helper()
	c := failovertest.StartT(t, failovertest.Options{})
	o := c.Outputs()
	target, err := failover.FindTarget(context.Background(), c.Marathon(), c.EC2(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c, o, target
}

// waitTaskOn waits until Marathon runs the app on host and the app
// answers from there through the ELB.
func waitTaskOn(t *testing.T, c *failovertest.Cluster, host string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, task := range c.MarathonServer().Tasks(c.Outputs().AppID) {
			if task.Host == host && task.State == "TASK_RUNNING" && c.TaskHost() == host && c.ELB().InService() {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the app never ran on %s", host)
}

// The app moves between FindTarget and the kill (the clicks and the
// page-cache wait take 35 s on a cluster): Mesos loses the agent, as in a
// partition or a crash of its Mesos agent, and Marathon runs the app on
// the other one. Kill re-reads Marathon just before TerminateInstances and
// refuses, naming where the app went; the EC2 stand-in's own log shows no
// TerminateInstances.
func TestKillRefusesATargetTheAppLeft(t *testing.T) {
	c, o, target := startAndTarget(t)
	ctx := context.Background()
	agents := c.Agents()
	c.MarathonServer().KillAgent(target.Host)
	waitTaskOn(t, c, agents[1].Host)

	at, err := failover.Kill(ctx, c.Marathon(), c.EC2(), c.LoadBalancer(), o, target, failover.ModeCrash)
	if err == nil || !at.IsZero() {
		t.Fatalf("Kill of the stale target %s: %v at %s, want a refusal", target.Host, err, at)
	}
	for _, want := range []string{"the app moved to " + agents[1].Host, "since the target was chosen", "nothing terminated", target.InstanceID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q: %v", want, err)
		}
	}
	if n := len(c.EC2Server().Calls("TerminateInstances")); n != 0 {
		t.Errorf("TerminateInstances called %d times", n)
	}
}

// Marathon still lists the task on the target, but the ELB serves the app
// from another instance too: the target is not the app's only instance in
// service, so nothing is terminated.
func TestKillRefusesWhenTheELBServesAnotherInstance(t *testing.T) {
	c, o, target := startAndTarget(t)
	ctx := context.Background()
	// Something answers the ELB's health checks on the other agent's app
	// port (a container started there by hand, say).
	stray := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer stray.Close()
	other := c.Agents()[1].InstanceID
	if err := c.ELB().SetInstanceBackend(other, stray.URL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !inService(t, c, other) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	_, err := failover.Kill(ctx, c.Marathon(), c.EC2(), c.LoadBalancer(), o, target, failover.ModeCrash)
	if err == nil || !strings.Contains(err.Error(), "the ELB has "+other+" in service") || !strings.Contains(err.Error(), "nothing terminated") {
		t.Fatalf("Kill: %v, want a refusal naming %s", err, other)
	}
	if n := len(c.EC2Server().Calls("TerminateInstances")); n != 0 {
		t.Errorf("TerminateInstances called %d times", n)
	}
}

func inService(t *testing.T, c *failovertest.Cluster, id string) bool {
	t.Helper()
	hs, err := c.LoadBalancer().Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.InstanceID == id && h.State == "InService" {
			return true
		}
	}
	return false
}
