package ec2ops_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

const (
	appVolumeName = cluster + "-moby-counter"
	flockerUUID   = "3f1c7c2e-7d2a-4c55-9a53-0f5c2b1d9e41"
)

// The app's volume carries only its driver's tags: REX-Ray's only
// Name=<volume name>, Flocker's flocker-cluster-id=<UUID> (with its own
// Name). The stack's tags alone never find it; the scope's volume name or
// Flocker UUID does, and nothing of another cluster.
func TestSweepFindsTheAppVolumeByItsDriversTag(t *testing.T) {
	seed := func(srv *ec2test.Server) {
		srv.AddInstance(ec2test.Instance{ID: "i-0kept", Tags: tags(stack, cluster, facts.RoleAgent)})
		srv.AddVolume(ec2test.Volume{ID: "vol-0rexray", Tags: map[string]string{facts.TagName: appVolumeName}})
		srv.AddVolume(ec2test.Volume{ID: "vol-0flocker", Tags: map[string]string{facts.TagName: "flocker-8d0b3b0e", facts.TagFlockerClusterID: flockerUUID}})
		srv.AddVolume(ec2test.Volume{ID: "vol-0otherrexray", Tags: map[string]string{facts.TagName: "deadbeef-moby-counter"}})
		srv.AddVolume(ec2test.Volume{ID: "vol-0otherflocker", Tags: map[string]string{facts.TagFlockerClusterID: "0b5d2c1e-1111-4c55-9a53-0f5c2b1d9e41"}})
		srv.AddVolume(ec2test.Volume{ID: "vol-0inuse", AttachedTo: "i-0kept", Tags: map[string]string{facts.TagName: appVolumeName}})
	}
	for _, tc := range []struct {
		name  string
		scope ec2ops.SweepScope
		want  []string // deleted
	}{
		{"stack tags alone", ec2ops.SweepScope{Stack: stack, ClusterID: cluster}, nil},
		{"rexray", ec2ops.SweepScope{Stack: stack, ClusterID: cluster, VolumeName: appVolumeName}, []string{"vol-0rexray"}},
		{"flocker", ec2ops.SweepScope{Stack: stack, ClusterID: cluster, FlockerClusterUUID: flockerUUID}, []string{"vol-0flocker"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _, sw := sweepSetup(t)
			seed(srv)
			rep, err := sw.Sweep(context.Background(), tc.scope, sweepFast(nil, "i-0kept"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rep.VolumesDeleted, tc.want) {
				t.Errorf("deleted %v, want %v (report %+v)", rep.VolumesDeleted, tc.want, rep)
			}
			for _, id := range []string{"vol-0otherrexray", "vol-0otherflocker", "vol-0inuse"} {
				if !slices.Contains(srv.VolumeIDs(), id) {
					t.Errorf("%s was deleted: another cluster's, or attached to an instance the state keeps", id)
				}
			}
			if tc.scope.VolumeName != "" && !strings.Contains(rep.Scope, facts.TagName+"="+appVolumeName) {
				t.Errorf("scope %q does not say the volume name", rep.Scope)
			}
		})
	}
}

// A volume name or UUID that could match another cluster's volume is
// refused before any call.
func TestSweepRefusesAWideAppVolumeSelector(t *testing.T) {
	srv, lbs, sw := sweepSetup(t)
	for _, sc := range []ec2ops.SweepScope{
		{Stack: stack, VolumeName: appVolumeName},                            // no cluster id to check the name against
		{Stack: stack, ClusterID: cluster, VolumeName: "moby-counter"},       // the name lacks the cluster id
		{Stack: stack, ClusterID: cluster, VolumeName: cluster + "-*"},       // a wildcard
		{Stack: stack, ClusterID: cluster, FlockerClusterUUID: "not-a-uuid"}, // not a UUID
	} {
		if _, err := sw.Sweep(context.Background(), sc, sweepFast(nil)); err == nil {
			t.Errorf("scope %+v accepted", sc)
		}
	}
	if n := len(srv.Requests()) + len(lbs.Calls("DescribeLoadBalancers")); n != 0 {
		t.Errorf("%d calls made with a bad scope", n)
	}
}
