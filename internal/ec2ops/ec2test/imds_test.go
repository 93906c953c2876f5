package ec2test_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
)

// The SDK reads the stand-in's answer into every field of
// InstanceMetadataDefaultsResponse: the element names are the API's.
func TestGetInstanceMetadataDefaultsThroughSDK(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client()

	out, err := c.GetInstanceMetadataDefaults(ctx, &ec2.GetInstanceMetadataDefaultsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.AccountLevel == nil || *out.AccountLevel != (types.InstanceMetadataDefaultsResponse{}) {
		t.Errorf("an account with no settings: %+v, want an empty accountLevel", out.AccountLevel)
	}

	srv.SetInstanceMetadataDefaults(ec2test.MetadataDefaults{HttpTokens: "required", HttpEndpoint: "enabled", HttpTokensEnforced: "enabled",
		InstanceMetadataTags: "disabled", HopLimit: 2, ManagedBy: "declarative-policy", ManagedExceptionMessage: "IMDSv2 only; ask cloud-platform"})
	out, err = c.GetInstanceMetadataDefaults(ctx, &ec2.GetInstanceMetadataDefaultsInput{})
	if err != nil {
		t.Fatal(err)
	}
	a := out.AccountLevel
	if a == nil || a.HttpTokens != types.HttpTokensStateRequired || a.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled ||
		a.HttpTokensEnforced != types.HttpTokensEnforcedStateEnabled || a.InstanceMetadataTags != types.InstanceMetadataTagsStateDisabled ||
		aws.ToInt32(a.HttpPutResponseHopLimit) != 2 || a.ManagedBy != types.ManagedByDeclarativePolicy ||
		aws.ToString(a.ManagedExceptionMessage) != "IMDSv2 only; ask cloud-platform" {
		t.Errorf("accountLevel %+v", a)
	}

	if _, err := c.GetInstanceMetadataDefaults(ctx, &ec2.GetInstanceMetadataDefaultsInput{DryRun: aws.Bool(true)}); apiCode(t, err) != "DryRunOperation" {
		t.Errorf("DryRun: %v", err)
	}
	_, err = c.GetInstanceMetadataDefaults(ctx, &ec2.GetInstanceMetadataDefaultsInput{}, func(o *ec2.Options) {
		o.APIOptions = append(o.APIOptions, addFormParam("HttpTokens", "optional"))
	})
	if apiCode(t, err) != "UnknownParameter" {
		t.Errorf("a Modify parameter sent to Get: %v", err)
	}
	srv.Fail("GetInstanceMetadataDefaults", 1, 403, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	if _, err := c.GetInstanceMetadataDefaults(ctx, nil); apiCode(t, err) != "UnauthorizedOperation" {
		t.Errorf("denied: %v", err)
	}
}

func TestSetInstanceMetadataDefaultsRefusesWhatEC2Does(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	for name, d := range map[string]ec2test.MetadataDefaults{
		"tokens":    {HttpTokens: "no-preference"}, // a Modify value, never answered by Get
		"enforced":  {HttpTokensEnforced: "true"},
		"hop limit": {HopLimit: 65},
		"managed":   {ManagedBy: "organization"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v accepted", d)
				}
			}()
			srv.SetInstanceMetadataDefaults(d)
		})
	}
}
