package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

func TestRehearsalRunsBothDrills(t *testing.T) {
	h := newHarness(t, &stack{masters: 3})
	if code := h.run("--clicks", "3", "--drills", "leading-master,app-agent"); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, h.stdout.String(), h.stderr.String())
	}
	if h.opts.MasterCount != rehearsal.DrillMasterCount {
		t.Errorf("stack masterCount %d, want %d for the leading-master drill", h.opts.MasterCount, rehearsal.DrillMasterCount)
	}
	raw, err := os.ReadFile(h.report)
	if err != nil {
		t.Fatal(err)
	}
	var r rehearsal.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
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
