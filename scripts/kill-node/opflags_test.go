package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/opflags/opflagstest"
)

func TestSharedFlags(t *testing.T) {
	opflagstest.Check(t, opflagstest.Tool{Program: program, Flags: newFlags,
		Run: func(args []string, stdout, stderr io.Writer) int {
			return run(context.Background(), args, deps{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr})
		},
		Failing: []string{"--outputs", "/nonexistent/outputs.json", "--yes"}})
}

// TestCredentialsCheckedBeforeAnything: with expired credentials nothing
// is looked up, written or terminated, and the problem is named.
func TestCredentialsCheckedBeforeAnything(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	d := testDeps(c, "")
	var profile string
	d.useProfile = func(p string) { profile = p }
	d.whoami = func(_ context.Context, _, p string) (ec2ops.Identity, error) {
		return ec2ops.Identity{}, &ec2ops.CredentialError{Problem: "the AWS credentials (profile \"" + p + "\") have expired", Fix: "run `aws sso login --profile " + p + "`"}
	}
	r := runWith(t, d, args("--outputs", outputsFile(t, c), "--yes", "--aws-profile", "ops")...)
	if r.code != 1 || terminations(c) != 0 || profile != "ops" {
		t.Fatalf("exit %d, %d terminations, profile %q", r.code, terminations(c), profile)
	}
	for _, want := range []string{"have expired", "aws sso login --profile ops", "nothing was terminated"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
	if len(c.EC2Server().Calls("DescribeInstances")) != 0 {
		t.Error("EC2 was asked before the credential check")
	}
}

// TestOutputWritesTheReportAndItsDrawing: --output FILE.json holds the JSON
// report, the SVG lies next to it, and the human lines stay on stdout.
func TestOutputWritesTheReportAndItsDrawing(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	dir := t.TempDir()
	file := filepath.Join(dir, "kill.json")
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--clicks", "3", "--output", file)...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rep failover.Report
	if err := json.Unmarshal(b, &rep); err != nil || !rep.Recovered {
		t.Fatalf("%s is not a recovered report (%v):\n%s", file, err, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "kill.svg")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(r.stdout, "timeline drawn in "+filepath.Join(dir, "kill.svg")) || strings.Contains(r.stdout, `"timeline"`) {
		t.Errorf("stdout should hold the human lines, not the JSON:\n%s", r.stdout)
	}
}
