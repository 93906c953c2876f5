package failover_test

import (
	"strconv"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// The master budget: three steps one after the other (20 s) and
// Marathon's election alongside them, from the session expiry. The bar
// stacks the three and draws the election on a row of its own, from
// 10 s to 20 s, so the budget reads 20 s, not the 30 s of all four.
func TestSVGDrawsAlongsideStepsBesideTheStack(t *testing.T) {
	b, err := failover.NewMasterBudget(failover.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	if b.Seconds != 20 || facts.ZooKeeperSessionTimeout.Seconds() != 10 {
		t.Fatalf("master budget %gs, session %s: this test's numbers assume 20 s and 10 s", b.Seconds, facts.ZooKeeperSessionTimeout)
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
	if len(stacked) != 3 || len(alongside) != 1 {
		t.Fatalf("%d stacked and %d alongside steps, want 3 and 1", len(stacked), len(alongside))
	}
	a, first, last := alongside[0], stacked[0], stacked[2]
	if a.y == first.y {
		t.Errorf("the alongside step is drawn in the stack's row (y %g)", a.y)
	}
	// The stack ends at 20 s, the alongside step runs from 10 s to 20 s,
	// on the scale the RTO bar (18 s) is drawn on.
	x0 := first.x1
	per := (rto.x2 - x0) / 18
	near := func(got, want float64) bool { return got > want-0.2 && got < want+0.2 }
	if !near(last.x2, x0+20*per) || !near(a.x1, x0+10*per) || !near(a.x2, x0+20*per) || !near(first.x2, x0+10*per) {
		t.Errorf("stack %v, alongside %v, %g px a second from %g: want the stack to end at 20 s and the alongside step at 10..20 s", stacked, a, per, x0)
	}
	if total != "20.0s" {
		t.Errorf("the budget's total reads %q, want 20.0s", total)
	}
}
