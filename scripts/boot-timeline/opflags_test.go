package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/opflags/opflagstest"
)

func TestSharedFlags(t *testing.T) {
	opflagstest.Check(t, opflagstest.Tool{Program: program, Flags: newFlags,
		Run: func(args []string, stdout, stderr io.Writer) int {
			return run(args, deps{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr})
		},
		Failing: []string{"--outputs", "/nonexistent/outputs.json"}})
}

// TestCredentialsCheckedFirst: a credential problem ends the run before
// any EC2 call, with the problem named.
func TestCredentialsCheckedFirst(t *testing.T) {
	var out, errOut bytes.Buffer
	connected := false
	code := run([]string{"--outputs", "-", "--aws-profile", "ops"}, deps{stdin: strings.NewReader(outputsJSON), stdout: &out, stderr: &errOut,
		whoami: func(_ context.Context, region, profile string) (ec2ops.Identity, error) {
			if region != "us-east-1" || profile != "ops" {
				t.Errorf("whoami(%q, %q)", region, profile)
			}
			return ec2ops.Identity{}, &ec2ops.CredentialError{Problem: "no AWS credentials found", Fix: "set AWS_PROFILE"}
		},
		connect: func(context.Context, string, string) (ec2ops.EC2API, ec2ops.ConsoleAPI, error) {
			connected = true
			return nil, nil, nil
		}})
	if code != 1 || connected || !strings.Contains(errOut.String(), "no AWS credentials found") {
		t.Errorf("exit %d, connected %v, stderr %q", code, connected, errOut.String())
	}
}

// TestUnknownDriverIsBadUsage: an unknown --volume-driver is refused before
// any console is read, as bad usage.
func TestUnknownDriverIsBadUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"--console", "testdata/master-standin.console", "--volume-driver", "ceph"}, deps{stdout: &out, stderr: &errOut})
	if code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), `"ceph"`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
