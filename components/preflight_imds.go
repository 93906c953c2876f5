package components

import (
	"context"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
)

// The agents launch with httpTokens optional (metadataOptions): both volume
// drivers read instance metadata with IMDSv1 only. An account whose
// default instance metadata options enforce IMDSv2 refuses that launch
// ("When enforcement is enabled, the instance can't launch unless IMDSv2
// (HttpTokens) is set to required", EC2 API reference,
// InstanceMetadataDefaultsResponse). pulumi-aws v6.83.4 has no data source
// for these defaults (ec2.InstanceMetadataDefaults is a resource that sets
// them), so the program reads them with aws-sdk-go-v2 itself
// (ec2ops.AccountSettings). The account's other defaults do not matter:
// the options set at launch (endpoint enabled, tokens, hop limit) take
// precedence over them (EC2 User Guide, "Order of precedence for instance
// metadata options").

// imdsDriversNeed is why the agents need IMDSv1, for the refusal.
const imdsDriversNeed = "both volume drivers read instance metadata with IMDSv1 only (REX-Ray 0.11.4 vendors aws-sdk-go v1.12.46, older than its IMDSv2 support in v1.25.38; Flocker 1.15 reads metadata with boto 2's get_instance_metadata and its credentials through boto3's botocore of 2016, flocker/node/agents/ebs.py at 1.15.0), so the agents launch with httpTokens optional"

// sdkAccount is what the IMDS check reads with: the program's own SDK
// reads, and the account the provider's credentials reach
// (aws.GetCallerIdentity of the look-ups), which the SDK's credentials
// may not: aws:accessKey or aws:assumeRole reach the provider only.
type sdkAccount struct {
	settings        ec2ops.AccountSettings
	providerAccount string
}

// imdsEnforcement refuses an account and region that enforce IMDSv2. When
// the defaults cannot be read, or the SDK's credentials are another
// account's than the provider's, it says so in a warning and lets the
// preview go on: the SDK's credentials are not the stack's to judge by.
func imdsEnforcement(ctx *pulumi.Context, cfg config.Config, sdk sdkAccount) error {
	if sdk.settings == nil {
		return errors.New("components: ClusterArgs.Account is nil: the preflight reads the account's instance metadata defaults through it")
	}
	c, cancel := context.WithTimeout(ctx.Context(), ec2ops.APICallTimeout)
	defer cancel()
	yourself := fmt.Sprintf("with the stack's credentials, `aws ec2 get-instance-metadata-defaults --region %s` must not show HttpTokensEnforced enabled (docs/preflight.md)", cfg.Region)
	notChecked := func(why string) error {
		return ctx.Log.Warn(fmt.Sprintf("preflight IMDS: not checked: %s; %s", why, yourself), nil)
	}
	acct, err := sdk.settings.Account(c)
	if err != nil {
		return notChecked(fmt.Sprintf("the AWS SDK's own credentials failed: %v", err))
	}
	if acct != sdk.providerAccount {
		return notChecked(fmt.Sprintf("the AWS SDK's own credentials (environment, aws:profile) belong to account %s, the provider's (aws:accessKey, aws:assumeRole, ...) to %s", acct, sdk.providerAccount))
	}
	d, err := sdk.settings.InstanceMetadataDefaults(c)
	if err != nil {
		return notChecked(err.Error())
	}
	if !d.Enforced() {
		return nil
	}
	by := "the account"
	fix := fmt.Sprintf("turn enforcement off in this region: `aws ec2 modify-instance-metadata-defaults --region %s --http-tokens-enforced disabled` (a default of HttpTokens required may stay: the agents' own option wins), or deploy to another account or region (docs/preflight.md)", cfg.Region)
	if d.ManagedBy == ec2ops.ManagedByPolicy {
		by = "a declarative policy of the account's organization"
		if d.ManagedExceptionMessage != "" {
			by += fmt.Sprintf(", whose message is %q", d.ManagedExceptionMessage)
		}
		fix = "the account cannot change this: the organization's EC2 declarative policy must stop enforcing IMDSv2 for this account or region, or deploy to another account or region (docs/preflight.md)"
	}
	return &PreflightError{Check: "IMDS",
		Found: fmt.Sprintf("account %s enforces IMDSv2 at launch in %s (HttpTokensEnforced enabled, set by %s), and %s: EC2 would refuse to launch them",
			acct, cfg.Region, by, imdsDriversNeed),
		Fix: fix}
}
