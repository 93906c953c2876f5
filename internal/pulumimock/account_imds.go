package pulumimock

import (
	"context"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
)

// AccountIMDS is what the program reads about the account with
// aws-sdk-go-v2 itself rather than through the provider
// (ec2ops.AccountSettings; components/preflight_imds.go). Run hands it to
// the program in the run's Go context (ec2ops.WithAccountSettings). The
// zero value is an account with no IMDS settings, reached with the
// provider's own credentials.
type AccountIMDS struct {
	// Defaults are GetInstanceMetadataDefaults' answer in mockRegion.
	Defaults ec2ops.IMDSDefaults
	// SDKAccount is the account the program's SDK credentials belong to,
	// "" for the provider's (mockAccount): a stack whose provider
	// credentials come from aws:accessKey or aws:assumeRole while the
	// environment's are another account's.
	SDKAccount string
	// AccountErr fails STS GetCallerIdentity and ReadErr
	// GetInstanceMetadataDefaults, as missing credentials or a denied
	// ec2:GetInstanceMetadataDefaults would.
	AccountErr, ReadErr error
}

// sdkAccount is the mocks' account as ec2ops.AccountSettings.
type sdkAccount struct{ m *Mocks }

func (a sdkAccount) Account(context.Context) (string, error) {
	s := a.m.Account.IMDS
	if s.AccountErr != nil {
		return "", s.AccountErr
	}
	if s.SDKAccount == "" {
		return mockAccount, nil
	}
	return s.SDKAccount, nil
}

func (a sdkAccount) InstanceMetadataDefaults(context.Context) (ec2ops.IMDSDefaults, error) {
	s := a.m.Account.IMDS
	return s.Defaults, s.ReadErr
}
