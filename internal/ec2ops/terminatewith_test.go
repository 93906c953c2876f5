package ec2ops_test

import (
	"context"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// TerminateWith sends SkipOsShutdown only for a crash, and returns the
// time taken before the request, not after the answer.
func TestTerminateWithModesAndRequestTime(t *testing.T) {
	const latency = 100 * time.Millisecond
	srv, c := setup(t, ec2test.WithLatency("TerminateInstances", latency))
	srv.AddInstance(ec2test.Instance{ID: "i-0crash", Tags: tags(stack, cluster, facts.RoleAgent)})
	srv.AddInstance(ec2test.Instance{ID: "i-0graceful", Tags: tags(stack, cluster, facts.RoleAgent)})
	ctx := context.Background()
	for _, tc := range []struct {
		id   string
		skip bool
	}{{"i-0crash", true}, {"i-0graceful", false}} {
		before := time.Now()
		at, err := c.TerminateWith(ctx, scope, tc.id, ec2ops.TerminateOptions{SkipOSShutdown: tc.skip})
		after := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		calls := srv.Calls("TerminateInstances")
		last := calls[len(calls)-1]
		if at.Before(before) || at.After(last.At) || after.Sub(at) < latency {
			t.Errorf("%s: requested at %s, call %s..%s, received %s", tc.id, at, before, after, last.At)
		}
		if got := last.Params.Get("SkipOsShutdown"); (got == "true") != tc.skip || (!tc.skip && last.Params.Has("SkipOsShutdown")) {
			t.Errorf("%s: SkipOsShutdown %q", tc.id, got)
		}
		if in, _ := srv.Instance(tc.id); in.SkipOsShutdown != tc.skip {
			t.Errorf("%s: recorded %+v", tc.id, in)
		}
	}
	// Already terminating: nothing is sent and the time is zero.
	if at, err := c.TerminateWith(ctx, scope, "i-0crash", ec2ops.TerminateOptions{SkipOSShutdown: true}); err != nil || !at.IsZero() {
		t.Errorf("second terminate: %s, %v", at, err)
	}
	if n := len(srv.Calls("TerminateInstances")); n != 2 {
		t.Errorf("%d TerminateInstances calls, want 2", n)
	}
}

func TestAttachedVolumesAndDescribeVolume(t *testing.T) {
	srv, c := setup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", Tags: tags(stack, cluster, facts.RoleAgent)})
	srv.AddVolume(ec2test.Volume{ID: "vol-0root", AttachedTo: "i-0agent", DeleteOnTermination: true})
	srv.AddVolume(ec2test.Volume{ID: "vol-0app", AttachedTo: "i-0agent", Tags: map[string]string{facts.TagName: "moby-counter-c0ffee12"}})
	srv.AddVolume(ec2test.Volume{ID: "vol-0free"})
	ctx := context.Background()
	vols, err := c.AttachedVolumes(ctx, "i-0agent")
	if err != nil || len(vols) != 2 {
		t.Fatalf("attached volumes %+v, %v", vols, err)
	}
	for _, v := range vols {
		if v.AttachedTo != "i-0agent" || v.AttachState != "attached" || v.DeleteOnTermination != (v.ID == "vol-0root") {
			t.Errorf("volume %+v", v)
		}
	}
	v, err := c.DescribeVolume(ctx, "vol-0free")
	if err != nil || v.State != ec2test.VolumeAvailable || v.AttachedTo != "" {
		t.Errorf("vol-0free: %+v, %v", v, err)
	}
	if _, err := c.DescribeVolume(ctx, "vol-0gone"); err == nil {
		t.Error("an unknown volume was described")
	}
}
