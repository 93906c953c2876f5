package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/opflags/opflagstest"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

func TestSharedFlags(t *testing.T) {
	opflagstest.Check(t, opflagstest.Tool{Program: program, Flags: newFlags,
		Run: func(args []string, stdout, stderr io.Writer) int {
			return run(args, stdout, stderr, deps{getenv: func(string) string { return "" },
				openRun: func(dir string, w io.Writer) (rehearsal.Stack, error) {
					s, err := rehearsal.OpenRun(dir, w)
					if err != nil {
						return nil, err
					}
					return s, nil
				}})
		},
		Failing: []string{"--destroy-run", "/nonexistent/run", "--region", "eu-west-1"}})
}

// bare is a harness whose only way into the world is newStack, which
// fails the test: nothing may be created.
func bare(t *testing.T, stdin io.Reader) deps {
	return deps{stdin: stdin, getenv: func(k string) string { return map[string]string{"AWS_REGION": "eu-west-1"}[k] },
		newStack: func(rehearsal.AutoOptions) (rehearsal.Stack, error) {
			t.Error("a stack was prepared")
			return nil, errors.New("no")
		},
		detectCIDR: func(context.Context) (string, error) {
			t.Error("checkip was asked")
			return "", errors.New("no")
		}}
}

// TestRefusesToBillWithoutYes: stdin not a terminal and no --yes: exit 2,
// nothing prepared, no file anywhere.
func TestRefusesToBillWithoutYes(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr strings.Builder
	code := run([]string{"--runs-dir", dir, "--output", filepath.Join(dir, "r.json")}, &stdout, &stderr, bare(t, strings.NewReader("yes\n")))
	if code != 2 || !strings.Contains(stderr.String(), "pass --yes") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}

// TestDryRunPrintsThePlan: --dry-run prints the plan and exits 0 without
// preparing a stack, asking checkip or running pulumi.
func TestDryRunPrintsThePlan(t *testing.T) {
	var stdout, stderr strings.Builder
	code := run([]string{"--dry-run", "--drills", "leading-master", "--volume-driver", "flocker"}, &stdout, &stderr, bare(t, nil))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"in eu-west-1: 3 masters, 2 agents, flocker volumes", "drills leading-master", "bills for up to", "report rehearsal-report.json"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestCredentialsCheckedBeforeAnything: with no credentials the rehearsal
// names the problem and creates nothing.
func TestCredentialsCheckedBeforeAnything(t *testing.T) {
	d := bare(t, nil)
	var profile string
	d.setenv = func(k, v string) error { profile = k + "=" + v; return nil }
	d.whoami = func(_ context.Context, region, p string) (ec2ops.Identity, error) {
		return ec2ops.Identity{}, &ec2ops.CredentialError{Problem: "no AWS credentials found", Fix: "set AWS_PROFILE"}
	}
	var stdout, stderr strings.Builder
	code := run([]string{"--yes", "--aws-profile", "ops"}, &stdout, &stderr, d)
	if code != 1 || !strings.Contains(stderr.String(), "no AWS credentials found: set AWS_PROFILE; nothing was created") || profile != "AWS_PROFILE=ops" {
		t.Errorf("exit %d, stderr %q, env %q", code, stderr.String(), profile)
	}
}

// TestLongLogsGoToFiles: a problem carrying pulumi's output is one line in
// the summary with the path of a file holding all of it.
func TestLongLogsGoToFiles(t *testing.T) {
	report := filepath.Join(t.TempDir(), "r.json")
	log := "pulumi up of stack s: failed to run update: exit status 255\ncode: 255\nstdout: " + strings.Repeat("Updating (s):\n", 50)
	r := &rehearsal.Report{Problems: []string{"short", log}, Steps: []rehearsal.StepTiming{{Name: "up", Error: log}}}
	if err := shortenLogs(r, report); err != nil {
		t.Fatal(err)
	}
	path := strings.TrimSuffix(report, ".json") + "-1.log"
	want := "pulumi up of stack s: failed to run update: exit status 255 (all 53 lines: " + path + ")"
	if r.Problems[0] != "short" || r.Problems[1] != want || r.Steps[0].Error != want {
		t.Errorf("problems %q, step error %q", r.Problems, r.Steps[0].Error)
	}
	if raw, err := os.ReadFile(path); err != nil || string(raw) != log+"\n" {
		t.Errorf("%s: %v", path, err)
	}
}

// TestJSONOnStdout: --json prints the JSON report on stdout and the
// summary on stderr.
func TestJSONOnStdout(t *testing.T) {
	h := newHarness(t, &stack{})
	if code := h.run("--json", "--clicks", "2"); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, h.stderr.String())
	}
	var r rehearsal.Report
	if err := json.Unmarshal(h.stdout.Bytes(), &r); err != nil || !r.Passed {
		t.Fatalf("stdout is not the passed report (%v):\n%s", err, h.stdout.String())
	}
	if !strings.Contains(h.stderr.String(), "rehearsal PASSED") {
		t.Errorf("stderr lacks the summary:\n%s", h.stderr.String())
	}
}
