package failover_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// The budget of losing the Mesos leader: four steps one after the other
// (session expiry 4 s, Mesos election, re-registration, canary: 17 s)
// and Marathon's election alongside them, from the session expiry. The
// bar stacks the four and draws the election on a row of its own, from
// 4 s to 14 s, so the budget reads 17 s, not the 27 s of all five.
func TestSVGDrawsAlongsideStepsBesideTheStack(t *testing.T) {
	mb, err := failover.NewMasterBudget(failover.DefaultSettings(), failover.Held{Mesos: true})
	if err != nil {
		t.Fatal(err)
	}
	b := mb.Budget
	if b.Seconds != 17 || facts.ZooKeeper.MesosSessionTimeout+facts.ZooKeeper.TickTime != 4*time.Second {
		t.Fatalf("master budget %gs, session %s: this test's numbers assume 17 s and a 4 s expiry", b.Seconds, facts.ZooKeeper.MesosSessionTimeout)
	}
	r := failover.Report{Stack: "dev", Mode: failover.ModeCrash, Budget: b, Recovered: true, RTOSeconds: 18, ClicksLost: []string{}}
	root := drawChecked(t, r)
	type box struct{ x1, x2, y float64 }
	f := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return v
	}
	var stacked, alongside []box
	var rto box
	var total string
	root.walk(func(n node, _ []node) {
		switch n.attr("class") {
		case "budget-step":
			bx := box{f(n.attr("x")), f(n.attr("x")) + f(n.attr("width")), f(n.attr("y"))}
			if n.attr("data-alongside") == "true" {
				alongside = append(alongside, bx)
			} else {
				stacked = append(stacked, bx)
			}
		case "rto":
			rto = box{f(n.attr("x")), f(n.attr("x")) + f(n.attr("width")), f(n.attr("y"))}
		case "value":
			if total == "" && n.Text != "18.0s" {
				total = n.Text
			}
		}
	})
	if len(stacked) != 4 || len(alongside) != 1 {
		t.Fatalf("%d stacked and %d alongside steps, want 4 and 1", len(stacked), len(alongside))
	}
	a, first, last := alongside[0], stacked[0], stacked[3]
	if a.y == first.y {
		t.Errorf("the alongside step is drawn in the stack's row (y %g)", a.y)
	}
	// The stack ends at 17 s, the alongside step runs from 4 s to 14 s,
	// on the scale the RTO bar (18 s) is drawn on.
	x0 := first.x1
	per := (rto.x2 - x0) / 18
	near := func(got, want float64) bool { return got > want-0.2 && got < want+0.2 }
	if !near(last.x2, x0+17*per) || !near(a.x1, x0+4*per) || !near(a.x2, x0+14*per) || !near(first.x2, x0+4*per) {
		t.Errorf("stack %v, alongside %v, %g px a second from %g: want the stack to end at 17 s and the alongside step at 4..14 s", stacked, a, per, x0)
	}
	if total != "17.0s" {
		t.Errorf("the budget's total reads %q, want 17.0s", total)
	}
}
