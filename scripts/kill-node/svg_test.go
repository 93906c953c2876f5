package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// --svg draws the report kill-node printed: every lane, a mark for each of
// its events in that event's lane, the RTO bar and the budget.
func TestSVGDrawsTheReport(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	svgPath := filepath.Join(t.TempDir(), "failover.svg")
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--json", "--clicks", "3", "--svg", svgPath)...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	var rep failover.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(r.stderr, "timeline drawn in "+svgPath) {
		t.Errorf("stderr does not name the drawing:\n%s", r.stderr)
	}
	f, err := os.Open(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lanes := map[string]bool{}
	marks := map[string]string{} // event -> lane
	var lane string
	var rto, budget bool
	dec := xml.NewDecoder(f)
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := map[string]string{}
		for _, a := range se.Attr {
			attr[a.Name.Local] = a.Value
		}
		switch attr["class"] {
		case "lane":
			lane = attr["data-source"]
			lanes[lane] = true
		case "mark":
			marks[attr["data-event"]] = lane
		case "rto":
			rto = true
		case "budget-step":
			budget = true
		}
	}
	for _, s := range failover.Sources {
		// The masters' lane is drawn only for a drill that has its events.
		if !lanes[s] && (s != failover.SourceMasters || slices.ContainsFunc(rep.Timeline, func(e failover.Event) bool { return e.Source == s })) {
			t.Errorf("no lane for %s", s)
		}
	}
	for _, e := range rep.Timeline {
		if marks[e.Name] != e.Source {
			t.Errorf("event %q of %s drawn in lane %q", e.Name, e.Source, marks[e.Name])
		}
	}
	if !rto || !budget {
		t.Errorf("RTO bar %t, budget %t", rto, budget)
	}
}

func TestSVGNeedsTheWatch(t *testing.T) {
	for _, flag := range []string{"--svg", "--output"} {
		r := runWith(t, deps{stdin: strings.NewReader("")}, "--stack", "dev", "--no-watch", flag, "x.svg")
		if r.code != 2 || !strings.Contains(r.stderr, "hold the watch's report, which --no-watch skips") {
			t.Errorf("%s: exit %d, stderr %q", flag, r.code, r.stderr)
		}
	}
}
