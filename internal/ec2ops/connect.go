package ec2ops

import (
	"context"
	"fmt"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
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
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(APICallTimeout)))
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration for region %s: %w; check AWS_PROFILE and ~/.aws/config", region, err)
	}
	return ec2.NewFromConfig(cfg), nil
}
