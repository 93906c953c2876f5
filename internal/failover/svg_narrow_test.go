package failover_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// Steps of a fraction of a second, or of none, on a bar of more than a
// minute stay visible, and their numbers go below the bar, apart; a
// masters' event brings the masters' lane back.
func TestSVGNarrowStepsAndTheMastersLane(t *testing.T) {
	r := fixedReport(t)
	r.Budget = budget("rexray", failover.ModeCrash, "Mesos declares the agent lost", 60.0, "a short one", 0.2,
		"none at all", 0.0, "another short one", 0.3, "the ELB serves the app again", 10.0)
	r.Timeline = append(r.Timeline, failover.Event{Name: failover.EventMarathonLeader, Source: failover.SourceMasters, SinceKillSeconds: 12})
	root := drawChecked(t, r)
	outside := map[string]bool{}
	var masters bool
	root.walk(func(n node, _ []node) {
		if strings.HasPrefix(n.attr("class"), "step-number") {
			outside[n.Text] = strings.HasSuffix(n.attr("class"), "outside")
		}
		if n.attr("class") == "lane" && n.attr("data-source") == failover.SourceMasters {
			masters = true
		}
	})
	for num, want := range map[string]bool{"1": false, "2": true, "3": true, "4": true, "5": false} {
		if outside[num] != want {
			t.Errorf("step %s's number outside the bar: %t, want %t", num, outside[num], want)
		}
	}
	if !masters {
		t.Error("a masters' event drawn without the masters' lane")
	}
}

// drawChecked draws r, checks the drawing (checkSVG) and returns it parsed.
func drawChecked(t *testing.T, r failover.Report) node {
	t.Helper()
	var svg bytes.Buffer
	if err := failover.WriteSVG(&svg, r, failover.SVGOptions{}); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svg.Bytes(), r, failover.SVGOptions{})
	var root node
	if err := xml.Unmarshal(svg.Bytes(), &root); err != nil {
		t.Fatal(err)
	}
	return root
}
