package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/opflags/opflagstest"
)

func TestSharedFlags(t *testing.T) {
	opflagstest.Check(t, opflagstest.Tool{Program: program, Flags: newFlags,
		Run: func(args []string, stdout, stderr io.Writer) int {
			return run(args, deps{stdout: stdout, stderr: stderr, getenv: env(nil)})
		},
		Failing: []string{"--region", "eu-west-1", "--output", "/nonexistent/dir/x.gz"}})
}

// TestNoPlaceholderInTheCommands: the region comes from MHA_REGION as
// from --region, and no printed command holds a placeholder.
func TestNoPlaceholderInTheCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	path := filepath.Join(t.TempDir(), "ud.gz")
	if code := run([]string{"--output", path}, deps{stdout: &out, stderr: &errOut, getenv: env(map[string]string{"MHA_REGION": "ap-south-1"})}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "--region ap-south-1") {
		t.Errorf("commands:\n%s", out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if (strings.Contains(line, "aws ") || strings.Contains(line, "pulumi ")) && strings.ContainsAny(line, "<>") {
			t.Errorf("a command with a placeholder: %s", line)
		}
	}
}
