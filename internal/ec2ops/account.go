package ec2ops

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AccountSettings are the account settings the Pulumi program reads with
// aws-sdk-go-v2 itself, because no data source of pulumi-aws v6.83.4
// answers them (components/preflight_imds.go). Its credentials are the
// SDK's, which may not be the provider's: Account says whose they are.
type AccountSettings interface {
	// Account is the account the credentials belong to.
	Account(ctx context.Context) (string, error)
	// InstanceMetadataDefaults are the account's default instance
	// metadata options in the region.
	InstanceMetadataDefaults(ctx context.Context) (IMDSDefaults, error)
}

// sdkAccount is AccountSettings over the EC2 and STS APIs.
type sdkAccount struct {
	ec2 IMDSDefaultsAPI
	sts STSAPI
	// profile names the profile in a credential error's fix.
	profile string
	err     error // the configuration could not be loaded: every read fails with it
}

// ConnectAccountSettings returns the AccountSettings of region with the
// credentials the Pulumi AWS provider takes from aws:profile (profile ""
// is the SDK's default chain, as for a stack without it): see ConnectAs.
// It calls nothing; a configuration that cannot be loaded (a profile that
// does not exist) makes every read fail with that error, so the caller
// decides what a failed read means.
func ConnectAccountSettings(ctx context.Context, region, profile string) AccountSettings {
	cfg, err := loadConfigAs(ctx, region, profile, programProfile)
	if err != nil {
		return &sdkAccount{err: err}
	}
	return &sdkAccount{ec2: ec2.NewFromConfig(cfg), sts: sts.NewFromConfig(cfg), profile: profile}
}

func (a *sdkAccount) Account(ctx context.Context) (string, error) {
	if a.err != nil {
		return "", a.err
	}
	id, err := checkCredentials(ctx, a.sts, a.profile, programProfile)
	return id.Account, err
}

func (a *sdkAccount) InstanceMetadataDefaults(ctx context.Context) (IMDSDefaults, error) {
	if a.err != nil {
		return IMDSDefaults{}, a.err
	}
	return InstanceMetadataDefaults(ctx, a.ec2)
}

type accountSettingsKey struct{}

// WithAccountSettings returns ctx carrying a, and AccountSettingsFrom the
// AccountSettings ctx carries. This is how a test run of the program
// (pulumimock.Run) hands it the mocks' account: pulumi.Run makes the
// pulumi.Context itself and takes no Go context, so a real run carries
// none and the program connects (main.go).
func WithAccountSettings(ctx context.Context, a AccountSettings) context.Context {
	return context.WithValue(ctx, accountSettingsKey{}, a)
}

// AccountSettingsFrom returns the AccountSettings ctx carries, if any.
func AccountSettingsFrom(ctx context.Context) (AccountSettings, bool) {
	a, ok := ctx.Value(accountSettingsKey{}).(AccountSettings)
	return a, ok && a != nil
}
