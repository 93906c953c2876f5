package main

import (
	"encoding/xml"
	"os"
	"strings"
	"testing"
)

// A rehearsal that watched a kill draws its failover next to the report,
// with the limit it was judged against.
func TestRehearsalDrawsTheFailover(t *testing.T) {
	h := newHarness(t, &stack{})
	if code := h.run("--clicks", "2"); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, h.stdout.String(), h.stderr.String())
	}
	p := svgPath(h.report)
	if !strings.HasSuffix(p, "report.svg") || !strings.Contains(h.stdout.String(), "timeline: "+p) {
		t.Errorf("drawing %s not named on stdout:\n%s", p, h.stdout.String())
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
	}
	if err := xml.Unmarshal(raw, &root); err != nil || root.XMLName.Local != "svg" || !strings.HasPrefix(root.ViewBox, "0 0 1000 ") {
		t.Fatalf("%s is not an SVG 1000 wide: %v", p, err)
	}
	for _, want := range []string{`class="rto"`, `class="limit"`, `data-source="clicks"`, `class="budget-step"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("%s lacks %s", p, want)
		}
	}
}

// No kill, no drawing: an interrupted up leaves only the JSON report.
func TestNoDrawingWithoutAFailover(t *testing.T) {
	st := &stack{blockUp: true, upStarts: make(chan struct{})}
	h := newHarness(t, st)
	go func() {
		<-st.upStarts
		h.sigs <- os.Interrupt
	}()
	if code := h.run("--operator-cidr", "203.0.113.7/32"); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if _, err := os.Stat(svgPath(h.report)); !os.IsNotExist(err) {
		t.Errorf("a drawing without a failover: %v", err)
	}
}

func TestSVGPath(t *testing.T) {
	for in, want := range map[string]string{"rehearsal-report.json": "rehearsal-report.svg", "/tmp/r": "/tmp/r.svg", "a.json.json": "a.json.svg"} {
		if got := svgPath(in); got != want {
			t.Errorf("svgPath(%q) = %q, want %q", in, got, want)
		}
	}
}
