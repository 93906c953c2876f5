package rehearsal_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// A sweep that cannot list anything says so in the summary, instead of
// "0 left".
func TestSummaryOfASweepThatCouldNotList(t *testing.T) {
	e, l, sw := sweepStandIns(t, tdRegion)
	seedCluster(e, l, "i-0agent1")
	st := &stateStack{t: t, e: e, l: l, state: rehearsal.StackState{Region: tdRegion, ResourceIDs: []string{"i-0agent1", "i-0master", tdELB}}}
	st.afterKill = func() {
		e.Fail("DescribeInstances", -1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	}
	r := &rehearsal.Report{Stack: tdStack}
	rehearsal.Teardown(context.Background(), teardownConfig(st, sw, nil), r)
	if r.Leftovers.Clean || r.Leftovers.AfterDestroyError == "" || r.Removed {
		t.Fatalf("leftovers %+v, removed %v", r.Leftovers, r.Removed)
	}
	var out bytes.Buffer
	r.Summary(&out)
	if strings.Contains(out.String(), "0 left") || !strings.Contains(out.String(), "sweep after the destroy ("+r.Leftovers.AfterDestroy.Scope+") FAILED, what is left is unknown") {
		t.Errorf("summary:\n%s", out.String())
	}
}
