package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// A second kill-node within Marathon's expunge delay meets the first
// failover's task, listed as TASK_UNREACHABLE beside the one it kills: it
// must kill the running task's agent and report the new one.
func TestSecondFailoverBesideAnUnreachableTask(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Agents: 3})
	agents := c.Agents()
	outputs := outputsFile(t, c)
	if r := runWith(t, testDeps(c, ""), args("--outputs", outputs, "--yes", "--clicks", "2")...); r.code != 0 {
		t.Fatalf("first run: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	r := runWith(t, testDeps(c, ""), args("--outputs", outputs, "--yes", "--json", "--clicks", "2")...)
	if r.code != 0 {
		t.Fatalf("second run: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	var rep failover.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, r.stdout)
	}
	if rep.KilledInstanceID != agents[1].InstanceID || rep.NewHost != agents[2].Host || !rep.Recovered {
		t.Errorf("second run killed %s and recovered on %s (recovered %v), want %s and %s\n%s",
			rep.KilledInstanceID, rep.NewHost, rep.Recovered, agents[1].InstanceID, agents[2].Host, r.stderr)
	}
	for _, e := range rep.Timeline {
		if e.Name == failover.EventAgentLost && !strings.Contains(e.Detail, agents[1].Host+" is TASK_UNREACHABLE") {
			t.Errorf("agent lost: %q, want the killed task seen unreachable", e.Detail)
		}
	}
}
