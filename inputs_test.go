package main

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

// TestProviderAcceptsEveryInput runs the program, as a preview and as an
// update, for both volume drivers under mocks that refuse what the AWS
// provider refuses (pulumimock.InputRules): every AWS resource it registers
// must pass the provider's input rules, or a real `pulumi preview` fails.
func TestProviderAcceptsEveryInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stack string
		cfg   map[string]string
	}{
		{"rexray", "dev", baseConfig()},
		{"flocker", "dev", flockerConfig()},
		{"flocker, Flocker API exposed, three agents", "demo", flockerConfig("exposeFlockerApi", "true", "agentCount", "3")},
		{"rexray, 40-character stack name", "a-forty-character-stack-name-for-demo-01", baseConfig()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, preview := range []bool{true, false} {
				res, err := pulumimock.Run(program, pulumimock.NewMocks(), tc.stack, tc.cfg, preview)
				if err != nil {
					t.Fatalf("preview=%v: the AWS provider would refuse the program: %v", preview, err)
				}
				if len(res.OfType(tRule)) == 0 || len(res.OfType(tInstance)) == 0 {
					t.Fatalf("preview=%v: registered %d rules and %d instances", preview, len(res.OfType(tRule)), len(res.OfType(tInstance)))
				}
			}
		})
	}
}

// TestInputValidationIsLive proves the mocks refuse, as the provider does at
// preview, an input outside its rules: a small program with the apostrophe
// that broke every real preview.
func TestInputValidationIsLive(t *testing.T) {
	rule := func(description string) pulumi.RunFunc {
		return func(ctx *pulumi.Context) error {
			_, err := ec2.NewSecurityGroupRule(ctx, "ssh", &ec2.SecurityGroupRuleArgs{
				SecurityGroupId: pulumi.String("sg-0123456789abcdef0"),
				Type:            pulumi.String("ingress"),
				FromPort:        pulumi.Int(22),
				ToPort:          pulumi.Int(22),
				Protocol:        pulumi.String("tcp"),
				CidrBlocks:      pulumi.StringArray{pulumi.String("203.0.113.7/32")},
				Description:     pulumi.String(description),
			})
			return err
		}
	}
	for _, preview := range []bool{true, false} {
		_, err := pulumimock.Run(rule("the operator's SSH"), pulumimock.NewMocks(), "dev", baseConfig(), preview)
		if err == nil {
			t.Fatalf("preview=%v: a security group rule description with an apostrophe was accepted", preview)
		}
		for _, want := range []string{
			"aws:ec2/securityGroupRule:SecurityGroupRule", `"ssh"`, `input description = "the operator's SSH"`,
			"only letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*",
			"internal/service/ec2/validate.go (validSecurityGroupRuleDescription",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("preview=%v: error %q lacks %q", preview, err, want)
			}
		}
		if _, err := pulumimock.Run(rule("SSH of the operator"), pulumimock.NewMocks(), "dev", baseConfig(), preview); err != nil {
			t.Errorf("preview=%v: a valid rule was refused: %v", preview, err)
		}
	}

	// The ELB's name is the one input the program computes from the stack
	// name; 33 characters is one too many.
	lb := func(ctx *pulumi.Context) error {
		_, err := elb.NewLoadBalancer(ctx, "elb", &elb.LoadBalancerArgs{
			Name:    pulumi.String("a-thirty-three-character-elb-name"),
			Subnets: pulumi.StringArray{pulumi.String("subnet-1")},
			Listeners: elb.LoadBalancerListenerArray{&elb.LoadBalancerListenerArgs{
				LbPort: pulumi.Int(80), LbProtocol: pulumi.String("http"), InstancePort: pulumi.Int(31080), InstanceProtocol: pulumi.String("http"),
			}},
			HealthCheck: &elb.LoadBalancerHealthCheckArgs{
				Target: pulumi.String("HTTP:31080/v1/ping"), Interval: pulumi.Int(4), Timeout: pulumi.Int(2),
				HealthyThreshold: pulumi.Int(2), UnhealthyThreshold: pulumi.Int(2),
			},
		})
		return err
	}
	_, err := pulumimock.Run(lb, pulumimock.NewMocks(), "dev", baseConfig(), true)
	if err == nil || !strings.Contains(err.Error(), "input name =") || !strings.Contains(err.Error(), "input healthCheck.interval = 4") {
		t.Errorf("an ELB with a 33-character name and a 4 s interval: %v", err)
	}

	// An AWS type nobody wrote rules for is refused rather than waved through.
	bucket := func(ctx *pulumi.Context) error {
		var b struct{ pulumi.CustomResourceState }
		return ctx.RegisterResource("aws:s3/bucketV2:BucketV2", "logs", pulumi.Map{}, &b)
	}
	if _, err := pulumimock.Run(bucket, pulumimock.NewMocks(), "dev", baseConfig(), true); err == nil || !strings.Contains(err.Error(), "no input rules for aws:s3/bucketV2:BucketV2") {
		t.Errorf("an AWS type without rules: %v", err)
	}
}
