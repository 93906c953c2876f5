package ec2ops_test

import (
	"context"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ststest"
)

func TestInstanceMetadataDefaults(t *testing.T) {
	srv := ec2test.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()

	d, err := ec2ops.InstanceMetadataDefaults(ctx, srv.Client())
	if err != nil || d != (ec2ops.IMDSDefaults{}) || d.Enforced() {
		t.Errorf("an account with no settings: %+v, %v; want no preference", d, err)
	}

	srv.SetInstanceMetadataDefaults(ec2test.MetadataDefaults{HttpTokens: "required", HttpTokensEnforced: "enabled", HopLimit: 1,
		ManagedBy: "declarative-policy", ManagedExceptionMessage: "IMDSv1 is off in this organization"})
	d, err = ec2ops.InstanceMetadataDefaults(ctx, srv.Client())
	want := ec2ops.IMDSDefaults{HTTPTokens: "required", HTTPTokensEnforced: "enabled", HopLimit: 1,
		ManagedBy: ec2ops.ManagedByPolicy, ManagedExceptionMessage: "IMDSv1 is off in this organization"}
	if err != nil || d != want || !d.Enforced() {
		t.Errorf("enforced by a policy: %+v, %v; want %+v", d, err, want)
	}

	srv.SetInstanceMetadataDefaults(ec2test.MetadataDefaults{HttpTokens: "required", HttpTokensEnforced: "disabled", ManagedBy: "account"})
	if d, err := ec2ops.InstanceMetadataDefaults(ctx, srv.Client()); err != nil || d.Enforced() || d.HTTPTokens != "required" {
		t.Errorf("required, not enforced: %+v, %v", d, err)
	}

	srv.Fail("GetInstanceMetadataDefaults", 1, 403, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	_, err = ec2ops.InstanceMetadataDefaults(ctx, srv.Client())
	for _, w := range []string{"UnauthorizedOperation", "may not call ec2:GetInstanceMetadataDefaults", "aws ec2 get-instance-metadata-defaults"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("denied: %v, want %q in it", err, w)
		}
	}
}

// The program's reader: the SDK's credentials from the environment (as
// for a stack without aws:profile), EC2 and STS at the stand-ins.
func TestConnectAccountSettings(t *testing.T) {
	id := ststest.Identity{AccessKeyID: "AKIDPROGRAM", SecretAccessKey: "s1", Account: "210987654321"}
	sts := ststest.NewServer(id)
	t.Cleanup(sts.Close)
	isolateAWS(t, sts)
	ec2srv := ec2test.NewServer()
	t.Cleanup(ec2srv.Close)
	ec2srv.SetInstanceMetadataDefaults(ec2test.MetadataDefaults{HttpTokensEnforced: "enabled", ManagedBy: "account"})
	t.Setenv("AWS_ENDPOINT_URL_EC2", ec2srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", id.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", id.SecretAccessKey)
	ctx := context.Background()

	a := ec2ops.ConnectAccountSettings(ctx, "eu-west-1", "")
	if acct, err := a.Account(ctx); err != nil || acct != "210987654321" {
		t.Errorf("account %q, %v", acct, err)
	}
	if d, err := a.InstanceMetadataDefaults(ctx); err != nil || !d.Enforced() {
		t.Errorf("defaults %+v, %v", d, err)
	}
	if calls := ec2srv.Calls("GetInstanceMetadataDefaults"); len(calls) != 1 || calls[0].Region != "eu-west-1" || calls[0].AccessKeyID != "AKIDPROGRAM" {
		t.Errorf("calls %+v: want one, signed for eu-west-1 by the environment's key", calls)
	}

	// A profile that does not exist fails every read, naming it.
	a = ec2ops.ConnectAccountSettings(ctx, "eu-west-1", "nosuch")
	_, err1 := a.Account(ctx)
	_, err2 := a.InstanceMetadataDefaults(ctx)
	for _, err := range []error{err1, err2} {
		if err == nil || !strings.Contains(err.Error(), `profile "nosuch" does not exist`) {
			t.Errorf("missing profile: %v", err)
		}
		// The program is run by pulumi, which takes no --aws-profile: the
		// fix names the stack's key.
		if err == nil || !strings.Contains(err.Error(), "aws:profile") || strings.Contains(err.Error(), "--aws-profile") {
			t.Errorf("missing profile: %v, want the fix to name aws:profile, not the tools' flag", err)
		}
	}
}

// Expired credentials: the program's error names aws:profile, the tools'
// their flag.
func TestAccountSettingsCredentialFixNamesTheStackKey(t *testing.T) {
	expired := ststest.Identity{AccessKeyID: "ASIAOLD", SecretAccessKey: "s", SessionToken: "tok", Account: "210987654321", Expired: true}
	sts := ststest.NewServer(expired)
	t.Cleanup(sts.Close)
	isolateAWS(t, sts)
	t.Setenv("AWS_ACCESS_KEY_ID", expired.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", expired.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", expired.SessionToken)
	ctx := context.Background()
	_, err := ec2ops.ConnectAccountSettings(ctx, "eu-west-1", "").Account(ctx)
	if err == nil || !strings.Contains(err.Error(), "have expired") || !strings.Contains(err.Error(), "AWS_PROFILE or aws:profile") || strings.Contains(err.Error(), "--aws-profile") {
		t.Errorf("program: %v, want expired credentials and aws:profile, not --aws-profile", err)
	}
	_, err = ec2ops.Whoami(ctx, "eu-west-1", "")
	if err == nil || !strings.Contains(err.Error(), "AWS_PROFILE or --aws-profile") {
		t.Errorf("tools: %v, want their flag named", err)
	}
}

func TestAccountSettingsContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := ec2ops.AccountSettingsFrom(ctx); ok {
		t.Error("a bare context carries account settings")
	}
	a := ec2ops.ConnectAccountSettings(ctx, "us-east-1", "nosuch-either")
	if got, ok := ec2ops.AccountSettingsFrom(ec2ops.WithAccountSettings(ctx, a)); !ok || got != a {
		t.Errorf("carried %v, %v", got, ok)
	}
	if _, ok := ec2ops.AccountSettingsFrom(ec2ops.WithAccountSettings(ctx, nil)); ok {
		t.Error("a nil AccountSettings is carried as one")
	}
}
