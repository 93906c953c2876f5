package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// report is a small recovered failover.
func report(t *testing.T) failover.Report {
	t.Helper()
	b, err := failover.NewBudget(failover.DefaultSettings(), "flocker", failover.ModeCrash)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(name string, s float64) failover.Event {
		return failover.Event{Name: name, Source: failover.SourceOf(name), SinceKillSeconds: s, At: time.Unix(0, 0).UTC()}
	}
	return failover.Report{Stack: "ci-1", Mode: failover.ModeCrash, Budget: b, NewHost: "10.0.1.11", Recovered: true, RTOSeconds: 95,
		Timeline:      []failover.Event{ev(failover.EventKill, 0), ev(failover.EventAgentLost, 61), ev(failover.EventAppServed, 95), ev(failover.EventClicksReadBack, 95.2)},
		ClicksWritten: 10, ClicksLost: []string{}}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	r := report(t)
	kill, _ := json.Marshal(r)
	reh, _ := json.Marshal(map[string]any{"stack": "ci-1", "steps": []any{}, "failover": r, "rtoLimitSeconds": 140.0, "rtoLimitFrom": "budget + margin"})
	killFile, rehFile := filepath.Join(dir, "kill.json"), filepath.Join(dir, "rehearsal-report.json")
	for p, b := range map[string][]byte{killFile: kill, rehFile: reh, filepath.Join(dir, "early.json"): []byte(`{"stack":"s","steps":[]}`)} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out.svg")
	for _, c := range []struct {
		name    string
		args    []string
		stdin   string
		tty     bool // stdin is a terminal
		code    int
		stdout  bool   // the SVG on stdout
		file    string // the SVG in this file
		limit   bool   // the rehearsal's limit drawn
		wantErr string
	}{
		{name: "file to stdout", args: []string{killFile}, stdout: true},
		{name: "stdin to stdout", args: []string{"-"}, stdin: string(kill), stdout: true},
		{name: "no argument reads stdin", stdin: string(reh), stdout: true, limit: true},
		{name: "no argument at a terminal", tty: true, stdin: string(reh), code: 2, wantErr: "no report given and stdin is a terminal"},
		{name: "- at a terminal reads it", args: []string{"-"}, tty: true, stdin: string(kill), stdout: true},
		{name: "a file at a terminal", args: []string{killFile}, tty: true, stdout: true},
		{name: "rehearsal report to a file", args: []string{"--output", out, rehFile}, file: out, limit: true},
		{name: "old spelling -o", args: []string{"-o", out, rehFile}, file: out, limit: true, wantErr: "-o is deprecated"},
		{name: "help", args: []string{"-h"}},
		{name: "two reports", args: []string{killFile, rehFile}, code: 2, wantErr: "one report at a time"},
		{name: "unknown flag", args: []string{"--svg"}, code: 2, wantErr: "flag provided but not defined"},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.json")}, code: 1, wantErr: "no such file"},
		{name: "rehearsal before the kill", args: []string{filepath.Join(dir, "early.json")}, code: 1, wantErr: "no failover"},
		{name: "not a report", stdin: "{}", code: 1, wantErr: "stdin: reading the report: neither"},
		{name: "unwritable output", args: []string{"--output", filepath.Join(dir, "no", "such", "dir.svg"), killFile}, code: 1, wantErr: "writing the failover drawing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			stdin := &countingReader{r: strings.NewReader(c.stdin)}
			code := run(c.args, stdin, c.tty, &stdout, &stderr)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, stderr.String())
			}
			if c.wantErr != "" && !strings.Contains(stderr.String(), c.wantErr) {
				t.Errorf("stderr %q, want %q", stderr.String(), c.wantErr)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if c.code != 0 && !strings.HasPrefix(lines[len(lines)-1], program+": ") {
				t.Errorf("stderr %q lacks the program name", stderr.String())
			}
			if c.code == 2 && (len(lines) != 1 || !strings.Contains(lines[0], "run "+program+" -h")) {
				t.Errorf("a usage error is one line naming -h, as opflags' are: %q", stderr.String())
			}
			if c.tty && len(c.args) == 0 && stdin.reads > 0 {
				t.Error("read the terminal with no report named: it waits for input nobody knows to type")
			}
			svg := stdout.Bytes()
			if c.file != "" {
				var err error
				if svg, err = os.ReadFile(c.file); err != nil {
					t.Fatal(err)
				}
				if stdout.Len() > 0 {
					t.Errorf("stdout %q with -o", stdout.String())
				}
			}
			if !c.stdout && c.file == "" {
				if c.code == 0 && len(svg) > 0 {
					t.Errorf("unexpected output %q", svg)
				}
				return
			}
			var root struct {
				XMLName xml.Name
				ViewBox string `xml:"viewBox,attr"`
			}
			if err := xml.Unmarshal(svg, &root); err != nil || root.XMLName.Local != "svg" || !strings.HasPrefix(root.ViewBox, "0 0 1000 ") {
				t.Fatalf("not an SVG 1000 wide (%v): %.200s", err, svg)
			}
			for _, want := range []string{`class="rto"`, `data-source="clicks"`, "ci-1", "flocker volume, crash kill"} {
				if !bytes.Contains(svg, []byte(want)) {
					t.Errorf("SVG lacks %q", want)
				}
			}
			if got := bytes.Contains(svg, []byte(`class="limit"`)); got != c.limit {
				t.Errorf("limit drawn %t, want %t", got, c.limit)
			}
		})
	}
}

// countingReader counts the reads of stdin.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}
