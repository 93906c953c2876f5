package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// partitionOutputs writes the cluster's outputs with the ELB's security
// group (seeded here, out only to the agents' groups on the app port) and
// the app port, which the partition needs.
func partitionOutputs(t *testing.T, c *failovertest.Cluster) (path, elbGroup string) {
	t.Helper()
	o := c.Outputs()
	agent, _ := c.EC2Server().Instance(c.Agents()[0].InstanceID)
	elbGroup = c.EC2Server().AddSecurityGroup(ec2test.SecurityGroup{Name: "failover-test-elb-sg", Description: "elb",
		Egress: []ec2test.Rule{{Protocol: "tcp", FromPort: 8500, ToPort: 8500, GroupID: agent.SecurityGroups[0]}}})
	o.ELBSecurityGroupID, o.AppPort = elbGroup, 8500
	raw, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, elbGroup
}

// changes are the EC2 calls that change something, in order.
func changes(c *failovertest.Cluster) []ec2test.Request {
	var out []ec2test.Request
	for _, r := range c.EC2Server().Requests() {
		if !strings.HasPrefix(r.Action, "Describe") && r.Action != "GetConsoleOutput" {
			out = append(out, r)
		}
	}
	return out
}

// The stand-in cluster has no partition physics of its own (another part
// glues them to ec2test's groups hook): cut off or not, its app keeps
// serving from the old agent, nothing fails over, and the watch ends at
// its deadline. What this test holds kill-node to is its own part: the
// swap, the heal after --heal-after, the restore, their calls in order and
// their events.
func TestPartitionSwapsHealsAndRestores(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	outputs, elbGroup := partitionOutputs(t, c)
	target := c.Agents()[0].InstanceID
	before, _ := c.EC2Server().Instance(target)
	r := runWith(t, testDeps(c, ""), "--outputs", outputs, "--yes", "--mode", "partition", "--heal-after", "300ms",
		"--interval", "5ms", "--timeout", "1500ms", "--flush-wait", "1ms", "--clicks", "2", "--json")

	var got []string
	for _, req := range changes(c) {
		got = append(got, req.Action)
	}
	want := []string{"CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupEgress", "AuthorizeSecurityGroupEgress",
		"ModifyInstanceAttribute", "ModifyInstanceAttribute", "RevokeSecurityGroupEgress", "DeleteSecurityGroup"}
	if !slices.Equal(got, want) {
		t.Fatalf("EC2 changes %v, want %v\nstderr:\n%s", got, want, r.stderr)
	}
	ch := changes(c)
	swap, heal := ch[4], ch[5]
	if swap.Params.Get("InstanceId") != target || heal.Params.Get("InstanceId") != target || heal.Params.Get("GroupId.1") != before.SecurityGroups[0] {
		t.Errorf("swap %v, heal %v", swap.Params, heal.Params)
	}
	if d := heal.At.Sub(swap.At); d < 300*time.Millisecond || d > time.Second {
		t.Errorf("healed %s after the swap, want --heal-after 300ms, well before the watch's deadline", d)
	}
	if in, _ := c.EC2Server().Instance(target); !slices.Equal(in.SecurityGroups, before.SecurityGroups) || in.State != ec2test.StateRunning {
		t.Errorf("after the drill the instance is %s in %v, want running in %v", in.State, in.SecurityGroups, before.SecurityGroups)
	}
	if g, _ := c.EC2Server().SecurityGroup(elbGroup); len(g.Egress) != 1 {
		t.Errorf("the ELB's group lets out %v after the drill", g.Egress)
	}
	if n := len(c.EC2Server().Calls("TerminateInstances")); n != 0 {
		t.Errorf("kill-node terminated %d instances in a partition", n)
	}
	// Without the partition physics nothing fails over: exit 1.
	if r.code != 1 || !strings.Contains(r.stderr, "deadline 1.5s exceeded") {
		t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	var rep failover.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, r.stdout)
	}
	if rep.Mode != failover.ModePartition || rep.Partition == nil || !rep.Partition.Restored || !rep.Partition.GroupDeleted || rep.Partition.HealAfterSeconds != 0.3 {
		t.Errorf("report mode %s, partition %+v", rep.Mode, rep.Partition)
	}
	at := map[string]time.Time{}
	for _, e := range rep.Timeline {
		at[e.Name] = e.At
	}
	for _, ev := range []string{failover.EventPartitionRequested, failover.EventGroupsSwapped, failover.EventGroupsRestored, failover.EventDrillGroupDeleted} {
		if at[ev].IsZero() {
			t.Errorf("the timeline lacks %q: %+v", ev, rep.Timeline)
		}
	}
	if !at[failover.EventPartitionRequested].Before(at[failover.EventGroupsSwapped]) || !swap.At.Before(at[failover.EventGroupsSwapped]) ||
		at[failover.EventGroupsRestored].Before(heal.At) || at[failover.EventDrillGroupDeleted].Before(at[failover.EventGroupsRestored]) {
		t.Errorf("events out of order with the stand-in's calls (swap %s, heal %s): %+v", swap.At, heal.At, rep.Timeline)
	}
	if !strings.Contains(r.stderr, "partition (rexray, partition)") && !strings.Contains(r.stderr, "(rexray, partition):") {
		t.Errorf("the partition budget is not printed:\n%s", r.stderr)
	}
}

// An interrupt (SIGINT cancels run's context in main) restores the groups.
func TestPartitionInterruptedRestores(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	outputs, _ := partitionOutputs(t, c)
	target := c.Agents()[0].InstanceID
	before, _ := c.EC2Server().Instance(target)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for len(c.EC2Server().Calls("ModifyInstanceAttribute")) == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(30 * time.Millisecond) // into the watch, most often
		cancel()
	}()
	var stdout, stderr bytes.Buffer
	d := testDeps(c, "")
	d.stdout, d.stderr = &stdout, &stderr
	code := run(ctx, []string{"--outputs", outputs, "--yes", "--mode", "partition", "--heal-after", "1h", "--interval", "5ms", "--timeout", "1h", "--flush-wait", "1ms"}, d)
	// The interrupt lands in the watch ("cancelled") or, on a slow
	// machine, still in the isolation's check of the swap.
	if code != 1 || !strings.Contains(stdout.String(), "cancelled") && !strings.Contains(stderr.String(), "context canceled") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if in, _ := c.EC2Server().Instance(target); !slices.Equal(in.SecurityGroups, before.SecurityGroups) {
		t.Errorf("after the interrupt the instance is in %v, want %v", in.SecurityGroups, before.SecurityGroups)
	}
	if n := len(c.EC2Server().Calls("DeleteSecurityGroup")); n != 1 {
		t.Errorf("%d DeleteSecurityGroup calls, want 1", n)
	}
}

func TestPartitionUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stack", "dev", "--heal-after", "10s"}, "--heal-after is for --mode partition"},
		{[]string{"--stack", "dev", "--mode", "partition", "--heal-after", "-1s"}, "negative"},
		{[]string{"--stack", "dev", "--mode", "partition", "--no-watch"}, "--no-watch"},
		{[]string{"--stack", "dev", "--mode", "partition", "--target", "leading-master"}, "not a master"},
	} {
		r := runWith(t, deps{stdin: strings.NewReader("")}, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestPartitionNeedsTheOutputs(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--mode", "partition", "--clicks", "0")...)
	if r.code != 1 || !strings.Contains(r.stderr, "elbSecurityGroupId") || len(changes(c)) != 0 {
		t.Errorf("exit %d, changes %v\nstderr:\n%s", r.code, changes(c), r.stderr)
	}
}
