package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// On a cluster whose agents are an Auto Scaling group's, whose outputs
// name no agent, kill-node finds the app's agent by tag: after the group
// replaced the first two agents killed, the third kill hits a replacement.
func TestKillNodeFindsTheGroupsReplacement(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{AgentGroup: true})
	original := []string{c.Agents()[0].InstanceID, c.Agents()[1].InstanceID}
	scope := ec2ops.Scope{Stack: failovertest.Stack, ClusterID: failovertest.ClusterID}
	ctx := context.Background()
	for round := 1; round <= 3; round++ {
		host := c.TaskHost()
		target, err := c.EC2().FindByPrivateIP(ctx, scope, host)
		if err != nil {
			t.Fatalf("kill %d: the app's host %s: %v", round, host, err)
		}
		if round == 3 && slices.Contains(original, target.ID) {
			t.Fatalf("kill 3 targets %s, one of the first agents", target.ID)
		}
		r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes")...)
		if r.code != 0 || !strings.Contains(r.stderr+r.stdout, target.ID) {
			t.Fatalf("kill %d (%s): exit %d\nstdout:\n%s\nstderr:\n%s", round, target.ID, r.code, r.stdout, r.stderr)
		}
		if _, _, err := c.EC2().WaitFullStrength(ctx, scope, nil); err != nil {
			t.Fatalf("after kill %d: %v", round, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for c.TaskHost() == host || c.App().Ping(ctx) != nil {
			if time.Now().After(deadline) {
				t.Fatalf("after kill %d the app stays on %s", round, host)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
