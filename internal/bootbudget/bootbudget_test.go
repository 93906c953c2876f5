package bootbudget

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// TestBudgetMeetsTheGoal: with every driver, the budget's own sum is within
// the 6-minute goal; an estimate raised past it must come with a shorter
// path elsewhere, or the goal cannot be claimed.
func TestBudgetMeetsTheGoal(t *testing.T) {
	for _, d := range facts.VolumeDrivers {
		b, err := New(d)
		if err != nil {
			t.Fatal(err)
		}
		if b.Total > Goal {
			t.Errorf("%s: budget %s is over the goal %s:\n%s", d, b.Total, Goal, b)
		}
		t.Logf("\n%s", b)
	}
}

// TestBudgetAddsUp: the phases are the sums of their steps, the boot phase
// the slower role's, and the total their sum.
func TestBudgetAddsUp(t *testing.T) {
	for _, d := range facts.VolumeDrivers {
		b, err := New(d)
		if err != nil {
			t.Fatal(err)
		}
		sums := map[string]time.Duration{}
		for _, s := range b.Steps {
			key := s.Phase
			if s.Phase == PhaseBoot {
				key += "/" + s.Role
			}
			sums[key] += s.Duration
			if s.Basis == "" || s.Duration <= 0 || s.Seconds != s.Duration.Seconds() {
				t.Errorf("%s: step %q has duration %s (%gs) and basis %q", d, s.Name, s.Duration, s.Seconds, s.Basis)
			}
		}
		boot := max(sums["boot/master"], sums["boot/agent"])
		if b.Create != sums[PhaseCreate] || b.Boot != boot || b.Deploy != sums[PhaseDeploy] || b.Total != b.Create+b.Boot+b.Deploy {
			t.Errorf("%s: create %s boot %s deploy %s total %s; steps give %v", d, b.Create, b.Boot, b.Deploy, b.Total, sums)
		}
		if sums["boot/"+b.Slowest] != b.Boot {
			t.Errorf("%s: slowest role %q does not take the boot phase's %s", d, b.Slowest, b.Boot)
		}
	}
	if _, err := New("ceph"); err == nil || !strings.Contains(err.Error(), "rexray") {
		t.Errorf("New(ceph) = %v, want an error naming the drivers", err)
	}
}

var mhaStep = regexp.MustCompile(`(?m)^\s*mha_step ([a-z-]+)`)

// TestBudgetStepsAreTheBootsSteps: each role's boot budget names, in order,
// the steps the rendered boot script prints (userdata's golden files, which
// its tests keep current), so a measured step always finds its budget.
func TestBudgetStepsAreTheBootsSteps(t *testing.T) {
	for _, d := range facts.VolumeDrivers {
		b, err := New(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{facts.RoleMaster, facts.RoleAgent} {
			raw, err := os.ReadFile(filepath.Join("..", "..", "userdata", "testdata", role+"-"+d+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			var script []string
			for _, m := range mhaStep.FindAllStringSubmatch(string(raw), -1) {
				script = append(script, m[1])
			}
			budget := []string{}
			for _, s := range b.Steps {
				if s.Phase == PhaseBoot && s.Role == role && s.Name != StepOS {
					budget = append(budget, s.Name)
				}
			}
			if !slices.Equal(budget, script) {
				t.Errorf("%s %s: budget steps %v, the boot's %v", d, role, budget, script)
			}
			if _, ok := b.NodeStep(role, StepOS); !ok {
				t.Errorf("%s %s: no budget for the OS's boot", d, role)
			}
		}
	}
}

// measured is a path of the given phases whose nodes took each budget step
// plus extra[node+" "+step] seconds.
func measured(t *testing.T, b Budget, create, boot, deploy time.Duration, extra map[string]int) Measured {
	t.Helper()
	m := Measured{Create: create, Boot: boot, Deploy: deploy, Total: create + boot + deploy}
	for _, n := range []struct{ node, role string }{{"master", facts.RoleMaster}, {"agent-1", facts.RoleAgent}} {
		ns := NodeSteps{Node: n.node, Role: n.role, OSSeconds: -1}
		at := 0
		for _, s := range b.Steps {
			if s.Phase != PhaseBoot || s.Role != n.role {
				continue
			}
			took := int(s.Seconds) + extra[n.node+" "+s.Name]
			if s.Name == StepOS {
				ns.OSSeconds = took
				continue
			}
			ns.Steps = append(ns.Steps, bootlog.Step{Name: s.Name, Start: at, End: at + took, State: bootlog.Done})
			at += took
		}
		m.Nodes = append(m.Nodes, ns)
	}
	return m
}

func TestJudge(t *testing.T) {
	b, err := New(facts.VolumeDriverRexRay)
	if err != nil {
		t.Fatal(err)
	}

	// On budget: within, nothing over.
	v := b.Judge(measured(t, b, b.Create, b.Boot, b.Deploy, nil), 0)
	if !v.Within || len(v.Overruns) != 0 || v.Problem() != "" || v.LimitSeconds != Goal.Seconds() {
		t.Errorf("a path on budget: %+v, problem %q", v, v.Problem())
	}

	// Slow pulls on the master and a slow OS on the agent push it over the
	// goal: the problem names the phase and the slowest steps first.
	slow := measured(t, b, b.Create, b.Boot+150*time.Second, b.Deploy, map[string]int{"master pull-images": 120, "agent-1 os": 30})
	v = b.Judge(slow, 0)
	if v.Within {
		t.Fatalf("%s judged within the goal: %+v", slow.Total, v)
	}
	if len(v.Overruns) != 2 || v.Overruns[0].Node != "master" || v.Overruns[0].Step != "pull-images" || v.Overruns[1].Step != StepOS {
		t.Errorf("overruns %+v, want master pull-images then agent-1 os", v.Overruns)
	}
	for _, want := range []string{"up to serving took 7m45s, over the limit of 6m0s", "boot 6m11s (budget 3m41s)", "slowest steps: master pull-images 3m30s (budget 1m30s), agent-1 os 1m30s (budget 1m0s)"} {
		if !strings.Contains(v.Problem(), want) {
			t.Errorf("problem %q lacks %q", v.Problem(), want)
		}
	}
	if !strings.Contains(v.Summary(), "OVER the limit 6m0s") || !strings.Contains(v.Summary(), "steps over their budget: master pull-images") {
		t.Errorf("summary:\n%s", v.Summary())
	}

	// A raised limit (--serving-limit) passes the same path, still listing
	// the steps over their budget.
	v = b.Judge(slow, 8*time.Minute)
	if !v.Within || v.Problem() != "" || len(v.Overruns) != 2 {
		t.Errorf("with an 8m limit: %+v", v)
	}

	// A step the console never ended is not an overrun: it is unmeasured.
	m := measured(t, b, b.Create, b.Boot, b.Deploy, nil)
	m.Nodes[0].Steps[len(m.Nodes[0].Steps)-1].End = -1
	if v := b.Judge(m, 0); len(v.Overruns) != 0 {
		t.Errorf("an unended step counted as over: %+v", v.Overruns)
	}
}
