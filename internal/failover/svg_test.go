package failover_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
)

var update = flag.Bool("update", false, "rewrite testdata/*.svg, and docs/failover-standin.json and .svg from a new stand-in run (the test still fails, naming what it rewrote)")

// budget is a hand-made budget, so the golden drawings do not move with
// the estimates in internal/facts.
func budget(driver string, mode failover.Mode, steps ...any) failover.Budget {
	b := failover.Budget{Driver: driver, Mode: mode}
	for i := 0; i < len(steps); i += 2 {
		s := failover.Step{Name: steps[i].(string), Seconds: steps[i+1].(float64), Basis: "hand-made"}
		s.Duration = time.Duration(s.Seconds * float64(time.Second))
		b.Steps = append(b.Steps, s)
		b.Seconds += s.Seconds
	}
	b.Total = time.Duration(b.Seconds * float64(time.Second))
	return b
}

// fixedReport is a hand-made report of a real-looking crash with REX-Ray:
// its drawing is golden, unlike a stand-in run's, whose times vary.
func fixedReport(t *testing.T) failover.Report {
	t.Helper()
	b := budget("rexray", failover.ModeCrash, "Mesos declares the agent lost", 60.0, "Marathon relaunches the app", 2.0,
		"REX-Ray moves the EBS volume to the new agent", 12.0, "the container starts", 3.0, "the ELB serves the app again", 10.0)
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ev := func(name string, s float64, detail string) failover.Event {
		return failover.Event{Name: name, Source: failover.SourceOf(name), At: at.Add(time.Duration(s * float64(time.Second))), SinceKillSeconds: s, Detail: detail}
	}
	return failover.Report{Stack: "dev <&> test", AppURL: "http://elb.example", KilledInstanceID: "i-0aaa", KilledHost: "10.0.1.10",
		NewHost: "10.0.1.11", NewInstanceID: "i-0bbb", Mode: failover.ModeCrash, VolumeID: "vol-0ccc", Budget: b,
		Timeline: []failover.Event{
			ev(failover.EventKill, 0, "i-0aaa"), ev(failover.EventShuttingDown, 0.4, ""), ev(failover.EventAppDown, 0.9, "connection refused"),
			ev(failover.EventInstanceDown, 1.2, ""), ev(failover.EventVolumeDetached, 1.5, "vol-0ccc"), ev(failover.EventOldOutOfService, 2.1, ""),
			ev(failover.EventAgentLost, 61.3, "TASK_UNREACHABLE"), ev(failover.EventTaskStaged, 62.2, "10.0.1.11"),
			ev(failover.EventVolumeAttached, 70.8, "i-0bbb"), ev(failover.EventTaskRunning, 73.5, ""), ev(failover.EventNewInService, 84.0, "i-0bbb"),
			ev(failover.EventAppServed, 84.2, "10.0.1.11"), ev(failover.EventClicksReadBack, 84.3, "10 of 10"),
		},
		Recovered: true, RTOSeconds: 84.2, ClicksWritten: 10, ClicksLost: []string{}, SampleIntervalSeconds: 1}
}

func TestSVGGolden(t *testing.T) {
	notRecovered := fixedReport(t)
	b := budget("flocker", failover.ModeGraceful, "the OS shuts down while the app still serves", 30.0, "Mesos declares the agent lost", 60.0,
		"Marathon relaunches the app", 2.0, "Flocker attaches and mounts the EBS volume on the new agent", 15.0, "the container starts", 3.0,
		"the ELB serves the app again", 10.0)
	notRecovered.Budget, notRecovered.Mode, notRecovered.Recovered, notRecovered.RTOSeconds = b, failover.ModeGraceful, false, 0
	notRecovered.Timeline = append(notRecovered.Timeline[:6:6], failover.Event{Name: failover.EventDeadlineExceeded, Source: failover.SourceApp, SinceKillSeconds: 300})
	notRecovered.Error, notRecovered.ClicksLost = "deadline 5m0s exceeded", []string{"x1", "x2"}
	for _, c := range []struct {
		name string
		r    failover.Report
		o    failover.SVGOptions
	}{
		{"rexray-crash", fixedReport(t), failover.SVGOptions{}},
		{"flocker-graceful-not-recovered", notRecovered, failover.SVGOptions{LimitSeconds: 150, LimitFrom: "budget + 30s margin"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := failover.WriteSVG(&got, c.r, c.o); err != nil {
				t.Fatal(err)
			}
			checkSVG(t, got.Bytes(), c.r, c.o)
			golden(t, filepath.Join("testdata", c.name+".svg"), got.Bytes())
			// Deterministic: a second drawing is the same.
			var again bytes.Buffer
			if err := failover.WriteSVG(&again, c.r, c.o); err != nil || !bytes.Equal(again.Bytes(), got.Bytes()) {
				t.Errorf("a second drawing differs (err %v)", err)
			}
		})
	}
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Errorf("rewrote %s: check the diff and run again without -update", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/failover -run SVG -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got  %s\n want %s\n(run with -update if the change is meant)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: %d lines, want %d", path, len(gl), len(wl))
	}
}

// node is any XML element, for walking the drawing.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n node) walk(f func(node, []node)) { n.walkIn(nil, f) }

func (n node) walkIn(parents []node, f func(node, []node)) {
	f(n, parents)
	for _, c := range n.Nodes {
		c.walkIn(append(parents[:len(parents):len(parents)], n), f)
	}
}

// checkSVG parses the drawing and checks its structure against r: a
// viewBox 1000 wide, every lane in order, each event a mark in its lane,
// the RTO bar when recovered, every budget step, labels that overlap
// none of their lane's, the limit when given.
func checkSVG(t *testing.T, svg []byte, r failover.Report, o failover.SVGOptions) {
	t.Helper()
	var root node
	if err := xml.Unmarshal(svg, &root); err != nil {
		t.Fatalf("the drawing is not XML: %v", err)
	}
	if root.XMLName.Local != "svg" || !strings.HasPrefix(root.attr("viewBox"), "0 0 1000 ") {
		t.Errorf("root %s viewBox %q, want svg 0 0 1000 ...", root.XMLName.Local, root.attr("viewBox"))
	}
	var lanes, emptyLanes []string
	marks := map[string]string{} // event -> lane
	var rto, limit bool
	var steps []string
	var captions []string
	var title string
	ticks := map[string][]string{} // group class -> tick labels
	var stepWidths []float64
	type number struct {
		text    string
		x       float64
		y       string
		outside bool
	}
	var numbers []number
	float := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return f
	}
	root.walk(func(n node, parents []node) {
		switch {
		case n.attr("class") == "tick" && len(parents) > 0:
			g := parents[len(parents)-1].attr("class")
			ticks[g] = append(ticks[g], n.Text)
		case n.attr("class") == "title":
			title = n.Text
			captions = append(captions, n.Text)
		case strings.HasPrefix(n.attr("class"), "step-number"):
			numbers = append(numbers, number{n.Text, float(n.attr("x")), n.attr("y"), strings.HasSuffix(n.attr("class"), "outside")})
		case n.attr("class") == "lane":
			lanes = append(lanes, n.attr("data-source"))
			if !slices.ContainsFunc(n.Nodes, func(c node) bool { return c.attr("class") == "mark" || c.attr("class") == "no-event" }) {
				emptyLanes = append(emptyLanes, n.attr("data-source"))
			}
			checkLabels(t, n)
		case n.attr("class") == "mark":
			if len(parents) > 0 {
				marks[n.attr("data-event")] = parents[len(parents)-1].attr("data-source")
			}
		case n.attr("class") == "rto":
			rto = true
		case n.attr("class") == "limit":
			limit = true
		case n.attr("class") == "budget-step":
			steps = append(steps, n.attr("data-step"))
			stepWidths = append(stepWidths, float(n.attr("width")))
		case n.attr("class") == "caption" || n.attr("class") == "title":
			captions = append(captions, n.Text)
		}
	})
	// Every source's lane in order, but the masters' only with events.
	want := slices.DeleteFunc(slices.Clone(failover.Sources), func(s string) bool {
		return s == failover.SourceMasters && !slices.ContainsFunc(r.Timeline, func(e failover.Event) bool { return e.Source == failover.SourceMasters })
	})
	if strings.Join(lanes[:min(len(lanes), len(want))], ",") != strings.Join(want, ",") {
		t.Errorf("lanes %q, want %q first", lanes, want)
	}
	for _, lane := range emptyLanes {
		t.Errorf("lane %s has neither a mark nor a word saying nothing was seen", lane)
	}
	// A stand-in run says so in its title, not only in a caption.
	if stand := strings.Contains(title, "Stand-in"); stand != (r.TimeScale > 1) {
		t.Errorf("title %q: says stand-in %t, time scale %g", title, stand, r.TimeScale)
	}
	// One time axis: the budget's ticks are the timeline's.
	if len(r.Timeline) > 0 && !slices.Equal(ticks["axis"], ticks["budget-panel"]) {
		t.Errorf("two time axes: timeline %q, budget %q", ticks["axis"], ticks["budget-panel"])
	}
	// Every step visible, and numbered inside its bar or outside it with
	// no two outside numbers on one another.
	for _, w := range stepWidths {
		if w < 3 {
			t.Errorf("a budget step %g px wide: invisible", w)
		}
	}
	if len(numbers) != len(r.Budget.Steps) {
		t.Errorf("%d step numbers for %d steps", len(numbers), len(r.Budget.Steps))
	}
	for i, a := range numbers {
		for _, b := range numbers[i+1:] {
			if a.outside && b.outside && a.y == b.y && a.x-3.3 < b.x+3.3+4 && b.x-3.3 < a.x+3.3+4 {
				t.Errorf("step numbers %s and %s overlap", a.text, b.text)
			}
		}
	}
	for _, e := range r.Timeline {
		if lane, ok := marks[e.Name]; !ok || lane != e.Source {
			t.Errorf("event %q (source %s): mark in lane %q (found %t)", e.Name, e.Source, lane, ok)
		}
	}
	if rto != r.Recovered {
		t.Errorf("RTO bar drawn %t, recovered %t", rto, r.Recovered)
	}
	if limit != (o.LimitSeconds > 0) {
		t.Errorf("limit drawn %t, limit %g", limit, o.LimitSeconds)
	}
	if len(steps) != len(r.Budget.Steps) || len(steps) == 0 {
		t.Errorf("budget steps drawn %q, want %d", steps, len(r.Budget.Steps))
	}
	for i := range min(len(steps), len(r.Budget.Steps)) {
		if steps[i] != r.Budget.Steps[i].Name {
			t.Errorf("budget step %d is %q, want %q", i, steps[i], r.Budget.Steps[i].Name)
		}
	}
	caption := strings.Join(captions, "\n")
	for _, want := range []string{r.Stack, r.Budget.Driver, string(r.Mode), "budget"} {
		if !strings.Contains(caption, want) {
			t.Errorf("caption %q lacks %q", caption, want)
		}
	}
	if !strings.Contains(caption, "lost") {
		t.Errorf("caption %q does not say the clicks lost", caption)
	}
}

// checkLabels checks that no two labels of a lane's row overlap, from
// their anchors and the monospace width the renderer assumes.
func checkLabels(t *testing.T, lane node) {
	t.Helper()
	type box struct {
		y    string
		l, r float64
		text string
	}
	var boxes []box
	for _, n := range lane.Nodes {
		if n.attr("class") != "label" {
			continue
		}
		var x float64
		if err := json.Unmarshal([]byte(n.attr("x")), &x); err != nil {
			t.Fatalf("label x %q: %v", n.attr("x"), err)
		}
		w := float64(len([]rune(n.Text))) * 6.6
		b := box{y: n.attr("y"), l: x, r: x + w, text: n.Text}
		if n.attr("text-anchor") == "end" {
			b.l, b.r = x-w, x
		}
		if b.l < 0 || b.r > 1000 {
			t.Errorf("label %q spans %g..%g, outside the 1000 px", b.text, b.l, b.r)
		}
		for _, o := range boxes {
			if o.y == b.y && b.l < o.r && o.l < b.r {
				t.Errorf("lane %s: labels %q and %q overlap", lane.attr("data-source"), o.text, b.text)
			}
		}
		boxes = append(boxes, b)
	}
}

// Either kind of saved report is read; anything else is refused.
func TestDecodeAnyReport(t *testing.T) {
	r := fixedReport(t)
	kill, _ := json.Marshal(r)
	reh, _ := json.Marshal(map[string]any{"stack": "s", "steps": []any{}, "failover": r, "rtoLimitSeconds": 120.5, "rtoLimitFrom": "budget + margin"})
	early, _ := json.Marshal(map[string]any{"stack": "s", "steps": []any{}})
	for _, c := range []struct {
		name, in, wantErr string
		limit             float64
	}{
		{"kill-node", string(kill), "", 0},
		{"rehearsal", string(reh), "", 120.5},
		{"rehearsal before the kill", string(early), "no failover", 0},
		{"not JSON", "<svg/>", "reading the report", 0},
		{"other JSON", `{"a":1}`, "neither", 0},
		{"unknown field", `{"timeline":[],"bogus":1}`, "bogus", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, o, err := failover.DecodeAnyReport([]byte(c.in))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Stack != r.Stack || len(got.Timeline) != len(r.Timeline) || got.Budget.Seconds != r.Budget.Seconds || o.LimitSeconds != c.limit {
				t.Errorf("decoded %q %d events budget %g limit %g", got.Stack, len(got.Timeline), got.Budget.Seconds, o.LimitSeconds)
			}
		})
	}
}
