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
	ourUUID   = "3f1c7c2e-7d2a-4c55-9a53-0f5c2b1d9e41"
	otherUUID = "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
	ourVolume = "moby-counter-c0ffee12"
)

var flockerSel = ec2ops.VolumeSelector{Driver: facts.VolumeDriverFlocker, ClusterID: cluster, FlockerClusterUUID: ourUUID}

func flockerTags(uuid, dataset string) map[string]string {
	return map[string]string{facts.TagFlockerClusterID: uuid, "flocker-dataset-id": dataset,
		"flocker-metadata-version": "1", facts.TagName: "flocker-" + dataset}
}

// fast keeps waits in milliseconds; Wait is generous so a slow machine
// still sees the detach happen inside it.
func fast(progress *bytes.Buffer) ec2ops.CleanupOptions {
	opts := ec2ops.CleanupOptions{Wait: 5 * time.Second, Poll: 2 * time.Millisecond}
	if progress != nil {
		opts.Progress = progress
	}
	return opts
}

func TestCleanupDeletesOnlyThisClustersVolumes(t *testing.T) {
	srv, c := setup(t, ec2test.WithShutdownDelay(20*time.Millisecond), ec2test.WithDetachDelay(20*time.Millisecond), ec2test.WithPageSize(2))
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", PrivateIP: "10.42.1.11", Tags: tags(stack, cluster, facts.RoleAgent)})
	srv.AddVolume(ec2test.Volume{ID: "vol-0free", Tags: flockerTags(ourUUID, "d1")})
	srv.AddVolume(ec2test.Volume{ID: "vol-0attached", AttachedTo: "i-0agent", Tags: flockerTags(ourUUID, "d2")})
	srv.AddVolume(ec2test.Volume{ID: "vol-0othercluster", Tags: flockerTags(otherUUID, "d3")})
	srv.AddVolume(ec2test.Volume{ID: "vol-0untagged"})
	srv.AddVolume(ec2test.Volume{ID: "vol-0rexray", Tags: map[string]string{facts.TagName: ourVolume}})

	// The agent is being terminated, as `pulumi destroy` does before the clean-up.
	if err := c.Terminate(context.Background(), scope, "i-0agent"); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	rep, err := c.CleanupVolumes(context.Background(), flockerSel, fast(&progress))
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	if want := []string{"vol-0attached", "vol-0free"}; !slices.Equal(sorted(rep.Deleted), want) || !slices.Equal(sorted(rep.Found), want) {
		t.Errorf("report %+v, want found and deleted %v", rep, want)
	}
	if len(rep.StillAttached)+len(rep.Skipped)+len(rep.WouldDelete) != 0 {
		t.Errorf("report %+v has leftovers", rep)
	}
	if got, want := srv.VolumeIDs(), []string{"vol-0othercluster", "vol-0rexray", "vol-0untagged"}; !slices.Equal(got, want) {
		t.Errorf("volumes left %v, want %v", got, want)
	}
	for _, call := range srv.Calls("DeleteVolume") {
		if id := call.Params.Get("VolumeId"); id != "vol-0free" && id != "vol-0attached" {
			t.Errorf("DeleteVolume called on %s", id)
		}
	}
	first := srv.Calls("DescribeVolumes")[0].Params
	if first.Get("Filter.1.Name") != "tag:"+facts.TagFlockerClusterID || first.Get("Filter.1.Value.1") != ourUUID {
		t.Errorf("first DescribeVolumes filters: %v", first)
	}
	out := progress.String()
	for _, want := range []string{"found 2 Flocker volumes of cluster c0ffee12", "deleted vol-0free", "waiting for 1 volume to detach", "attached to i-0agent", "deleted vol-0attached"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
}

func TestCleanupReportsVolumesThatStayAttached(t *testing.T) {
	srv, c := setup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0alive", Tags: tags(stack, cluster, facts.RoleAgent)})
	srv.AddVolume(ec2test.Volume{ID: "vol-0stuck", AttachedTo: "i-0alive", Tags: flockerTags(ourUUID, "d1")})
	srv.AddVolume(ec2test.Volume{ID: "vol-0free", Tags: flockerTags(ourUUID, "d2")})

	opts := ec2ops.CleanupOptions{Wait: 30 * time.Millisecond, Poll: 5 * time.Millisecond}
	rep, err := c.CleanupVolumes(context.Background(), flockerSel, opts)
	if err == nil {
		t.Fatal("no error although a volume stayed attached")
	}
	for _, want := range []string{"vol-0stuck", "still attached", "i-0alive", "terminate-instances"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if !slices.Equal(rep.StillAttached, []string{"vol-0stuck"}) || !slices.Equal(rep.Deleted, []string{"vol-0free"}) {
		t.Errorf("report %+v", rep)
	}
	if _, ok := srv.Volume("vol-0stuck"); !ok {
		t.Error("the attached volume was deleted")
	}
	if n := len(srv.Calls("DescribeVolumes")); n < 2 {
		t.Errorf("%d DescribeVolumes calls: the attached volume was not polled", n)
	}
}

func TestCleanupWithoutWaitReportsAttachedAtOnce(t *testing.T) {
	srv, c := setup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0alive"})
	srv.AddVolume(ec2test.Volume{ID: "vol-0stuck", AttachedTo: "i-0alive", Tags: flockerTags(ourUUID, "d1")})
	rep, err := c.CleanupVolumes(context.Background(), flockerSel, ec2ops.CleanupOptions{})
	if err == nil || !slices.Equal(rep.StillAttached, []string{"vol-0stuck"}) {
		t.Errorf("Wait 0: %+v, %v", rep, err)
	}
	if n := len(srv.Calls("DescribeVolumes")); n != 1 {
		t.Errorf("%d DescribeVolumes calls, want 1 (no waiting)", n)
	}
}

func TestCleanupDryRunDeletesNothing(t *testing.T) {
	srv, c := setup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0alive"})
	srv.AddVolume(ec2test.Volume{ID: "vol-0free", Tags: flockerTags(ourUUID, "d1")})
	srv.AddVolume(ec2test.Volume{ID: "vol-0attached", AttachedTo: "i-0alive", Tags: flockerTags(ourUUID, "d2")})
	var progress bytes.Buffer
	opts := ec2ops.CleanupOptions{DryRun: true, Wait: time.Hour, Poll: time.Hour, Progress: &progress}
	rep, err := c.CleanupVolumes(context.Background(), flockerSel, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.WouldDelete, []string{"vol-0free"}) || !slices.Equal(rep.StillAttached, []string{"vol-0attached"}) || len(rep.Deleted) != 0 {
		t.Errorf("report %+v", rep)
	}
	if n := len(srv.Calls("DeleteVolume")); n != 0 {
		t.Errorf("dry run made %d DeleteVolume calls", n)
	}
	if got := srv.VolumeIDs(); len(got) != 2 {
		t.Errorf("volumes left %v", got)
	}
	if out := progress.String(); !strings.Contains(out, "would delete vol-0free") || !strings.Contains(out, "would wait for vol-0attached") {
		t.Errorf("progress:\n%s", out)
	}
}

func TestCleanupRexRayMatchesTheExactName(t *testing.T) {
	srv, c := setup(t)
	srv.AddVolume(ec2test.Volume{ID: "vol-0ours", Tags: map[string]string{facts.TagName: ourVolume}})
	srv.AddVolume(ec2test.Volume{ID: "vol-0longer", Tags: map[string]string{facts.TagName: ourVolume + "-old"}})
	srv.AddVolume(ec2test.Volume{ID: "vol-0otherzone", AvailabilityZone: "us-east-1b", Tags: map[string]string{facts.TagName: ourVolume}})
	sel := ec2ops.VolumeSelector{Driver: facts.VolumeDriverRexRay, ClusterID: cluster, VolumeName: ourVolume, AvailabilityZone: ec2test.AvailabilityZone}
	rep, err := c.CleanupVolumes(context.Background(), sel, fast(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Deleted, []string{"vol-0ours"}) {
		t.Errorf("deleted %v, want [vol-0ours]", rep.Deleted)
	}
	if got := srv.VolumeIDs(); !slices.Equal(got, []string{"vol-0longer", "vol-0otherzone"}) {
		t.Errorf("volumes left %v", got)
	}
}

func TestUnderspecifiedSelectorsAreRefused(t *testing.T) {
	tests := map[string]ec2ops.VolumeSelector{
		"empty":                    {},
		"no driver":                {ClusterID: cluster, FlockerClusterUUID: ourUUID},
		"unknown driver":           {Driver: "ebs", ClusterID: cluster, VolumeName: ourVolume},
		"no cluster id":            {Driver: facts.VolumeDriverFlocker, FlockerClusterUUID: ourUUID},
		"flocker without uuid":     {Driver: facts.VolumeDriverFlocker, ClusterID: cluster, VolumeName: ourVolume},
		"flocker with a non-uuid":  {Driver: facts.VolumeDriverFlocker, ClusterID: cluster, FlockerClusterUUID: "c0ffee12"},
		"flocker uuid wildcard":    {Driver: facts.VolumeDriverFlocker, ClusterID: cluster, FlockerClusterUUID: "*"},
		"rexray without name":      {Driver: facts.VolumeDriverRexRay, ClusterID: cluster},
		"rexray name of any stack": {Driver: facts.VolumeDriverRexRay, ClusterID: cluster, VolumeName: "moby-counter"},
		"rexray name wildcard":     {Driver: facts.VolumeDriverRexRay, ClusterID: cluster, VolumeName: "*" + cluster + "*"},
	}
	for name, sel := range tests {
		t.Run(name, func(t *testing.T) {
			srv, c := setup(t)
			srv.AddVolume(ec2test.Volume{ID: "vol-0any", Tags: flockerTags(ourUUID, "d1")})
			if _, err := sel.Filters(); err == nil {
				t.Error("Filters accepted it")
			}
			if _, err := c.CleanupVolumes(context.Background(), sel, fast(nil)); err == nil {
				t.Error("CleanupVolumes accepted it")
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d API calls for a refused selector", n)
			}
		})
	}
}

func TestCleanupSurfacesSDKErrors(t *testing.T) {
	t.Run("describe", func(t *testing.T) {
		srv, c := setup(t)
		srv.Fail("DescribeVolumes", -1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
		_, err := c.CleanupVolumes(context.Background(), flockerSel, fast(nil))
		for _, want := range []string{"listing Flocker volumes of cluster c0ffee12", "DescribeVolumes", "UnauthorizedOperation", "grant"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not mention %q", err, want)
			}
		}
	})
	t.Run("delete", func(t *testing.T) {
		srv, c := setup(t)
		srv.AddVolume(ec2test.Volume{ID: "vol-0a", Tags: flockerTags(ourUUID, "d1")})
		srv.AddVolume(ec2test.Volume{ID: "vol-0b", Tags: flockerTags(ourUUID, "d2")})
		srv.Fail("DeleteVolume", 1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
		rep, err := c.CleanupVolumes(context.Background(), flockerSel, fast(nil))
		for _, want := range []string{"deleting EBS volume vol-0a", "UnauthorizedOperation", "ec2:DeleteVolume"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not mention %q", err, want)
			}
		}
		if !slices.Equal(rep.Skipped, []string{"vol-0a"}) || !slices.Equal(rep.Deleted, []string{"vol-0b"}) {
			t.Errorf("one failed delete must not stop the others: %+v", rep)
		}
	})
	t.Run("throttled then fine", func(t *testing.T) {
		srv, c := setup(t)
		srv.AddVolume(ec2test.Volume{ID: "vol-0a", Tags: flockerTags(ourUUID, "d1")})
		srv.Fail("DeleteVolume", 1, http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
		if rep, err := c.CleanupVolumes(context.Background(), flockerSel, fast(nil)); err != nil || len(rep.Deleted) != 1 {
			t.Errorf("%+v, %v: the SDK's retry should absorb one throttle", rep, err)
		}
	})
	t.Run("deadline while waiting", func(t *testing.T) {
		srv, c := setup(t)
		srv.AddInstance(ec2test.Instance{ID: "i-0alive"})
		srv.AddVolume(ec2test.Volume{ID: "vol-0stuck", AttachedTo: "i-0alive", Tags: flockerTags(ourUUID, "d1")})
		// Long enough for the first DescribeVolumes on a loaded machine, so
		// the deadline falls while waiting for the volume, as named.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		rep, err := c.CleanupVolumes(ctx, flockerSel, ec2ops.CleanupOptions{Wait: time.Hour, Poll: 5 * time.Millisecond})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "vol-0stuck") {
			t.Errorf("error %v, want the deadline and the volume left", err)
		}
		if !slices.Equal(rep.StillAttached, []string{"vol-0stuck"}) {
			t.Errorf("report %+v", rep)
		}
	})
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
