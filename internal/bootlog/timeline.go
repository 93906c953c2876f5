package bootlog

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Step is one step of a node's timeline. End is -1 while it has not ended.
type Step struct {
	Name   string `json:"step"`
	Start  int    `json:"startSeconds"`
	End    int    `json:"endSeconds"`
	State  string `json:"state"` // start (running or cut off), done or FAILED
	Detail string `json:"detail,omitempty"`
}

// Seconds is how long the step took, or -1 if it has not ended.
func (s Step) Seconds() int {
	if s.End < 0 {
		return -1
	}
	return s.End - s.Start
}

// Timeline is one node's boot as its console tells it.
type Timeline struct {
	Node  string `json:"node"`
	Steps []Step `json:"steps"`
	// State is the boot's: "done" (ready), "FAILED", "running", or
	// "unknown" when the console holds no boot-step line.
	State string `json:"state"`
	// Elapsed is the last elapsed time the console reported.
	Elapsed int `json:"elapsedSeconds"`
	// Failed is the step that failed, with its reason, when State is FAILED.
	Failed *Step `json:"failed,omitempty"`
}

// Boot states of a Timeline.
const (
	Running = "running"
	Unknown = "unknown"
)

// Current is the innermost step still running (the last started, not
// ended), or nil.
func (t Timeline) Current() *Step {
	for i := len(t.Steps) - 1; i >= 0; i-- {
		if t.Steps[i].End < 0 && t.Steps[i].Name != Boot {
			return &t.Steps[i]
		}
	}
	return nil
}

// Build folds one node's lines into its timeline. A start of a step opens
// it, done or FAILED closes the last open step of that name; a step never
// closed keeps End -1.
func Build(node string, lines []Line) Timeline {
	t := Timeline{Node: node, State: Unknown}
	for _, l := range lines {
		if l.Node != node {
			continue
		}
		if t.State == Unknown {
			t.State = Running
		}
		t.Elapsed = max(t.Elapsed, l.Elapsed)
		if l.State == Start {
			t.Steps = append(t.Steps, Step{Name: l.Step, Start: l.Elapsed, End: -1, State: Start, Detail: l.Detail})
			continue
		}
		i := len(t.Steps) - 1
		for ; i >= 0; i-- {
			if t.Steps[i].Name == l.Step && t.Steps[i].End < 0 {
				break
			}
		}
		if i < 0 { // an end whose start scrolled out of the console's 64 KiB
			t.Steps = append(t.Steps, Step{Name: l.Step, Start: l.Elapsed, End: -1})
			i = len(t.Steps) - 1
		}
		t.Steps[i].End, t.Steps[i].State = l.Elapsed, l.State
		if l.Detail != "" {
			t.Steps[i].Detail = l.Detail
		}
		switch {
		case l.State == Failed:
			t.State = Failed
			s := t.Steps[i]
			t.Failed = &s
		case l.Step == Boot && l.State == Done:
			t.State = Done
		}
	}
	return t
}

// Timelines builds the timeline of every node whose lines are in console,
// sorted by node name.
func Timelines(console string) []Timeline {
	lines := Parse(console)
	nodes := map[string]bool{}
	for _, l := range lines {
		nodes[l.Node] = true
	}
	names := make([]string, 0, len(nodes))
	for n := range nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Timeline, len(names))
	for i, n := range names {
		out[i] = Build(n, lines)
	}
	return out
}

// Summary is one line about a node's boot: its current step and elapsed
// time, its end, or its failure.
func (t Timeline) Summary() string {
	switch t.State {
	case Unknown:
		return "no boot step on the console yet"
	case Done:
		return fmt.Sprintf("booted in %ds", t.Elapsed)
	case Failed:
		return fmt.Sprintf("boot FAILED at %s after %ds: %s", t.Failed.Name, t.Failed.End, t.Failed.Detail)
	}
	if c := t.Current(); c != nil {
		d := ""
		if c.Detail != "" {
			d = " (" + c.Detail + ")"
		}
		return fmt.Sprintf("step %s%s since %ds, %ds into the boot", c.Name, d, c.Start, t.Elapsed)
	}
	return fmt.Sprintf("%ds into the boot", t.Elapsed)
}

// Write prints t as a table: each step's start and end in seconds since
// the boot began, its duration, and its state, in the order they started.
func (t Timeline) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", t.Node, t.Summary())
	if len(t.Steps) > 0 {
		fmt.Fprintf(&b, "  %-34s %5s %5s %6s  %s\n", "STEP", "START", "END", "TOOK", "STATE")
	}
	for _, s := range t.Steps {
		end, took, state := "-", "-", s.State
		if s.End >= 0 {
			end, took = fmt.Sprint(s.End), fmt.Sprintf("%ds", s.Seconds())
		}
		if state == Start {
			state = "unfinished"
		}
		fmt.Fprintf(&b, "  %-34s %5d %5s %6s  %s", s.Name, s.Start, end, took, state)
		if s.Detail != "" {
			fmt.Fprintf(&b, "  %s", s.Detail)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
