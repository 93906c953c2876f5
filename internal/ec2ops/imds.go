package ec2ops

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// IMDSDefaultsAPI is the part of *ec2.Client InstanceMetadataDefaults uses.
type IMDSDefaultsAPI interface {
	GetInstanceMetadataDefaults(ctx context.Context, in *ec2.GetInstanceMetadataDefaultsInput, optFns ...func(*ec2.Options)) (*ec2.GetInstanceMetadataDefaultsOutput, error)
}

// IMDSDefaults are an account's default instance metadata options in one
// region (EC2 API reference, InstanceMetadataDefaultsResponse). "" (0 for
// HopLimit) is no preference: a setting the account never made.
type IMDSDefaults struct {
	HTTPTokens         string // optional | required
	HTTPEndpoint       string // enabled | disabled
	HTTPTokensEnforced string // enabled | disabled
	HopLimit           int32
	// ManagedBy is "account", or "declarative-policy" when an AWS
	// Organizations declarative policy sets the defaults and the account
	// cannot change them; ManagedExceptionMessage is that policy's message.
	ManagedBy               string
	ManagedExceptionMessage string
}

// ManagedByPolicy is IMDSDefaults.ManagedBy for defaults a declarative
// policy sets (aws-sdk-go-v2 service/ec2 v1.344.2 types.ManagedByDeclarativePolicy).
const ManagedByPolicy = "declarative-policy"

// Enforced reports whether the account refuses to launch an instance
// whose HttpTokens is not required: "When enforcement is enabled, the
// instance can't launch unless IMDSv2 (HttpTokens) is set to required"
// (types.InstanceMetadataDefaultsResponse.HttpTokensEnforced).
func (d IMDSDefaults) Enforced() bool { return d.HTTPTokensEnforced == "enabled" }

// InstanceMetadataDefaults reads the account's default instance metadata
// options in the client's region (ec2:GetInstanceMetadataDefaults). An
// answer without accountLevel, or with an empty one, is an account with no
// settings (terraform-provider-aws ec2_instance_metadata_defaults.go reads
// both so).
func InstanceMetadataDefaults(ctx context.Context, api IMDSDefaultsAPI) (IMDSDefaults, error) {
	out, err := api.GetInstanceMetadataDefaults(ctx, &ec2.GetInstanceMetadataDefaultsInput{})
	if err != nil {
		return IMDSDefaults{}, callError("GetInstanceMetadataDefaults", "reading the account's default instance metadata options", err)
	}
	a := out.AccountLevel
	if a == nil {
		return IMDSDefaults{}, nil
	}
	return IMDSDefaults{HTTPTokens: string(a.HttpTokens), HTTPEndpoint: string(a.HttpEndpoint), HTTPTokensEnforced: string(a.HttpTokensEnforced),
		HopLimit: aws.ToInt32(a.HttpPutResponseHopLimit), ManagedBy: string(a.ManagedBy), ManagedExceptionMessage: aws.ToString(a.ManagedExceptionMessage)}, nil
}
