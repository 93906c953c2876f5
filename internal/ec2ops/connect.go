package ec2ops

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// APICallTimeout bounds one HTTP exchange with EC2: the calls the tools
// make answer in well under a second, so 30 s only cuts off a hung
// connection, which the SDK then retries.
const APICallTimeout = 30 * time.Second

// Connect returns the EC2 API of region with the SDK's default
// configuration: credentials from its usual chain (AWS_PROFILE,
// AWS_ACCESS_KEY_ID, an instance role, ...) and AWS_ENDPOINT_URL_EC2 if set,
// which is how the tools' tests point it at ec2test.
func Connect(ctx context.Context, region string) (EC2API, error) {
	cfg, err := loadConfig(ctx, region, "")
	if err != nil {
		return nil, err
	}
	return ec2.NewFromConfig(cfg), nil
}

// ConnectAs returns the EC2 and STS APIs of region with the credentials of
// the shared-config profile (when not ""), as the Pulumi AWS provider gets
// them for a stack with aws:profile set: the profile is passed to the SDK
// programmatically, so it wins over AWS_ACCESS_KEY_ID in the environment
// (aws-sdk-go-v2 config v1.33.18 resolve_credentials.go,
// resolveCredentialChain: a profile set in code comes before the
// environment's keys; AWS_PROFILE from the environment does not), as in the
// provider (hashicorp/aws-sdk-go-base aws_config.go, GetAwsConfig:
// config.WithSharedConfigProfile(c.Profile)). With profile "" it is the
// SDK's default chain, as for a stack without aws:profile.
// AWS_ENDPOINT_URL_EC2 and AWS_ENDPOINT_URL_STS point the clients at
// ec2test and ststest in tests.
func ConnectAs(ctx context.Context, region, profile string) (EC2API, STSAPI, error) {
	cfg, err := loadConfig(ctx, region, profile)
	if err != nil {
		return nil, nil, err
	}
	return ec2.NewFromConfig(cfg), sts.NewFromConfig(cfg), nil
}

// ConnectSTS returns the STS API of region with the credentials of
// profile, as ConnectAs: for the credential check every AWS-using tool
// makes before its work (CheckCredentials).
func ConnectSTS(ctx context.Context, region, profile string) (STSAPI, error) {
	cfg, err := LoadConfig(ctx, region, profile)
	if err != nil {
		return nil, err
	}
	return sts.NewFromConfig(cfg), nil
}

// Whoami checks the credentials of profile in region once (ConnectSTS,
// CheckCredentials): the tools call it before their work.
func Whoami(ctx context.Context, region, profile string) (Identity, error) {
	api, err := ConnectSTS(ctx, region, profile)
	if err != nil {
		return Identity{}, err
	}
	return CheckCredentials(ctx, api, profile)
}

// LoadConfig is the AWS configuration every tool uses: the region, the
// profile (when not ""), a bounded HTTP client, and no SDK log lines on
// stderr. The SDK's default logger writes its warnings there (config
// v1.33.18 resolve.go: logging.NewStandardLogger(os.Stderr)), such as the
// instance-metadata client's "falling back to IMDSv1" when the credential
// chain finds nothing (feature/ec2/imds v1.20.9 token_provider.go); the
// credential check names that case itself (CheckCredentials).
func LoadConfig(ctx context.Context, region, profile string) (aws.Config, error) {
	return loadConfig(ctx, region, profile)
}

func loadConfig(ctx context.Context, region, profile string) (aws.Config, error) {
	return loadConfigAs(ctx, region, profile, toolsProfile)
}

// loadConfigAs is loadConfig whose credential errors name setting as the
// way to choose a profile.
func loadConfigAs(ctx context.Context, region, profile string, setting profileSetting) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(APICallTimeout)),
		config.WithLogger(logging.Nop{}), config.WithClientLogMode(0), config.WithLogConfigurationWarnings(false)}
	where := "AWS_PROFILE and ~/.aws/config"
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
		where = fmt.Sprintf("profile %q in ~/.aws/config and ~/.aws/credentials (the stack's aws:profile)", profile)
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if ce := credentialError(err, profile, setting); ce != nil {
		return aws.Config{}, ce
	}
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading the AWS configuration for region %s: %w; check %s", region, err, where)
	}
	return cfg, nil
}
