package rehearsal_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

const tdFlockerUUID = "3f1c7c2e-7d2a-4c55-9a53-0f5c2b1d9e41"

// The state names the app's volume: the volumeName output, and the
// Flocker cluster's UUID resource.
func TestParseDeploymentReadsTheAppVolumesSelectors(t *testing.T) {
	urn := func(typ, name string) resource.URN {
		return resource.NewURN(tokens.QName(tdStack), facts.Project, "", tokens.Type(typ), name)
	}
	dep := apitype.DeploymentV3{Resources: []apitype.ResourceV3{
		{URN: urn("pulumi:pulumi:Stack", facts.Project+"-"+tdStack), Type: "pulumi:pulumi:Stack",
			Outputs: map[string]any{"clusterId": tdCluster, "volumeName": tdCluster + "-moby-counter"}},
		{URN: urn("random:index/randomUuid:RandomUuid", facts.Project+"-flocker-node-1-uuid"), Custom: true, ID: "n1", Type: "random:index/randomUuid:RandomUuid",
			Outputs: map[string]any{"result": "0b5d2c1e-1111-4c55-9a53-0f5c2b1d9e41"}},
		{URN: urn("random:index/randomUuid:RandomUuid", facts.Project+facts.FlockerClusterUUIDResource), Custom: true, ID: "u", Type: "random:index/randomUuid:RandomUuid",
			Outputs: map[string]any{"result": tdFlockerUUID}},
	}}
	raw, _ := json.Marshal(dep)
	st, err := rehearsal.ParseDeployment(apitype.UntypedDeployment{Version: 3, Deployment: raw})
	if err != nil {
		t.Fatal(err)
	}
	if st.VolumeName != tdCluster+"-moby-counter" || st.FlockerClusterUUID != tdFlockerUUID {
		t.Errorf("volume name %q, Flocker UUID %q", st.VolumeName, st.FlockerClusterUUID)
	}
}

// A destroy whose volume clean-up left the app's REX-Ray volume (it
// carries only Name=<volume name>): the sweep after it finds and deletes
// it, and leaves another cluster's.
func TestTeardownSweepsTheAppVolumeTheDestroyLeft(t *testing.T) {
	e, l, sw := sweepStandIns(t, tdRegion)
	seedCluster(e, l, "i-0agent1")
	e.AddVolume(ec2test.Volume{ID: "vol-0app", AttachedTo: "i-0agent1", Tags: map[string]string{facts.TagName: tdCluster + "-moby-counter"}})
	e.AddVolume(ec2test.Volume{ID: "vol-0other", Tags: map[string]string{facts.TagName: "mha-0other-moby-counter"}})
	st := &stateStack{t: t, e: e, l: l, state: rehearsal.StackState{Region: tdRegion, ClusterID: tdCluster, VolumeName: tdCluster + "-moby-counter",
		ResourceIDs: []string{"i-0agent1", "i-0master", tdELB}}}
	r := &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), teardownConfig(st, sw, nil), r)
	if len(r.Problems) != 0 || !r.Removed || !r.Leftovers.Clean {
		t.Fatalf("problems %q, removed %v, leftovers %+v", r.Problems, r.Removed, r.Leftovers)
	}
	a := r.Leftovers.AfterDestroy
	if !slices.Equal(a.VolumesDeleted, []string{"vol-0app"}) || !strings.Contains(a.Scope, "Name="+tdCluster+"-moby-counter") {
		t.Errorf("sweep after the destroy %+v: want the app's volume found by its Name tag and deleted", a)
	}
	if !slices.Contains(e.VolumeIDs(), "vol-0other") {
		t.Error("another cluster's volume was deleted")
	}
}
