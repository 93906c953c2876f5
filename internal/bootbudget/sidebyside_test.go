package bootbudget

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

var update = flag.Bool("update", false, "rewrite docs/boot-budget.md")

const sideBySideDoc = "../../docs/boot-budget.md"

// TestSideBySide: docs/boot-budget.md is the budgets as they are.
func TestSideBySide(t *testing.T) {
	doc, err := SideBySide()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(sideBySideDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Fatalf("%s rewritten; run the tests again without -update", sideBySideDoc)
	}
	got, err := os.ReadFile(sideBySideDoc)
	if err != nil || string(got) != doc {
		t.Errorf("%s is out of date (err %v); run `go test ./internal/bootbudget -run SideBySide -update`", sideBySideDoc, err)
	}
}

// TestPreparedImageBudget: a prepared image skips the snap seeding, the
// package downloads and the image pulls, so each of those steps is
// shorter and the total is too; only the master's wait-ready grows, by
// reading its images from the snapshot on first access. Both budgets add up
// and meet the goal.
func TestPreparedImageBudget(t *testing.T) {
	for _, d := range facts.VolumeDrivers {
		c, err := NewFor(d, ImageCanonical)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewFor(d, ImagePrepared)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total >= c.Total || p.Total > Goal || c.Total > Goal {
			t.Errorf("%s: canonical %s, prepared %s, goal %s", d, c.Total, p.Total, Goal)
		}
		for _, role := range []string{facts.RoleMaster, facts.RoleAgent} {
			for _, name := range []string{StepOS, "install-packages", "pull-images"} {
				cs, _ := c.NodeStep(role, name)
				ps, _ := p.NodeStep(role, name)
				if ps.Duration >= cs.Duration {
					t.Errorf("%s %s %s: prepared %s, canonical %s", d, role, name, ps.Duration, cs.Duration)
				}
			}
		}
		cw, _ := c.NodeStep(facts.RoleMaster, "wait-ready")
		pw, _ := p.NodeStep(facts.RoleMaster, "wait-ready")
		if pw.Duration-cw.Duration != lazyLoadEstimate {
			t.Errorf("%s: master wait-ready prepared %s, canonical %s", d, pw.Duration, cw.Duration)
		}
	}
	if _, err := NewFor(facts.VolumeDriverRexRay, "golden"); err == nil {
		t.Error("an unknown image accepted")
	}
}

// The master's pulls cannot take less than writing Marathon's unpacked
// image at the m4.large's EBS bandwidth.
func TestMasterPullsAboveTheDiskFloor(t *testing.T) {
	b, err := New(facts.VolumeDriverRexRay)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := b.NodeStep(facts.RoleMaster, "pull-images")
	floor := marathonWriteFloor()
	if s.Duration < floor || floor < 28*time.Second {
		t.Errorf("master pull-images %s, disk floor %s", s.Duration, floor)
	}
}

func TestImageOf(t *testing.T) {
	pull := func(image, state, detail string) bootlog.Step {
		return bootlog.Step{Name: "pull:" + image, Start: 1, End: 2, State: state, Detail: detail}
	}
	nodes := func(steps ...bootlog.Step) Measured {
		return Measured{Nodes: []NodeSteps{{Node: "master", Role: facts.RoleMaster, Steps: append([]bootlog.Step{{Name: "install-packages", End: 3, State: bootlog.Done}}, steps...)}}}
	}
	for _, tt := range []struct {
		name string
		m    Measured
		want Image
	}{
		{"every image present", nodes(pull(facts.MarathonImage, bootlog.Done, "present"), pull(facts.ZooKeeperImage, bootlog.Done, "present")), ImagePrepared},
		{"one downloaded", nodes(pull(facts.MarathonImage, bootlog.Done, "present"), pull(facts.ZooKeeperImage, bootlog.Done, "")), ImageCanonical},
		{"one still running", nodes(pull(facts.MarathonImage, bootlog.Start, "")), ImageCanonical},
		{"no pull logged", nodes(), ImageCanonical},
	} {
		if got := ImageOf(tt.m); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
