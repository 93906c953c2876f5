// Package bootlog is the one source of truth for the lines a node's boot
// prints on its serial console for each step it starts and ends:
//
//	marathon-ha boot <node> <step> start|done|FAILED <elapsed>s[ <detail>]
//
// userdata renders ShellFormat into the boot's lib.sh (mha_mark), and the
// operator tools (deploy-app, boot-timeline) read the lines back from EC2's
// GetConsoleOutput with Parse and Timelines. <elapsed> is whole seconds since
// the boot script started (bash's SECONDS); <node> and <step> hold no spaces.
package bootlog

import (
	"fmt"
	"strconv"
	"strings"
)

// Prefix starts every boot-step line.
const Prefix = "marathon-ha boot "

// States of a step.
const (
	Start  = "start"
	Done   = "done"
	Failed = "FAILED"
)

// Boot is the step that spans the whole boot script: its done line is the
// node's last, after readiness.
const Boot = "boot"

// ShellFormat is the printf format mha_mark writes with, its arguments node,
// step, state, elapsed seconds and the detail with a leading space (or "").
// Every verb is %s so that bash's printf and Go's fmt agree.
const ShellFormat = Prefix + "%s %s %s %ss%s"

// Line is one boot-step line.
type Line struct {
	Node, Step, State string
	Elapsed           int // seconds since the boot started
	Detail            string
}

// String renders l exactly as the boot script prints it.
func (l Line) String() string {
	d := ""
	if l.Detail != "" {
		d = " " + l.Detail
	}
	return fmt.Sprintf(ShellFormat, l.Node, l.Step, l.State, strconv.Itoa(l.Elapsed), d)
}

// ParseLine reads one console line. The boot line may be preceded by what
// the console adds (a kernel timestamp, cloud-init's prefix), so Prefix is
// looked for anywhere in the line; ok is false when it holds no valid
// boot-step line.
func ParseLine(s string) (l Line, ok bool) {
	i := strings.Index(s, Prefix)
	if i < 0 {
		return Line{}, false
	}
	rest := strings.TrimRight(s[i+len(Prefix):], "\r\n ")
	f := strings.SplitN(rest, " ", 5)
	if len(f) < 4 || f[0] == "" || f[1] == "" {
		return Line{}, false
	}
	switch f[2] {
	case Start, Done, Failed:
	default:
		return Line{}, false
	}
	secs, found := strings.CutSuffix(f[3], "s")
	n, err := strconv.Atoi(secs)
	if !found || err != nil || n < 0 {
		return Line{}, false
	}
	l = Line{Node: f[0], Step: f[1], State: f[2], Elapsed: n}
	if len(f) == 5 {
		l.Detail = f[4]
	}
	return l, true
}

// Parse returns the boot-step lines of a console's text, in order, without
// repeats: cloud-init copies the script's output to the console as well as
// the script writing there itself, so each line may appear twice.
func Parse(console string) []Line {
	var out []Line
	seen := map[Line]bool{}
	for _, s := range strings.Split(console, "\n") {
		l, ok := ParseLine(s)
		if !ok || seen[l] {
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	return out
}

// LastLines returns the last n non-empty lines of a console's text, for a
// report of a failed boot.
func LastLines(console string, n int) []string {
	var lines []string
	for _, s := range strings.Split(strings.ReplaceAll(console, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(s) != "" {
			lines = append(lines, s)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
