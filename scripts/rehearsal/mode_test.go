package main

import (
	"math"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// --mode and --margin reach the rehearsal: the report is judged against
// the graceful budget plus the margin given, and names both.
func TestModeAndMarginFlags(t *testing.T) {
	h := newHarness(t, &stack{})
	if code := h.run("--clicks", "2", "--mode", "graceful", "--margin", "7s"); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, h.stdout.String(), h.stderr.String())
	}
	r := h.readReport(t)
	if r.Mode != failover.ModeGraceful || r.Failover == nil || r.Failover.Budget.Mode != failover.ModeGraceful ||
		// Seconds are float64s: 57.01+7 is not 64.01 in binary floating point.
		r.BudgetMarginSeconds != 7 || math.Abs(r.RTOLimitSeconds-(r.Failover.Budget.Seconds+7)) > 1e-9 || !strings.Contains(r.RTOLimitFrom, "margin 7s") {
		t.Errorf("mode %q, margin %vs, limit %vs (%s)", r.Mode, r.BudgetMarginSeconds, r.RTOLimitSeconds, r.RTOLimitFrom)
	}
}
