package ec2ops_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// sweepSetup starts an EC2 and an ELB stand-in and a Sweeper over the real
// SDK clients pointed at them.
func sweepSetup(t *testing.T, opts ...ec2test.Option) (*ec2test.Server, *ec2test.ELBServer, *ec2ops.Sweeper) {
	t.Helper()
	srv := ec2test.NewServer(opts...)
	t.Cleanup(srv.Close)
	lbs := ec2test.NewELBServer()
	t.Cleanup(lbs.Close)
	return srv, lbs, ec2ops.NewSweeper(srv.Client(), lbs.Client())
}

func sweepFast(progress *bytes.Buffer, keep ...string) ec2ops.SweepOptions {
	opts := ec2ops.SweepOptions{Keep: keep, Wait: 5 * time.Second, Poll: 2 * time.Millisecond}
	if progress != nil {
		opts.Progress = progress
	}
	return opts
}

// seedStack adds, for stack "dev" cluster "c0ffee12", an agent whose
// create Pulumi never recorded (with its root volume), an available volume
// and the ELB; and, for contrast, another stack's agent and ELB and an
// untagged instance.
func seedStack(srv *ec2test.Server, lbs *ec2test.ELBServer) {
	ours := tags(stack, cluster, facts.RoleAgent)
	srv.AddInstance(ec2test.Instance{ID: "i-0leftover", PrivateIP: "10.42.1.12", Tags: ours})
	srv.AddVolume(ec2test.Volume{ID: "vol-0root", AttachedTo: "i-0leftover", Device: "/dev/sda1", DeleteOnTermination: true, Tags: ours})
	srv.AddVolume(ec2test.Volume{ID: "vol-0loose", Tags: tags(stack, cluster, "")})
	lbs.AddLoadBalancer(ec2test.LoadBalancer{Name: "dev-c0ffee12", Instances: []string{"i-0leftover"}, Tags: tags(stack, cluster, facts.RoleLB)})

	srv.AddInstance(ec2test.Instance{ID: "i-0prod", Tags: tags("prod", "deadbeef", facts.RoleAgent)})
	srv.AddInstance(ec2test.Instance{ID: "i-0untagged"})
	lbs.AddLoadBalancer(ec2test.LoadBalancer{Name: "prod-deadbeef", Tags: tags("prod", "deadbeef", facts.RoleLB)})
	lbs.AddLoadBalancer(ec2test.LoadBalancer{Name: "someone-elses"})
}

func TestSweepRemovesWhatTheStacksTagsFind(t *testing.T) {
	srv, lbs, sw := sweepSetup(t, ec2test.WithShutdownDelay(30*time.Millisecond))
	seedStack(srv, lbs)
	var progress bytes.Buffer
	rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, sweepFast(&progress))
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	if !slices.Equal(rep.Terminated, []string{"i-0leftover"}) || !slices.Equal(rep.LoadBalancersDeleted, []string{"dev-c0ffee12"}) ||
		!slices.Equal(rep.VolumesDeleted, []string{"vol-0loose"}) || len(rep.Left) != 0 || !rep.Found() || rep.Seconds <= 0 {
		t.Errorf("report %+v", rep)
	}
	if in, _ := srv.Instance("i-0leftover"); in.State != ec2test.StateTerminated {
		t.Errorf("leftover instance is %s", in.State)
	}
	if got := srv.VolumeIDs(); len(got) != 0 {
		t.Errorf("volumes left %v: the root volume goes with its instance, the loose one is deleted", got)
	}
	if got := lbs.Names(); !slices.Equal(got, []string{"prod-deadbeef", "someone-elses"}) {
		t.Errorf("load balancers left %v", got)
	}
	for _, id := range []string{"i-0prod", "i-0untagged"} {
		if in, _ := srv.Instance(id); in.State != ec2test.StateRunning {
			t.Errorf("%s is %s: the sweep touched what is not the stack's", id, in.State)
		}
	}
	for _, c := range srv.Calls("TerminateInstances") {
		if ids := c.Params["InstanceId.1"]; len(ids) != 1 || ids[0] != "i-0leftover" || c.Params.Get("InstanceId.2") != "" {
			t.Errorf("TerminateInstances %v", c.Params)
		}
	}
	// The first listing asks EC2 for exactly the stack's tags.
	first := srv.Calls("DescribeInstances")[0].Params
	for i, want := range [][2]string{{facts.TagClusterID, cluster}, {facts.TagProject, facts.Project}, {facts.TagStack, stack}} {
		n := fmt.Sprint(i + 1)
		if first.Get("Filter."+n+".Name") != "tag:"+want[0] || first.Get("Filter."+n+".Value.1") != want[1] {
			t.Errorf("DescribeInstances filter %d: %v", i+1, first)
		}
	}
	for _, want := range []string{"1 instance and 1 load balancer not in the state", "terminating instance i-0leftover",
		"deleted load balancer dev-c0ffee12", "waiting", "deleted volume vol-0loose"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
}

func TestSweepLeavesWhatTheStateManages(t *testing.T) {
	srv, lbs, sw := sweepSetup(t)
	seedStack(srv, lbs)
	ours := tags(stack, cluster, facts.RoleMaster)
	srv.AddInstance(ec2test.Instance{ID: "i-0master", Tags: ours})
	srv.AddVolume(ec2test.Volume{ID: "vol-0masterroot", AttachedTo: "i-0master", DeleteOnTermination: true, Tags: ours})
	var progress bytes.Buffer
	rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack}, sweepFast(&progress, "i-0master", "dev-c0ffee12", "vol-0loose"))
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	if !slices.Equal(rep.Terminated, []string{"i-0leftover"}) || len(rep.LoadBalancersDeleted) != 0 || len(rep.VolumesDeleted) != 0 || len(rep.Kept) != 2 {
		t.Errorf("report %+v: only the instance the state does not know is swept", rep)
	}
	if in, _ := srv.Instance("i-0master"); in.State != ec2test.StateRunning {
		t.Errorf("kept instance is %s", in.State)
	}
	if got := srv.VolumeIDs(); !slices.Equal(got, []string{"vol-0loose", "vol-0masterroot"}) {
		t.Errorf("volumes %v: the kept instance's root volume and the kept volume stay", got)
	}
	if got := lbs.Names(); !slices.Contains(got, "dev-c0ffee12") {
		t.Errorf("the kept ELB was deleted: %v", got)
	}
}

func TestSweepOfACleanStackDoesNothing(t *testing.T) {
	srv, lbs, sw := sweepSetup(t)
	lbs.AddLoadBalancer(ec2test.LoadBalancer{Name: "prod-deadbeef", Tags: tags("prod", "deadbeef", facts.RoleLB)})
	srv.AddInstance(ec2test.Instance{ID: "i-0gone", State: ec2test.StateTerminated, Tags: tags(stack, cluster, facts.RoleAgent)})
	rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, sweepFast(nil))
	if err != nil || rep.Found() || len(rep.Left) != 0 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if n := len(srv.Calls("TerminateInstances")) + len(srv.Calls("DeleteVolume")) + len(lbs.Calls("DeleteLoadBalancer")); n != 0 {
		t.Errorf("%d destructive calls on a clean stack", n)
	}
}

// A volume of an instance that is already going away (a root volume right
// after the destroy) is waited for, not reported as left.
func TestSweepWaitsForAVolumeOfAnInstanceGoingAway(t *testing.T) {
	srv, _, sw := sweepSetup(t, ec2test.WithShutdownDelay(30*time.Millisecond))
	srv.AddInstance(ec2test.Instance{ID: "i-0dying", State: ec2test.StateShuttingDown, Tags: map[string]string{"Name": "not the stack's"}})
	srv.AddVolume(ec2test.Volume{ID: "vol-0root", AttachedTo: "i-0dying", DeleteOnTermination: true, Tags: tags(stack, cluster, "")})
	rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, sweepFast(nil))
	if err != nil || len(rep.Left) != 0 || len(srv.VolumeIDs()) != 0 {
		t.Errorf("report %+v, %v, volumes %v", rep, err, srv.VolumeIDs())
	}
	if n := len(srv.Calls("TerminateInstances")); n != 0 {
		t.Errorf("%d TerminateInstances calls: the instance is not the stack's", n)
	}
}

// The cluster id, when known, narrows the scope: a same-named stack's
// other cluster is not this run's.
func TestSweepClusterIDNarrows(t *testing.T) {
	srv, _, sw := sweepSetup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0othercluster", Tags: tags(stack, "deadbeef", facts.RoleAgent)})
	rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, sweepFast(nil))
	if err != nil || rep.Found() {
		t.Errorf("report %+v, %v", rep, err)
	}
	if in, _ := srv.Instance("i-0othercluster"); in.State != ec2test.StateRunning {
		t.Errorf("instance of another cluster is %s", in.State)
	}
}

func TestSweepFailsWhenSomethingIsLeft(t *testing.T) {
	t.Run("terminate refused", func(t *testing.T) {
		srv, lbs, sw := sweepSetup(t)
		seedStack(srv, lbs)
		srv.Fail("TerminateInstances", -1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
		rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, sweepFast(nil))
		if err == nil || !strings.Contains(err.Error(), "still there after the sweep") || !strings.Contains(err.Error(), "i-0leftover") ||
			!strings.Contains(err.Error(), "ec2:TerminateInstances") {
			t.Fatalf("error %v: want the instance named as left, and the permission to grant", err)
		}
		if len(rep.Left) == 0 || !strings.Contains(strings.Join(rep.Left, " "), "instance i-0leftover (running") {
			t.Errorf("left %q", rep.Left)
		}
		if !slices.Equal(rep.LoadBalancersDeleted, []string{"dev-c0ffee12"}) {
			t.Errorf("one failure stopped the rest of the sweep: %+v", rep)
		}
	})
	t.Run("volume attached elsewhere", func(t *testing.T) {
		srv, _, sw := sweepSetup(t)
		// Attached to an instance outside the scope: it never detaches, so
		// the sweep does not wait for it.
		srv.AddVolume(ec2test.Volume{ID: "vol-0stuck", AttachedTo: "i-0elsewhere", Tags: tags(stack, cluster, "")})
		start := time.Now()
		rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, sweepFast(nil))
		if err == nil || !strings.Contains(err.Error(), "vol-0stuck") || !strings.Contains(err.Error(), "attached to i-0elsewhere") {
			t.Fatalf("error %v", err)
		}
		if len(rep.Left) != 1 || !strings.HasPrefix(rep.Left[0], "volume vol-0stuck") {
			t.Errorf("left %q", rep.Left)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("the sweep waited %s for a volume that cannot detach", d)
		}
	})
	t.Run("instance slow to terminate", func(t *testing.T) {
		srv, _, sw := sweepSetup(t, ec2test.WithShutdownDelay(time.Hour))
		srv.AddInstance(ec2test.Instance{ID: "i-0slow", Tags: tags(stack, cluster, facts.RoleAgent)})
		var progress bytes.Buffer
		opts := sweepFast(&progress)
		opts.Wait = 50 * time.Millisecond
		rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, opts)
		if err == nil || !strings.Contains(err.Error(), "still waiting after 50ms for: instance i-0slow (shutting-down") {
			t.Fatalf("error %v", err)
		}
		if len(rep.Left) != 1 || !strings.HasPrefix(rep.Left[0], "instance i-0slow (shutting-down") {
			t.Errorf("left %q", rep.Left)
		}
		if !strings.Contains(progress.String(), "sweep: waiting (") {
			t.Errorf("no progress while waiting:\n%s", progress.String())
		}
	})
}

func TestSweepScopeIsChecked(t *testing.T) {
	srv, lbs, sw := sweepSetup(t)
	for _, sc := range []ec2ops.SweepScope{{}, {Stack: "dev*"}, {Stack: "dev", ClusterID: "c0ffee1?"}} {
		if _, err := sw.Sweep(context.Background(), sc, sweepFast(nil)); err == nil {
			t.Errorf("scope %+v accepted", sc)
		}
	}
	if n := len(srv.Requests()) + len(lbs.Calls("DescribeLoadBalancers")); n != 0 {
		t.Errorf("%d calls made with a bad scope", n)
	}
}

// DescribeTags takes at most 20 names, and one name deleted between the
// listing and the tags fails the whole call.
func TestSweepReadsELBTagsInBatches(t *testing.T) {
	_, lbs, sw := sweepSetup(t)
	for i := range 25 {
		lbs.AddLoadBalancer(ec2test.LoadBalancer{Name: fmt.Sprintf("other-%02d", i)})
	}
	lbs.AddLoadBalancer(ec2test.LoadBalancer{Name: "dev-c0ffee12", Tags: tags(stack, cluster, facts.RoleLB)})
	lbs.Fail("DescribeTags", 1, http.StatusBadRequest, "LoadBalancerNotFound", "There is no ACTIVE Load Balancer named 'other-03'")
	rep, err := sw.Sweep(context.Background(), ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, sweepFast(nil))
	if err != nil || !slices.Equal(rep.LoadBalancersDeleted, []string{"dev-c0ffee12"}) {
		t.Fatalf("report %+v, %v", rep, err)
	}
	for _, c := range lbs.Calls("DescribeTags") {
		if c.Params.Get("LoadBalancerNames.member.21") != "" {
			t.Errorf("DescribeTags with more than 20 names: %v", c.Params)
		}
	}
}
