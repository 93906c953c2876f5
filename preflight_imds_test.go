package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/components"
	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

// imdsWarnings are the run's warnings from the IMDS check.
func imdsWarnings(res *pulumimock.Result) []string {
	var out []string
	for _, w := range res.Warnings {
		if strings.HasPrefix(w, "preflight IMDS") {
			out = append(out, w)
		}
	}
	return out
}

// previewIMDS runs a preview under m with driver and wants it accepted; it
// returns the IMDS check's warnings.
func previewIMDS(t *testing.T, m *pulumimock.Mocks, driver string) []string {
	t.Helper()
	res, err := pulumimock.Run(program, m, "dev", baseConfig("volumeDriver", driver), true)
	if err != nil {
		t.Fatalf("preview refused: %v", err)
	}
	if len(res.OfType(tInstance))+len(res.OfType("aws:ec2/launchTemplate:LaunchTemplate")) == 0 {
		t.Fatal("no node registered: the preview stopped short")
	}
	return imdsWarnings(res)
}

func TestPreflightIMDSEnforced(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver+", by the account", func(t *testing.T) {
			m := pulumimock.NewMocks()
			m.Account.IMDS.Defaults = ec2ops.IMDSDefaults{HTTPTokens: "required", HTTPTokensEnforced: "enabled", ManagedBy: "account"}
			preflightRefusal(t, m, baseConfig("volumeDriver", driver), "preflight IMDS: account 123456789012 enforces IMDSv2 at launch in us-east-1",
				"set by the account", "REX-Ray 0.11.4 vendors aws-sdk-go v1.12.46", "Flocker 1.15 reads metadata with boto 2",
				"`aws ec2 modify-instance-metadata-defaults --region us-east-1 --http-tokens-enforced disabled`", "docs/preflight.md")
		})
		t.Run(driver+", by a declarative policy", func(t *testing.T) {
			m := pulumimock.NewMocks()
			m.Account.IMDS.Defaults = ec2ops.IMDSDefaults{HTTPTokens: "required", HTTPTokensEnforced: "enabled", ManagedBy: ec2ops.ManagedByPolicy,
				ManagedExceptionMessage: "IMDSv1 is banned here; see go/imds"}
			preflightRefusal(t, m, baseConfig("volumeDriver", driver), "preflight IMDS", "a declarative policy of the account's organization",
				`"IMDSv1 is banned here; see go/imds"`, "the account cannot change this", "another account or region", "IMDSv1 only")
			_, err := pulumimock.Run(program, m, "dev", baseConfig("volumeDriver", driver), true)
			if err != nil && strings.Contains(err.Error(), "modify-instance-metadata-defaults") {
				t.Errorf("a fix the account cannot apply is named: %v", err)
			}
		})
	}
}

// Defaults that are not enforced are overridden by the agents' own
// options, and pass without a word.
func TestPreflightIMDSNotEnforced(t *testing.T) {
	for name, d := range map[string]ec2ops.IMDSDefaults{
		"no settings":                    {},
		"tokens required, not enforced":  {HTTPTokens: "required", HTTPTokensEnforced: "disabled", ManagedBy: "account"},
		"endpoint disabled, hop limit 2": {HTTPEndpoint: "disabled", HopLimit: 2, ManagedBy: "account"},
		"a policy that does not enforce": {HTTPTokens: "required", ManagedBy: ec2ops.ManagedByPolicy},
	} {
		for _, driver := range facts.VolumeDrivers {
			t.Run(name+", "+driver, func(t *testing.T) {
				m := pulumimock.NewMocks()
				m.Account.IMDS.Defaults = d
				if w := previewIMDS(t, m, driver); len(w) != 0 {
					t.Errorf("warnings %q", w)
				}
			})
		}
	}
}

// When the defaults cannot be read, or the SDK reads another account's,
// the preview goes on with a warning that says what to check by hand, and
// nothing the SDK said about another account is judged.
func TestPreflightIMDSNotChecked(t *testing.T) {
	denied := errors.New("reading the account's default instance metadata options: api error UnauthorizedOperation: You are not authorized to perform this operation.")
	cases := []struct {
		name string
		set  func(*pulumimock.AccountIMDS)
		want []string
	}{
		{"the read is denied", func(a *pulumimock.AccountIMDS) { a.ReadErr = denied }, []string{"UnauthorizedOperation"}},
		{"no SDK credentials", func(a *pulumimock.AccountIMDS) { a.AccountErr = errors.New("no AWS credentials found") },
			[]string{"the AWS SDK's own credentials failed: no AWS credentials found"}},
		{"the SDK's credentials are another account's", func(a *pulumimock.AccountIMDS) {
			a.SDKAccount = "210987654321"
			a.Defaults = ec2ops.IMDSDefaults{HTTPTokensEnforced: "enabled"} // that other account's, not the stack's
		}, []string{"belong to account 210987654321, the provider's (aws:accessKey, aws:assumeRole, ...) to 123456789012"}},
	}
	for _, tc := range cases {
		for _, driver := range facts.VolumeDrivers {
			t.Run(tc.name+", "+driver, func(t *testing.T) {
				m := pulumimock.NewMocks()
				tc.set(&m.Account.IMDS)
				w := previewIMDS(t, m, driver)
				if len(w) != 1 {
					t.Fatalf("IMDS warnings %q, want one", w)
				}
				want := append(tc.want, "preflight IMDS: not checked: ", "`aws ec2 get-instance-metadata-defaults --region us-east-1` must not show HttpTokensEnforced enabled")
				for _, s := range want {
					if !strings.Contains(w[0], s) {
						t.Errorf("warning %q lacks %q", w[0], s)
					}
				}
				if strings.Contains(w[0], "\n") {
					t.Errorf("warning of more than one line: %q", w[0])
				}
			})
		}
	}
}

// A cluster built without the SDK's account is a bug of the caller, not a
// check to skip.
func TestClusterWithoutAccountSettingsFails(t *testing.T) {
	withoutAccount := func(ctx *pulumi.Context) error {
		cfg, err := config.Load(ctx)
		if err != nil {
			return err
		}
		_, err = components.NewCluster(ctx, facts.Project, &components.ClusterArgs{Config: cfg, Stack: ctx.Stack()})
		return err
	}
	_, err := pulumimock.Run(withoutAccount, pulumimock.NewMocks(), "dev", baseConfig(), true)
	if err == nil || !strings.Contains(err.Error(), "ClusterArgs.Account is nil") {
		t.Fatalf("ran without the account's settings: %v", err)
	}
}
