package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ststest"
	"github.com/marathon-ha/marathon-ha/internal/opflags/opflagstest"
)

func init() { stdin = strings.NewReader("") } // no terminal in tests

func TestSharedFlags(t *testing.T) {
	opflagstest.Check(t, opflagstest.Tool{Program: progName, Flags: newFlags,
		Run: func(args []string, stdout, stderr io.Writer) int {
			return run(context.Background(), args, env(nil), stdout, stderr, ec2ops.ConnectAs)
		},
		Failing: []string{"--outputs", "/nonexistent/outputs.json"}})
}

// TestFromStackOutputs: --outputs gives the selector and the region; the
// old spellings still work, each with a deprecation line.
func TestFromStackOutputs(t *testing.T) {
	srv, connect := seed(t)
	outs := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(outs, []byte(`{"region":"eu-west-1","volumeDriver":"flocker","clusterId":"c0ffee12","stack":"dev","volumeName":"moby-counter-c0ffee12",
		"appId":"/a","appUrl":"http://elb","marathonUrl":"http://m:8080","failoverSettings":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--outputs", outs, "--flocker-cluster-uuid", uuid, "--account-id", stackAccount, "--poll", "2ms", "--profile", "default"},
		env(nil), &stdout, &stderr, connect)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got := srv.ec2.VolumeIDs(); len(got) != 2 {
		t.Errorf("volumes left %v, want the other cluster's and the untagged one", got)
	}
	if !strings.Contains(stderr.String(), "--profile is deprecated") || !strings.Contains(stdout.String(), "in eu-west-1 of account "+stackAccount) {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

// TestExpiredCredentialsNamed: an expired session is named with its fix
// and nothing is listed.
func TestExpiredCredentialsNamed(t *testing.T) {
	srv, _ := seed(t)
	expired := ststest.Identity{AccessKeyID: "ASIAOLD", SecretAccessKey: "s", SessionToken: "t", Account: stackAccount, Expired: true}
	ids := ststest.NewServer(expired)
	t.Cleanup(ids.Close)
	connect := func(_ context.Context, region, _ string) (ec2ops.EC2API, ec2ops.STSAPI, error) {
		return srv.ec2.Client(), ids.Client(expired, region), nil
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--poll", "2ms"}, env(pulumiEnv()), &stdout, &stderr, connect); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "have expired") || !strings.Contains(stderr.String(), "aws sso login") || len(srv.ec2.VolumeIDs()) != 4 {
		t.Errorf("stderr %q, volumes %v", stderr.String(), srv.ec2.VolumeIDs())
	}
}
