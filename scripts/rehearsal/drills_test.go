package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/rounds"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

func TestRehearsalRunsBothDrills(t *testing.T) {
	h := newHarness(t, &stack{masters: 3})
	if code := h.run("--clicks", "3", "--drills", "leading-master,app-agent"); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, h.stdout.String(), h.stderr.String())
	}
	if h.opts.MasterCount != rehearsal.DrillMasterCount {
		t.Errorf("stack masterCount %d, want %d for the leading-master drill", h.opts.MasterCount, rehearsal.DrillMasterCount)
	}
	r := h.readReport(t)
	if !r.Passed || r.MasterDrill == nil || r.MasterDrill.Failover == nil || !r.MasterDrill.Failover.Recovered || r.Failover == nil || !r.Failover.Recovered {
		t.Fatalf("report: passed %v, master drill %+v, agent failover %+v", r.Passed, r.MasterDrill, r.Failover)
	}
	for _, w := range []string{"leading-master drill:", "time without a Marathon leader", "app-agent drill:", "masters timeline: "} {
		if !strings.Contains(h.stdout.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, h.stdout.String())
		}
	}
	if _, err := os.Stat(strings.TrimSuffix(h.report, ".json") + "-masters.svg"); err != nil {
		t.Errorf("no drawing of the master drill: %v", err)
	}
}

func TestRehearsalDrillsDefaultAndBad(t *testing.T) {
	h := newHarness(t, &stack{})
	if code := h.run("--drills", "queen"); code != 2 || !strings.Contains(h.stderr.String(), "--drills") {
		t.Errorf("exit %d for a bad drill, want 2\n%s", code, h.stderr.String())
	}
	h = newHarness(t, &stack{})
	if code := h.run("--clicks", "2"); code != 0 || h.opts.MasterCount != 0 {
		t.Errorf("default drills: exit %d, masterCount %d; want 0 and the program's default", code, h.opts.MasterCount)
	}
}

// --rounds and --seed reach the rehearsal: three rounds on the stand-in,
// their modes drawn by the seed, the summary on stdout with the seed.
func TestRoundsAndSeedFlags(t *testing.T) {
	h := newHarness(t, &stack{})
	if code := h.run("--clicks", "2", "--rounds", "3", "--seed", "99"); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, h.stdout.String(), h.stderr.String())
	}
	r := h.readReport(t)
	if r.Rounds == nil || r.Rounds.Seed != 99 || len(r.Rounds.Rounds) != 3 || !slices.Equal(r.Rounds.Drills, rehearsal.RoundDrills) {
		t.Fatalf("rounds %+v", r.Rounds)
	}
	for i, d := range rounds.Plan(99, rehearsal.RoundDrills, 3) {
		if r.Rounds.Rounds[i].Drill != d || string(r.RoundFailovers[i].Failover.Mode) != d {
			t.Errorf("round %d: %s, want %s as seed 99 draws", i+1, r.Rounds.Rounds[i].Drill, d)
		}
	}
	if !strings.Contains(h.stdout.String(), "replay with --seed 99") || !strings.Contains(h.stdout.String(), "RTO over 3 recovered rounds") {
		t.Errorf("stdout:\n%s", h.stdout.String())
	}
	for _, bad := range [][]string{{"--rounds", "-1"}, {"--round-drills", "crash,crash"}, {"--round-drills", "reboot"}, {"--round-drills", ""}} {
		h = newHarness(t, &stack{})
		if code := h.run(bad...); code != 2 || !strings.Contains(h.stderr.String(), bad[0]) {
			t.Errorf("exit %d for %q, want 2 naming %s\n%s", code, bad, bad[0], h.stderr.String())
		}
	}
	// --round-drills graceful: every round graceful.
	h = newHarness(t, &stack{})
	if code := h.run("--clicks", "1", "--rounds", "2", "--round-drills", "graceful"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr.String())
	}
	if r := h.readReport(t); r.Rounds == nil || r.Rounds.ByDrill["graceful"] != 2 {
		t.Errorf("rounds %+v: want 2 graceful", r.Rounds)
	}
}

// Restore makes the harness's stack a rehearsal.Restorer, as the AutoStack
// is (pulumi up --refresh).
func (s *stack) Restore(context.Context) (stackoutputs.Outputs, error) {
	c := s.c()
	c.ReplaceLostAgents()
	return c.Outputs(), nil
}
