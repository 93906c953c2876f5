package rehearsal_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// Issue 21's stand-in run: rounds of kills on a cluster whose agents are
// an Auto Scaling group's. No `pulumi up` runs between rounds; after every
// round the rounds wait until the group is back to full strength (two
// agents InService, the replacement registered with Mesos and the app
// served) before the next kill, which then finds the app on an agent the
// group launched; the report gives each round's time to full strength.
func TestRoundsOnAGroupReturnToFullStrength(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{AgentGroup: true}}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.Rounds, cfg.Seed, cfg.Clicks = 4, 21, 2
	r := rehearsal.Run(context.Background(), cfg)
	s := r.Rounds
	if s == nil || !r.Passed || !s.OK() {
		tail := progress.String()
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		t.Fatalf("problems %q\nprogress (tail):\n%s", r.Problems, tail)
	}
	if f.restores != 0 {
		t.Errorf("%d restores (pulumi up): the group replaces agents by itself", f.restores)
	}
	if s.FullStrength == nil || s.FullStrength.N != 4 {
		t.Fatalf("time to full strength %+v: want one per round", s.FullStrength)
	}
	min := (failovertest.DefaultGroupReplaceDelay + failovertest.DefaultGroupLaunchDelay).Seconds()
	for _, rd := range s.Rounds {
		if rd.FullStrengthSeconds == nil || *rd.FullStrengthSeconds < min {
			t.Errorf("round %d: time to full strength %v, under the group's %.3fs of replace and launch delays", rd.N, rd.FullStrengthSeconds, min)
		}
	}
	// Every kill after the first hit an agent the group launched: the
	// app had moved there, and the tools found it by tag.
	original := map[string]bool{"i-0a9e0000000000001": true, "i-0a9e0000000000002": true}
	for i, rf := range r.RoundFailovers {
		t.Logf("round %d killed %s", i+1, rf.Target.InstanceID)
		if i >= 2 && original[rf.Target.InstanceID] {
			t.Errorf("round %d killed %s, one of the first agents: the group's replacements were never used", i+1, rf.Target.InstanceID)
		}
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	if !strings.Contains(sum.String(), "time to full strength (kill to the agents' group all InService) over 4 rounds") {
		t.Errorf("summary:\n%s", sum.String())
	}
	if !strings.Contains(progress.String(), "InService") {
		t.Error("the progress never showed the group")
	}
}
