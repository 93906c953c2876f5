// Package ec2ops holds the EC2 operations marathon-ha's operator tools
// perform with aws-sdk-go-v2: find the stack's agent by private IP and
// terminate it (kill-node, the rehearsal), and delete the EBS volumes the
// volume driver created at run time (cleanup-volumes, run by `pulumi
// destroy`). Every operation is scoped by the tags the program puts on its
// resources (facts.TagStack, facts.TagClusterID, facts.TagRole) or by the
// tags the volume driver puts on its volumes; nothing outside that scope is
// ever terminated or deleted.
package ec2ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
)

// EC2API is the part of *ec2.Client this package uses, so tests can pass a
// client pointed at a stand-in (internal/ec2ops/ec2test) or a fake.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	DeleteVolume(ctx context.Context, in *ec2.DeleteVolumeInput, optFns ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error)
}

// Defaults of the Client's options.
const (
	// DefaultPollInterval is how often WaitState asks for an instance's
	// state: once a second, the sampling rate the failover timeline needs.
	DefaultPollInterval = time.Second
	// DefaultWaitTimeout bounds WaitState when the context has no earlier
	// deadline. A terminating instance normally reaches terminated within a
	// minute or two; ten minutes also covers a slow graceful OS shutdown
	// (EC2 User Guide, "Methods for terminating an instance").
	DefaultWaitTimeout = 10 * time.Minute
)

// Client performs the tools' EC2 operations.
type Client struct {
	api         EC2API
	asg         AutoScalingAPI // nil: no agents' group can be read (group.go)
	poll        time.Duration
	waitTimeout time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithPollInterval sets how often WaitState polls (default DefaultPollInterval).
func WithPollInterval(d time.Duration) Option { return func(c *Client) { c.poll = d } }

// WithWaitTimeout sets WaitState's own bound (default DefaultWaitTimeout).
func WithWaitTimeout(d time.Duration) Option { return func(c *Client) { c.waitTimeout = d } }

// New returns a Client over api, usually an *ec2.Client made with
// ec2.NewFromConfig.
func New(api EC2API, opts ...Option) *Client {
	c := &Client{api: api, poll: DefaultPollInterval, waitTimeout: DefaultWaitTimeout}
	for _, o := range opts {
		o(c)
	}
	return c
}

// callError wraps an error from the EC2 API call named call, made while
// doing what doing says, and appends the fix its error code points to. The
// SDK's own text already carries the HTTP status, the request id and the
// EC2 error code and message.
func callError(call, doing string, err error) error {
	if fix := fixFor(call, err); fix != "" {
		return fmt.Errorf("%s: %w; %s", doing, err, fix)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// errorCode returns the EC2 error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// partitionCalls are the calls only the partition drill makes.
var partitionCalls = []string{"CreateSecurityGroup", "CreateTags", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
	"RevokeSecurityGroupEgress", "ModifyInstanceAttribute", "DeleteSecurityGroup", "DescribeSecurityGroups"}

// fixFor names the remedy for the usual EC2 error codes (EC2 API reference,
// "Error codes for the Amazon EC2 API").
func fixFor(call string, err error) string {
	code := errorCode(err)
	switch {
	case (code == "UnauthorizedOperation" || strings.HasPrefix(code, "AccessDenied")) && call == "GetInstanceMetadataDefaults":
		return "the AWS credentials in use may not call ec2:GetInstanceMetadataDefaults: grant it (docs/operator-iam-policy.json), or check the account's defaults yourself: `aws ec2 get-instance-metadata-defaults`"
	case (code == "UnauthorizedOperation" || strings.HasPrefix(code, "AccessDenied")) && slices.Contains(partitionCalls, call):
		return "the AWS credentials in use may not call ec2:" + call + ": the partition drill needs ec2:" + strings.Join(partitionCalls, ", ec2:") + " besides the describes"
	case code == "UnauthorizedOperation" || strings.HasPrefix(code, "AccessDenied"):
		return "the AWS credentials in use may not call ec2:" + call + ": grant ec2:DescribeInstances, ec2:TerminateInstances, ec2:DescribeVolumes and ec2:DeleteVolume to the user or role running this tool"
	case code == "AuthFailure" || code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch" ||
		code == "ExpiredToken" || code == "RequestExpired":
		return "check the AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID; `aws sts get-caller-identity` shows who you are) and the machine's clock"
	case code == "RequestLimitExceeded" || code == "Throttling":
		return "EC2 is throttling this account's API calls: run the tool again in a minute"
	case code == "InvalidInstanceID.NotFound":
		return "the instance does not exist in this region: check the region, or it was terminated more than about an hour ago"
	case code == "InvalidVolume.NotFound":
		return "the volume does not exist in this region (already deleted, or a wrong region)"
	case code == "VolumeInUse":
		return "the volume is still attached: terminate or stop the instance it is attached to, then run again"
	case code == "":
		var oe *smithy.OperationError
		if errors.As(err, &oe) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			endpoint := "AWS_ENDPOINT_URL_EC2"
			if call == "GetCallerIdentity" {
				endpoint = "AWS_ENDPOINT_URL_STS"
			}
			return "check the network, the region and any " + endpoint + " setting"
		}
	}
	return ""
}
