package main

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

const (
	uuid      = "3f1c7c2e-7d2a-4c55-9a53-0f5c2b1d9e41"
	otherUUID = "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// seed starts a stand-in holding one free and one attached volume of the
// cluster, one volume of another cluster and an untagged one; the agent
// holding the attached volume is being terminated.
func seed(t *testing.T) (*ec2test.Server, connectFunc) {
	t.Helper()
	srv := ec2test.NewServer(ec2test.WithShutdownDelay(10*time.Millisecond), ec2test.WithDetachDelay(10*time.Millisecond))
	t.Cleanup(srv.Close)
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", State: ec2test.StateShuttingDown})
	srv.AddVolume(ec2test.Volume{ID: "vol-0free", Tags: map[string]string{facts.TagFlockerClusterID: uuid}})
	srv.AddVolume(ec2test.Volume{ID: "vol-0attached", AttachedTo: "i-0agent", Tags: map[string]string{facts.TagFlockerClusterID: uuid}})
	srv.AddVolume(ec2test.Volume{ID: "vol-0other", Tags: map[string]string{facts.TagFlockerClusterID: otherUUID}})
	srv.AddVolume(ec2test.Volume{ID: "vol-0untagged"})
	var gotRegion string
	t.Cleanup(func() {
		if gotRegion != "" && gotRegion != "eu-west-1" {
			t.Errorf("connected to region %q", gotRegion)
		}
	})
	return srv, func(_ context.Context, region string) (ec2ops.EC2API, error) {
		gotRegion = region
		return srv.Client(), nil
	}
}

func TestRunFromEnvironmentAsPulumiDoes(t *testing.T) {
	srv, connect := seed(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--poll", "2ms"}, env(map[string]string{
		"MHA_REGION": "eu-west-1", "MHA_CLUSTER_ID": "c0ffee12", "MHA_VOLUME_DRIVER": "flocker",
		"MHA_FLOCKER_CLUSTER_UUID": uuid, "MHA_VOLUME_NAME": "moby-counter-c0ffee12", "MHA_WAIT": "5s",
	}), &stdout, &stderr, connect)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if got, want := srv.VolumeIDs(), []string{"vol-0other", "vol-0untagged"}; !slices.Equal(got, want) {
		t.Errorf("volumes left %v, want %v", got, want)
	}
	for _, want := range []string{"deleted vol-0free", "deleted vol-0attached", "deleted 2 of 2 volumes found"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestRunFailsListingAttachedVolumes(t *testing.T) {
	srv, connect := seed(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0alive"})
	srv.AddVolume(ec2test.Volume{ID: "vol-0stuck", AttachedTo: "i-0alive", Tags: map[string]string{facts.TagFlockerClusterID: uuid}})
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--region", "eu-west-1", "--cluster-id", "c0ffee12", "--driver", "flocker",
		"--flocker-cluster-uuid", uuid, "--wait", "50ms", "--poll", "5ms"}, env(nil), &stdout, &stderr, connect)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s", code, stdout.String())
	}
	for _, want := range []string{"cleanup-volumes: ", "vol-0stuck", "still attached", "i-0alive"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if _, ok := srv.Volume("vol-0stuck"); !ok {
		t.Error("the attached volume was deleted")
	}
}

func TestRunDryRun(t *testing.T) {
	srv, connect := seed(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--dry-run", "--flocker-cluster-uuid", uuid},
		env(map[string]string{"AWS_REGION": "eu-west-1", "MHA_CLUSTER_ID": "c0ffee12", "MHA_VOLUME_DRIVER": "flocker"}),
		&stdout, &stderr, connect)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if n := len(srv.Calls("DeleteVolume")); n != 0 {
		t.Errorf("dry run made %d DeleteVolume calls", n)
	}
	if !strings.Contains(stdout.String(), "would delete vol-0free") || !strings.Contains(stdout.String(), "dry run") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}

func TestRunRefusesBadInputWithoutCallingAWS(t *testing.T) {
	tests := map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"nothing":            {want: "missing --region (or MHA_REGION), --cluster-id (or MHA_CLUSTER_ID), --driver (or MHA_VOLUME_DRIVER)"},
		"flocker no uuid":    {args: []string{"--region", "eu-west-1", "--cluster-id", "c0ffee12", "--driver", "flocker"}, want: "Flocker cluster UUID"},
		"rexray other name":  {args: []string{"--region", "eu-west-1", "--cluster-id", "c0ffee12", "--driver", "rexray", "--volume-name", "data"}, want: "does not contain the cluster id"},
		"bad wait":           {args: []string{"--region", "r", "--cluster-id", "c", "--driver", "flocker"}, env: map[string]string{"MHA_WAIT": "ten"}, want: "MHA_WAIT"},
		"stray argument":     {args: []string{"--region", "r", "extra"}, want: `unexpected argument "extra"`},
		"flag beats the env": {args: []string{"--driver", "rexray"}, env: map[string]string{"MHA_REGION": "r", "MHA_CLUSTER_ID": "c0ffee12", "MHA_VOLUME_DRIVER": "flocker", "MHA_FLOCKER_CLUSTER_UUID": uuid}, want: "driver rexray needs the Docker volume name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			called := false
			connect := func(context.Context, string) (ec2ops.EC2API, error) { called = true; return nil, nil }
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, env(tc.env), &stdout, &stderr, connect); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.want)
			}
			if called {
				t.Error("AWS was contacted for invalid input")
			}
		})
	}
}

func TestHelpDocumentsTheEnvironment(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, env(nil), &stdout, &stderr, nil); code != 0 {
		t.Errorf("-h exits %d", code)
	}
	for _, v := range []string{"MHA_REGION", "MHA_CLUSTER_ID", "MHA_VOLUME_DRIVER", "MHA_FLOCKER_CLUSTER_UUID", "MHA_VOLUME_NAME", "MHA_WAIT", facts.VolumeCleanupWait.String()} {
		if !strings.Contains(stderr.String(), v) {
			t.Errorf("usage does not mention %s", v)
		}
	}
}

// TestRealSDKConfigurationReachesTheEndpoint runs the production connect
// path: the SDK's default configuration, steered by the environment the way
// an operator or CI would (AWS_ENDPOINT_URL_EC2, static keys).
func TestRealSDKConfigurationReachesTheEndpoint(t *testing.T) {
	srv, _ := seed(t)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_EC2": srv.URL, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
	} {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--region", "eu-west-1", "--cluster-id", "c0ffee12", "--driver", "flocker",
		"--flocker-cluster-uuid", uuid, "--wait", "5s", "--poll", "2ms"}, env(nil), &stdout, &stderr, ec2ops.Connect)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if got := srv.VolumeIDs(); !slices.Equal(got, []string{"vol-0other", "vol-0untagged"}) {
		t.Errorf("volumes left %v", got)
	}
}
