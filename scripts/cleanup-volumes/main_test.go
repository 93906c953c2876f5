package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ststest"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

const (
	uuid      = "3f1c7c2e-7d2a-4c55-9a53-0f5c2b1d9e41"
	otherUUID = "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Identities the STS stand-in knows: the stack's account and another one.
var (
	stackCreds = ststest.Identity{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Account: stackAccount}
	otherCreds = ststest.Identity{AccessKeyID: "AKIDOTHER", SecretAccessKey: "other-secret", Account: "210987654321",
		ARN: "arn:aws:iam::210987654321:user/someone-else"}
)

const stackAccount = "123456789012"

// stand-ins are the EC2 and STS stand-ins one test talks to.
type standIns struct {
	ec2   *ec2test.Server
	sts   *ststest.Server
	clock *listingClock // the EC2 stand-in's (seed)
}

// seed starts the stand-ins, EC2 holding one free and one attached volume
// of the cluster, one volume of another cluster and an untagged one; the
// agent holding the attached volume is being terminated. Its connectFunc
// signs as stackCreds, or as otherCreds for profile "other".
//
// The EC2 stand-in's clock stands still until the clean-up has listed the
// volumes once through that connectFunc (or a test calls clock.start), and
// runs in real time after: so the listing always finds the volume attached
// and the agent shutting down, however long a loaded machine took to get
// there (with a running clock it sometimes found both gone), and the agent
// then terminates and the volume detaches 10 ms and 10 ms later while the
// clean-up waits.
func seed(t *testing.T) (standIns, connectFunc) {
	t.Helper()
	clock := &listingClock{t0: time.Now()}
	srv := ec2test.NewServer(ec2test.WithShutdownDelay(10*time.Millisecond), ec2test.WithDetachDelay(10*time.Millisecond), ec2test.WithClock(clock.now))
	t.Cleanup(srv.Close)
	ids := ststest.NewServer(stackCreds, otherCreds)
	t.Cleanup(ids.Close)
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
	return standIns{srv, ids, clock}, func(_ context.Context, region, profile string) (ec2ops.EC2API, ec2ops.STSAPI, error) {
		gotRegion = region
		creds := stackCreds
		if profile == "other" {
			creds = otherCreds
		}
		return volumesListed{srv.Client(), clock.start}, ids.Client(creds, region), nil
	}
}

// listingClock is seed's clock for the EC2 stand-in: t0 until start, then
// t0 plus the time since start.
type listingClock struct {
	mu      sync.Mutex
	t0      time.Time
	started time.Time
}

func (c *listingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started.IsZero() {
		return c.t0
	}
	return c.t0.Add(time.Since(c.started))
}

func (c *listingClock) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started.IsZero() {
		c.started = time.Now()
	}
}

// volumesListed calls listed after every DescribeVolumes has been answered.
type volumesListed struct {
	ec2ops.EC2API
	listed func()
}

func (v volumesListed) DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	defer v.listed()
	return v.EC2API.DescribeVolumes(ctx, in, optFns...)
}

// pulumiEnv is the environment the clean-up gets from its local.Command.
func pulumiEnv(kv ...string) map[string]string {
	m := map[string]string{
		"MHA_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "MHA_ACCOUNT_ID": stackAccount, "MHA_CLUSTER_ID": "c0ffee12",
		"MHA_VOLUME_DRIVER": "flocker", "MHA_FLOCKER_CLUSTER_UUID": uuid, "MHA_VOLUME_NAME": "moby-counter-c0ffee12", "MHA_WAIT": "5s",
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestRunFromEnvironmentAsPulumiDoes(t *testing.T) {
	srv, connect := seed(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--poll", "2ms"}, env(pulumiEnv()), &stdout, &stderr, connect)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if got, want := srv.ec2.VolumeIDs(), []string{"vol-0other", "vol-0untagged"}; !slices.Equal(got, want) {
		t.Errorf("volumes left %v, want %v", got, want)
	}
	// It says whom it ran as, what it looked for and where, each volume
	// found with its state, and what it did.
	for _, want := range []string{
		"credentials from the default credential chain: arn:aws:iam::123456789012:user/operator, the stack's account 123456789012",
		"looking for Flocker volumes of cluster c0ffee12 (tag flocker-cluster-id=" + uuid + ") in eu-west-1 of account 123456789012",
		"found 2 Flocker volumes", "vol-0attached (100 GiB gp2 in us-east-1a, in-use, attached to i-0agent", "vol-0free (100 GiB gp2 in us-east-1a, available)",
		"deleted vol-0free", "deleted vol-0attached",
		"in eu-west-1 of account 123456789012: found 2, deleted 2: vol-0",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	if reqs := srv.sts.Requests(); len(reqs) != 1 || reqs[0].Region != "eu-west-1" {
		t.Errorf("STS calls %+v: want one GetCallerIdentity signed for the stack's region", reqs)
	}
}

func TestRunRefusesCredentialsOfAnotherAccount(t *testing.T) {
	srv, connect := seed(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--profile", "other"}, env(pulumiEnv()), &stdout, &stderr, connect)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s", code, stdout.String())
	}
	for _, want := range []string{`credentials from profile "other"`, "belong to account 210987654321 (arn:aws:iam::210987654321:user/someone-else)",
		"the stack's resources are in account 123456789012", "nothing was listed or deleted"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if reqs := srv.ec2.Requests(); len(reqs) != 0 {
		t.Errorf("%d EC2 calls with credentials of the wrong account", len(reqs))
	}
	if len(srv.ec2.VolumeIDs()) != 4 {
		t.Error("volumes were deleted")
	}
}

func TestRunFindingNothingSaysWhereItLooked(t *testing.T) {
	_, connect := seed(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), nil, env(pulumiEnv("MHA_VOLUME_DRIVER", "rexray", "MHA_VOLUME_NAME", "c0ffee12-moby-counter")), &stdout, &stderr, connect)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"the stack's account 123456789012", "no REX-Ray volumes of cluster c0ffee12 (tag Name=c0ffee12-moby-counter) found: nothing to delete",
		"in eu-west-1 of account 123456789012: found 0, deleted 0: none"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
}

// A clean-up recorded before the account check has no MHA_ACCOUNT_ID. At
// `pulumi destroy` its agents are gone and it deletes as before; when Pulumi
// replaces it on a live cluster (once, as its selector moves into its
// triggers), it finds the cluster's agents alive and deletes nothing.
func TestRunWithoutAccount(t *testing.T) {
	t.Run("destroy: no live agent", func(t *testing.T) {
		srv, connect := seed(t)
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"--poll", "2ms"}, env(pulumiEnv("MHA_ACCOUNT_ID", "")), &stdout, &stderr, connect)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if !strings.Contains(stdout.String(), "WARNING: no stack account given") || !strings.Contains(stdout.String(), "eu-west-1 of account 123456789012 cannot be confirmed") {
			t.Errorf("no warning:\n%s", stdout.String())
		}
		if got := srv.ec2.VolumeIDs(); !slices.Equal(got, []string{"vol-0other", "vol-0untagged"}) {
			t.Errorf("volumes left %v", got)
		}
	})
	t.Run("replacement on a live cluster", func(t *testing.T) {
		srv, connect := seed(t)
		agentTags := map[string]string{facts.TagClusterID: "c0ffee12", facts.TagRole: facts.RoleAgent}
		srv.ec2.AddInstance(ec2test.Instance{ID: "i-0live", Tags: agentTags})
		srv.ec2.AddVolume(ec2test.Volume{ID: "vol-0inuse", AttachedTo: "i-0live", Tags: map[string]string{facts.TagFlockerClusterID: uuid}})
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"--poll", "2ms"}, env(pulumiEnv("MHA_ACCOUNT_ID", "")), &stdout, &stderr, connect)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if n := len(srv.ec2.Calls("DeleteVolume")); n != 0 {
			t.Errorf("%d DeleteVolume calls on a live cluster", n)
		}
		for _, want := range []string{"cluster c0ffee12 still has 1 live agents (i-0live running)", "deleting nothing",
			"found 3, deleted 0", "left in place: vol-0free (100 GiB gp2 in us-east-1a, available)", "left in place: vol-0inuse"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
			}
		}
	})
}

func TestRunFailsListingAttachedVolumes(t *testing.T) {
	srv, connect := seed(t)
	srv.ec2.AddInstance(ec2test.Instance{ID: "i-0alive"})
	srv.ec2.AddVolume(ec2test.Volume{ID: "vol-0stuck", AttachedTo: "i-0alive", Tags: map[string]string{facts.TagFlockerClusterID: uuid}})
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--region", "eu-west-1", "--account-id", stackAccount, "--cluster-id", "c0ffee12", "--driver", "flocker",
		"--flocker-cluster-uuid", uuid, "--wait", "50ms", "--poll", "5ms"}, env(nil), &stdout, &stderr, connect)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s", code, stdout.String())
	}
	for _, want := range []string{"cleanup-volumes: ", "vol-0stuck", "still attached", "i-0alive"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if _, ok := srv.ec2.Volume("vol-0stuck"); !ok {
		t.Error("the attached volume was deleted")
	}
}

func TestRunDryRun(t *testing.T) {
	srv, connect := seed(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--dry-run", "--flocker-cluster-uuid", uuid},
		env(map[string]string{"AWS_REGION": "eu-west-1", "MHA_ACCOUNT_ID": stackAccount, "MHA_CLUSTER_ID": "c0ffee12", "MHA_VOLUME_DRIVER": "flocker"}),
		&stdout, &stderr, connect)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if n := len(srv.ec2.Calls("DeleteVolume")); n != 0 {
		t.Errorf("dry run made %d DeleteVolume calls", n)
	}
	if !strings.Contains(stdout.String(), "would delete vol-0free") || !strings.Contains(stdout.String(), "dry run in eu-west-1 of account 123456789012: found 2, would delete 1 (vol-0free), 1 attached") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}

func TestRunRefusesBadInputWithoutCallingAWS(t *testing.T) {
	tests := map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"nothing":            {want: "missing --region (or MHA_REGION), --cluster-id (or MHA_CLUSTER_ID), --volume-driver (or MHA_VOLUME_DRIVER)"},
		"flocker no uuid":    {args: []string{"--region", "eu-west-1", "--cluster-id", "c0ffee12", "--driver", "flocker"}, want: "Flocker cluster UUID"},
		"rexray other name":  {args: []string{"--region", "eu-west-1", "--cluster-id", "c0ffee12", "--driver", "rexray", "--volume-name", "data"}, want: "does not contain the cluster id"},
		"bad wait":           {args: []string{"--region", "r", "--cluster-id", "c", "--driver", "flocker"}, env: map[string]string{"MHA_WAIT": "ten"}, want: "MHA_WAIT"},
		"stray argument":     {args: []string{"--region", "r", "extra"}, want: `unexpected argument "extra"`},
		"flag beats the env": {args: []string{"--driver", "rexray"}, env: map[string]string{"MHA_REGION": "r", "MHA_CLUSTER_ID": "c0ffee12", "MHA_VOLUME_DRIVER": "flocker", "MHA_FLOCKER_CLUSTER_UUID": uuid}, want: "driver rexray needs the Docker volume name"},
		"bad account":        {args: []string{"--region", "r", "--cluster-id", "c0ffee12", "--driver", "flocker", "--flocker-cluster-uuid", uuid}, env: map[string]string{"MHA_ACCOUNT_ID": "1234"}, want: `--account-id "1234" is not a 12-digit AWS account id`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			called := false
			connect := func(context.Context, string, string) (ec2ops.EC2API, ec2ops.STSAPI, error) {
				called = true
				return nil, nil, nil
			}
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, env(tc.env), &stdout, &stderr, connect); code != 2 {
				t.Errorf("exit %d, want 2 (bad usage)", code)
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
	for _, v := range []string{"MHA_REGION", "MHA_ACCOUNT_ID", "MHA_AWS_PROFILE", "MHA_CLUSTER_ID", "MHA_VOLUME_DRIVER", "MHA_FLOCKER_CLUSTER_UUID", "MHA_VOLUME_NAME", "MHA_WAIT", "AWS_ENDPOINT_URL_STS", facts.VolumeCleanupWait.String()} {
		if !strings.Contains(stderr.String(), v) {
			t.Errorf("usage does not mention %s", v)
		}
	}
}

// TestRealSDKUsesTheStacksProfile runs the production connect path, the
// SDK's own configuration loading, in a shell whose AWS settings are not the
// stack's: its keys (AWS_ACCESS_KEY_ID) are another account's and its
// AWS_REGION another region. With the stack's aws:profile, as `pulumi
// destroy` passes it (MHA_AWS_PROFILE, and AWS_PROFILE in the command's
// environment), the profile's keys win over the shell's and the calls are
// signed for the stack's region; without it, the shell's keys are used and
// refused before any EC2 call.
func TestRealSDKUsesTheStacksProfile(t *testing.T) {
	dir := t.TempDir()
	credentials := filepath.Join(dir, "credentials")
	if err := os.WriteFile(credentials, []byte("[stack]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(dir, "config")
	if err := os.WriteFile(configFile, []byte("[profile stack]\nregion = us-west-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shell := func(t *testing.T, srv standIns, profile string) {
		for k, v := range map[string]string{
			"AWS_ENDPOINT_URL_EC2": srv.ec2.URL, "AWS_ENDPOINT_URL_STS": srv.sts.URL, "AWS_ENDPOINT_URL": "",
			"AWS_ACCESS_KEY_ID": otherCreds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": otherCreds.SecretAccessKey, "AWS_SESSION_TOKEN": "",
			"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": profile, "AWS_DEFAULT_PROFILE": "",
			"AWS_CONFIG_FILE": configFile, "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_EC2_METADATA_DISABLED": "true",
		} {
			t.Setenv(k, v)
		}
	}
	t.Run("stack profile", func(t *testing.T) {
		srv, _ := seed(t)
		srv.clock.start() // the production connect path lists the volumes without seed's API
		shell(t, srv, "stack")
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"--poll", "2ms"}, env(pulumiEnv("MHA_AWS_PROFILE", "stack")), &stdout, &stderr, ec2ops.ConnectAs)
		if code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		}
		if got := srv.ec2.VolumeIDs(); !slices.Equal(got, []string{"vol-0other", "vol-0untagged"}) {
			t.Errorf("volumes left %v", got)
		}
		if !strings.Contains(stdout.String(), `credentials from profile "stack"`) {
			t.Errorf("stdout:\n%s", stdout.String())
		}
		for _, r := range append(srv.ec2.Requests(), ec2test.Request{Action: "GetCallerIdentity", AccessKeyID: srv.sts.Requests()[0].AccessKeyID, Region: srv.sts.Requests()[0].Region}) {
			if r.AccessKeyID != "AKIDEXAMPLE" || r.Region != "eu-west-1" {
				t.Errorf("%s signed by %s for %s: want the profile's key for the stack's region eu-west-1", r.Action, r.AccessKeyID, r.Region)
			}
		}
	})
	t.Run("shell credentials of another account", func(t *testing.T) {
		srv, _ := seed(t)
		shell(t, srv, "")
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), nil, env(pulumiEnv()), &stdout, &stderr, ec2ops.ConnectAs)
		if code != 1 || !strings.Contains(stderr.String(), "belong to account 210987654321") {
			t.Fatalf("exit %d, want 1 naming the other account\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		}
		if n := len(srv.ec2.Requests()); n != 0 {
			t.Errorf("%d EC2 calls in the wrong account", n)
		}
	})
}
