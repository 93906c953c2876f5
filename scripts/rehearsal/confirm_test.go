package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// TestAsksAtATerminal: stdin a terminal and no --yes, the rehearsal prints
// the plan and asks; "yes" goes on to prepare the stack, any other answer
// (the prompt says "Type yes", as cleanup-volumes' does: "y" is not yes)
// or none (EOF) stops with exit 1 and "not confirmed: nothing was created",
// before a stack is prepared, checkip is asked or a file is written.
func TestAsksAtATerminal(t *testing.T) {
	const question = "Create the stack and rehearse? It bills until it is destroyed. Type yes: "
	for _, c := range []struct {
		answer  string
		proceed bool
		eof     bool // no newline: the tool ends the question's line
	}{
		{"yes\n", true, false},
		{"  yes \r\n", true, false},
		{"yes", true, true}, // EOF after the word
		{"y\n", false, false},
		{"Y\n", false, false},
		{"no\n", false, false},
		{"yes please\n", false, false},
		{"\n", false, false},
		{"", false, true}, // EOF: Ctrl-D
	} {
		t.Run(strings.TrimSpace(c.answer), func(t *testing.T) {
			dir := t.TempDir()
			d, prepared := atTerminal(t, c.answer)
			var stdout, stderr strings.Builder
			code := run([]string{"--runs-dir", dir, "--output", filepath.Join(dir, "r.json"), "--operator-cidr", "203.0.113.7/32"}, &stdout, &stderr, d)
			if !strings.Contains(stderr.String(), "in eu-west-1: 1 master, 2 agents") || !strings.Contains(stderr.String(), question) {
				t.Errorf("the plan and the question are not on stderr:\n%s", stderr.String())
			}
			if c.proceed {
				if !*prepared || code != 1 || !strings.Contains(stderr.String(), "preparing the run: stopped here by the test") {
					t.Errorf("answer %q: prepared %v, exit %d, stderr:\n%s", c.answer, *prepared, code, stderr.String())
				}
				return
			}
			if *prepared {
				t.Errorf("answer %q: a stack was prepared", c.answer)
			}
			nl := ""
			if c.eof {
				nl = "\n"
			}
			if code != 1 || !strings.HasSuffix(stderr.String(), question+nl+"rehearsal: not confirmed: nothing was created\n") {
				t.Errorf("answer %q: exit %d, want 1 and \"not confirmed: nothing was created\"; stderr:\n%s", c.answer, code, stderr.String())
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("answer %q: files left: %v", c.answer, left)
			}
		})
	}
}

// TestNoQuestionWithYesOrDryRun: at a terminal, --yes and --dry-run do not
// ask (and read nothing from stdin).
func TestNoQuestionWithYesOrDryRun(t *testing.T) {
	for _, flag := range []string{"--yes", "--dry-run"} {
		d, prepared := atTerminal(t, "no\n")
		var stdout, stderr strings.Builder
		code := run([]string{flag, "--runs-dir", t.TempDir(), "--operator-cidr", "203.0.113.7/32"}, &stdout, &stderr, d)
		if strings.Contains(stderr.String(), "Type yes") {
			t.Errorf("%s: asked anyway:\n%s", flag, stderr.String())
		}
		if wantPrepared := flag == "--yes"; *prepared != wantPrepared || (flag == "--dry-run" && code != 0) {
			t.Errorf("%s: prepared %v, exit %d; stderr:\n%s", flag, *prepared, code, stderr.String())
		}
	}
}

// atTerminal is bare with stdin a terminal that answers answer, and a
// newStack that records the stack would be prepared, then stops the run.
func atTerminal(t *testing.T, answer string) (deps, *bool) {
	d := bare(t, strings.NewReader(answer))
	d.stdinIsTerminal = true
	prepared := new(bool)
	d.newStack = func(rehearsal.AutoOptions) (rehearsal.Stack, error) {
		*prepared = true
		return nil, errors.New("stopped here by the test")
	}
	return d, prepared
}
