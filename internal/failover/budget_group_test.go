package failover

import (
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The REX-Ray budget's time to full strength: the group's replacement and
// the agent's boot, from the kill, beside the recovery; none for Flocker's
// fixed agents.
func TestBudgetTimeToFullStrength(t *testing.T) {
	row, ok := FullStrength(facts.VolumeDriverRexRay)
	if !ok || !row.Alongside || row.FromSeconds != 0 || row.Duration <= facts.GroupReplaceEstimate || row.Seconds != row.Duration.Seconds() {
		t.Errorf("rexray: %+v %v: want the group's replacement and the agent's boot, from the kill, beside the recovery", row, ok)
	}
	if row, ok := FullStrength(facts.VolumeDriverFlocker); ok {
		t.Errorf("flocker: %+v, want no row for fixed agents", row)
	}
}
