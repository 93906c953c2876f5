package pulumimock

import (
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Run hands the program the mocks' account through its Go context and
// returns the warnings it logged; RunErr does the first without Run's
// bookkeeping, and only under mocks.
func TestRunHandsTheProgramTheAccount(t *testing.T) {
	m := NewMocks()
	m.Account.IMDS = AccountIMDS{SDKAccount: "210987654321", Defaults: ec2ops.IMDSDefaults{HTTPTokensEnforced: "enabled"}}
	var acct string
	var d ec2ops.IMDSDefaults
	program := func(ctx *pulumi.Context) error {
		a, ok := ec2ops.AccountSettingsFrom(ctx.Context())
		if !ok {
			return errors.New("no account settings in the run's context")
		}
		var err error
		if acct, err = a.Account(ctx.Context()); err != nil {
			return err
		}
		if d, err = a.InstanceMetadataDefaults(ctx.Context()); err != nil {
			return err
		}
		if err := ctx.Log.Warn("first", nil); err != nil {
			return err
		}
		return ctx.Log.Warn("second", nil)
	}
	res, err := Run(program, m, "dev", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if acct != "210987654321" || !d.Enforced() {
		t.Errorf("the program read account %q, defaults %+v", acct, d)
	}
	if strings.Join(res.Warnings, "|") != "first|second" {
		t.Errorf("warnings %q", res.Warnings)
	}

	m.Account.IMDS = AccountIMDS{ReadErr: errors.New("denied")}
	if _, err := Run(program, m, "dev", nil, true); err == nil || !strings.Contains(err.Error(), "denied") {
		t.Errorf("a failing read: %v", err)
	}
	m.Account.IMDS = AccountIMDS{}
	if err := RunErr(program, m, pulumi.WithMocks(facts.Project, "dev", m)); err != nil || acct != mockAccount {
		t.Errorf("RunErr: account %q, %v", acct, err)
	}
	if err := RunErr(program, m); err == nil {
		t.Error("RunErr ran without mocks")
	}
}
