package ec2ops_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

const (
	agentsGroup = "sg-0a9e0000000000001"
	extraGroup  = "sg-0a9e0000000000002"
	appPort     = 8500
)

// partitionSetup seeds an agent of the stack in two groups and the ELB's
// group, and returns the spec that lets the ELB in.
func partitionSetup(t *testing.T, opts ...ec2test.Option) (*ec2test.Server, *ec2ops.Client, ec2ops.PartitionSpec) {
	t.Helper()
	srv, c := setup(t, opts...)
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", PrivateIP: "10.42.1.101", Tags: tags(stack, cluster, facts.RoleAgent),
		SecurityGroups: []string{agentsGroup, extraGroup}})
	elb := srv.AddSecurityGroup(elbGroup)
	return srv, c, ec2ops.PartitionSpec{AppPort: appPort, ELBGroupID: elb}
}

// elbGroup is the ELB's group as the stack makes it: out only to the
// agents' group on the app port (components/network.go, elb-to-agents).
var elbGroup = ec2test.SecurityGroup{Name: "dev-elb-sg", Description: "elb",
	Egress: []ec2test.Rule{{Protocol: "tcp", FromPort: appPort, ToPort: appPort, GroupID: agentsGroup}}}

// groupsOf is the stand-in's own record of the instance's groups.
func groupsOf(t *testing.T, srv *ec2test.Server, id string) []string {
	t.Helper()
	in, ok := srv.Instance(id)
	if !ok {
		t.Fatalf("no instance %s", id)
	}
	return in.SecurityGroups
}

// drillGroupsLeft are the groups tagged as the stack's partition drill's.
func drillGroupsLeft(srv *ec2test.Server) []string {
	var out []string
	for _, g := range srv.SecurityGroups() {
		if g.Tags[facts.TagDrill] == facts.DrillPartition && g.Tags[facts.TagStack] == stack {
			out = append(out, g.ID)
		}
	}
	return out
}

// checkIsolated asserts, from the stand-in's record, that the instance is
// in the drill group alone and that the group lets in TCP on the app port
// from the ELB's group and nothing else, and lets nothing out.
func checkIsolated(t *testing.T, srv *ec2test.Server, iso *ec2ops.Isolation, spec ec2ops.PartitionSpec) {
	t.Helper()
	if got := groupsOf(t, srv, "i-0agent"); !slices.Equal(got, []string{iso.GroupID}) {
		t.Errorf("while partitioned the instance is in %v, want only %s", got, iso.GroupID)
	}
	g, ok := srv.SecurityGroup(iso.GroupID)
	want := []ec2test.Rule{{Protocol: "tcp", FromPort: appPort, ToPort: appPort, GroupID: spec.ELBGroupID}}
	if !ok || !slices.Equal(g.Ingress, want) || len(g.Egress) != 0 || g.VpcID != ec2test.VpcID {
		t.Errorf("drill group %+v: want ingress %v only, no egress, in %s", g, want, ec2test.VpcID)
	}
	// The ELB may reach the drill group's member on the app port.
	if e, _ := srv.SecurityGroup(spec.ELBGroupID); !slices.Contains(e.Egress, ec2test.Rule{Protocol: "tcp", FromPort: appPort, ToPort: appPort, GroupID: iso.GroupID}) {
		t.Errorf("the ELB's group lets out only %v: the isolated agent is out of its reach", e.Egress)
	}
	for k, v := range map[string]string{facts.TagStack: stack, facts.TagClusterID: cluster, facts.TagProject: facts.Project,
		facts.TagDrill: facts.DrillPartition, facts.TagDrillInstance: "i-0agent", facts.TagDrillOriginalGroups: agentsGroup + "," + extraGroup} {
		if g.Tags[k] != v {
			t.Errorf("drill group tag %s = %q, want %q", k, g.Tags[k], v)
		}
	}
}

// checkRestored asserts the instance is back in exactly its groups and the
// drill group is gone.
func checkRestored(t *testing.T, srv *ec2test.Server) {
	t.Helper()
	if got := groupsOf(t, srv, "i-0agent"); !slices.Equal(got, []string{agentsGroup, extraGroup}) {
		t.Errorf("after the drill the instance is in %v, want %v", got, []string{agentsGroup, extraGroup})
	}
	if left := drillGroupsLeft(srv); len(left) != 0 {
		t.Errorf("drill groups left: %v", left)
	}
	for _, g := range srv.SecurityGroups() {
		if g.Name == elbGroup.Name && !slices.Equal(g.Egress, elbGroup.Egress) {
			t.Errorf("the ELB's group lets out %v after the drill, want %v", g.Egress, elbGroup.Egress)
		}
	}
}

func TestPartitionSwapsAndRestores(t *testing.T) {
	srv, c, spec := partitionSetup(t)
	var progress bytes.Buffer
	iso, err := c.Partition(context.Background(), scope, "i-0agent", spec, &progress, func(_ context.Context, iso *ec2ops.Isolation) error {
		checkIsolated(t, srv, iso, spec)
		return nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	checkRestored(t, srv)
	if iso.SwapRequestedAt.IsZero() || iso.SwappedAt.Before(iso.SwapRequestedAt) || iso.RestoredAt.Before(iso.SwappedAt) || iso.GroupDeletedAt.Before(iso.RestoredAt) {
		t.Errorf("times out of order: %+v", iso)
	}
	// The calls, in order: the swap is the only change before the restore.
	var order []string
	for _, r := range srv.Requests() {
		if r.Action != "DescribeInstances" && r.Action != "DescribeSecurityGroups" {
			order = append(order, r.Action)
		}
	}
	want := []string{"CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupEgress", "AuthorizeSecurityGroupEgress",
		"ModifyInstanceAttribute", "ModifyInstanceAttribute", "RevokeSecurityGroupEgress", "DeleteSecurityGroup"}
	if !slices.Equal(order, want) {
		t.Errorf("calls %v, want %v", order, want)
	}
	mods := srv.Calls("ModifyInstanceAttribute")
	if len(mods) != 2 || mods[1].Params.Get("GroupId.1") != agentsGroup || mods[1].Params.Get("GroupId.2") != extraGroup {
		t.Errorf("restore sent %v", mods[1].Params)
	}
	// A second restore does nothing.
	n := len(srv.Requests())
	if err := iso.Restore(context.Background()); err != nil || len(srv.Requests()) != n {
		t.Errorf("second restore: %v, %d more calls", err, len(srv.Requests())-n)
	}
}

func TestPartitionRestoresOnEveryExit(t *testing.T) {
	boom := errors.New("the drill failed")
	for _, tc := range []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		during func(ctx context.Context) error
		want   error
	}{
		{"error", background, func(context.Context) error { return boom }, boom},
		{"timeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		},
			func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c, spec := partitionSetup(t)
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := c.Partition(ctx, scope, "i-0agent", spec, nil, func(ctx context.Context, iso *ec2ops.Isolation) error {
				checkIsolated(t, srv, iso, spec)
				return tc.during(ctx)
			})
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			checkRestored(t, srv)
		})
	}
}

func background() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

func TestPartitionRestoresOnPanic(t *testing.T) {
	srv, c, spec := partitionSetup(t)
	func() {
		defer func() {
			if p := recover(); p != "injected" {
				t.Errorf("panic %v, want the injected one raised again", p)
			}
		}()
		_, _ = c.Partition(context.Background(), scope, "i-0agent", spec, nil, func(_ context.Context, iso *ec2ops.Isolation) error {
			checkIsolated(t, srv, iso, spec)
			panic("injected")
		})
	}()
	checkRestored(t, srv)
}

func TestIsolateUndoesAFailedSwap(t *testing.T) {
	srv, c, spec := partitionSetup(t)
	srv.Fail("ModifyInstanceAttribute", 1, http.StatusBadRequest, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	_, err := c.Isolate(context.Background(), scope, "i-0agent", spec, nil)
	if err == nil || !strings.Contains(err.Error(), "UnauthorizedOperation") || !strings.Contains(err.Error(), "the partition drill needs ec2:CreateSecurityGroup") {
		t.Fatalf("error %v", err)
	}
	checkRestored(t, srv)
}

func TestIsolateRefuses(t *testing.T) {
	srv, c, spec := partitionSetup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0other", Tags: tags("prod", cluster, facts.RoleAgent)})
	srv.AddInstance(ec2test.Instance{ID: "i-0stopped", State: ec2test.StateStopped, Tags: tags(stack, cluster, facts.RoleAgent)})
	for _, tc := range []struct {
		name, id string
		spec     ec2ops.PartitionSpec
		want     string
	}{
		{"another stack's instance", "i-0other", spec, "refusing instance i-0other"},
		{"not running", "i-0stopped", spec, "stopped, not running"},
		{"no ELB group", "i-0agent", ec2ops.PartitionSpec{AppPort: appPort}, "elbSecurityGroupId"},
		{"no app port", "i-0agent", ec2ops.PartitionSpec{ELBGroupID: spec.ELBGroupID}, "appPort"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Isolate(context.Background(), scope, tc.id, tc.spec, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	if n := len(srv.Calls("ModifyInstanceAttribute")) + len(srv.Calls("CreateSecurityGroup")); n != 0 {
		t.Errorf("%d changes made by refused isolations", n)
	}
}

// A fenced instance (terminated during the partition) has nothing to
// restore; the drill group is deleted once the termination released it.
func TestRestoreAfterTheFence(t *testing.T) {
	srv, c, spec := partitionSetup(t, ec2test.WithShutdownDelay(80*time.Millisecond))
	iso, err := c.Partition(context.Background(), scope, "i-0agent", spec, nil, func(ctx context.Context, iso *ec2ops.Isolation) error {
		return c.Terminate(ctx, scope, "i-0agent")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !iso.Gone || !iso.RestoredAt.IsZero() || iso.GroupDeletedAt.IsZero() {
		t.Errorf("isolation %+v: want the instance gone and the group deleted", iso)
	}
	if n := len(srv.Calls("ModifyInstanceAttribute")); n != 1 {
		t.Errorf("%d ModifyInstanceAttribute calls, want only the swap", n)
	}
	if fails := len(srv.Calls("DeleteSecurityGroup")); fails < 2 {
		t.Errorf("%d DeleteSecurityGroup calls: the first must meet DependencyViolation while the instance shuts down", fails)
	}
	if left := drillGroupsLeft(srv); len(left) != 0 {
		t.Errorf("drill groups left: %v", left)
	}
}

// A run that died while the agent was cut off leaves the drill group; the
// sweep restores the instance from the group's tags and deletes the group.
func TestSweepRestoresADeadRunsPartition(t *testing.T) {
	srv, _, sw := sweepSetup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", PrivateIP: "10.42.1.101", Tags: tags(stack, cluster, facts.RoleAgent),
		SecurityGroups: []string{agentsGroup, extraGroup}})
	elb := srv.AddSecurityGroup(elbGroup)
	spec := ec2ops.PartitionSpec{AppPort: appPort, ELBGroupID: elb}
	c := ec2ops.New(srv.Client(), ec2ops.WithPollInterval(2*time.Millisecond))
	iso, err := c.Isolate(context.Background(), scope, "i-0agent", spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The run dies here: no Restore. Another stack's drill group stays.
	other := srv.AddSecurityGroup(ec2test.SecurityGroup{Name: "prod-drill", Tags: map[string]string{facts.TagProject: facts.Project,
		facts.TagStack: "prod", facts.TagDrill: facts.DrillPartition, facts.TagDrillInstance: "i-0prod"}})
	var progress bytes.Buffer
	rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, sweepFast(&progress, "i-0agent"))
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	checkRestored(t, srv)
	if _, ok := srv.SecurityGroup(other); !ok {
		t.Error("the sweep deleted another stack's drill group")
	}
	p := rep.Partitions
	if p == nil || len(p.Groups) != 1 || !slices.Equal(p.Restored, []string{"i-0agent"}) || !slices.Equal(p.GroupsDeleted, []string{iso.GroupID}) || !rep.Found() || len(rep.Left) != 0 {
		t.Errorf("report %+v, partitions %+v", rep, p)
	}
	if in, _ := srv.Instance("i-0agent"); in.State != ec2test.StateRunning {
		t.Errorf("the kept agent is %s", in.State)
	}
	if !strings.Contains(progress.String(), iso.GroupID) {
		t.Errorf("progress does not name the group:\n%s", progress.String())
	}
}

// A drill group whose restore record is gone cannot be undone by the sweep:
// it says so and leaves the group.
func TestSweepLeavesADrillGroupItCannotUndo(t *testing.T) {
	srv, _, sw := sweepSetup(t)
	bad := srv.AddSecurityGroup(ec2test.SecurityGroup{Name: "dev-drill", Tags: map[string]string{facts.TagProject: facts.Project,
		facts.TagStack: stack, facts.TagClusterID: cluster, facts.TagDrill: facts.DrillPartition, facts.TagDrillInstance: "i-0agent"}})
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", Tags: tags(stack, cluster, facts.RoleAgent), SecurityGroups: []string{bad}})
	rep, err := sw.SweepPartitions(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, sweepFast(nil))
	if err == nil || !strings.Contains(err.Error(), facts.TagDrillOriginalGroups) || len(rep.Left) != 1 {
		t.Errorf("error %v, report %+v", err, rep)
	}
	if got := groupsOf(t, srv, "i-0agent"); !slices.Equal(got, []string{bad}) {
		t.Errorf("instance moved to %v", got)
	}
}
