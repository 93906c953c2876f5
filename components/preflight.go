package components

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/servicequotas"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The preflight asks the account, through data sources that run at every
// preview, what would make `pulumi up` fail later or leave nodes that never
// work, and refuses with the fix named. docs/preflight.md lists each check,
// its source and what it cannot see. The account's IMDS defaults have no
// data source in pulumi-aws v6.83.4: the program reads them with
// aws-sdk-go-v2 itself (preflight_imds.go).

// Service Quotas codes (Service Quotas console and `aws service-quotas
// list-aws-default-service-quotas --service-code vpc|ec2`; the VPC codes
// are the examples of pulumi-aws v6.83.4 servicequotas/getServiceQuota.go
// and the Amazon VPC User Guide, "Amazon VPC quotas").
const (
	quotaVPCsPerRegion   = "L-F678F1CE" // vpc: VPCs per Region
	quotaIGWsPerRegion   = "L-A4707A72" // vpc: Internet gateways per Region
	quotaStandardVCPUs   = "L-1216C47A" // ec2: Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs
	standardVCPUFamilies = "acdhimrtz"  // the first letter of the families L-1216C47A counts
)

// awsManagedEBSKey is the alias of the AWS managed key EBS uses when no
// customer managed default key is set (Amazon EBS User Guide, "Amazon EBS
// encryption": "aws/ebs"). Its key policy lets every principal of the
// account use it through EC2, so the agents need no grant for it.
const awsManagedEBSKey = "alias/aws/ebs"

// PreflightError is one refusal of the preflight: what was found and how to
// fix it.
type PreflightError struct {
	Check, Found, Fix string
}

func (e *PreflightError) Error() string {
	return fmt.Sprintf("preflight %s: %s; %s", e.Check, e.Found, e.Fix)
}

// preflightResult is what the later phases need from the preflight.
type preflightResult struct {
	// EBSKeyARN is the customer managed key new volumes are encrypted with
	// by default, "" when none (PolicyScope.EBSKeyARN).
	EBSKeyARN string
}

// preflight runs every check and reports every refusal at once.
func preflight(ctx *pulumi.Context, cfg config.Config, stack string, parent pulumi.Resource, sdk sdkAccount) (preflightResult, error) {
	var res preflightResult
	var errs []error
	errs = append(errs, imdsEnforcement(ctx, cfg, sdk))
	key, err := ebsDefaultKey(ctx, cfg, parent)
	res.EBSKeyARN = key
	errs = append(errs, err)
	errs = append(errs, networkQuotas(ctx, cfg, stack, parent))
	errs = append(errs, instanceTypes(ctx, cfg, parent))
	return res, errors.Join(errs...)
}

// ebsDefaultKey reads EBS encryption by default and its key. With a customer
// managed key, CreateVolume and AttachVolume need the volume driver's
// principal, the agents' role, to use that key (EBSKeyActions); the AWS
// managed aws/ebs key needs nothing. A default key named by an alias other
// than aws/ebs is refused: an IAM policy authorizes key use by the key's
// ARN, not an alias's (AWS KMS Developer Guide, "Use aliases in IAM policy
// resources": an alias ARN in Resource does not grant use of its key).
func ebsDefaultKey(ctx *pulumi.Context, cfg config.Config, parent pulumi.Resource) (string, error) {
	enc, err := ebs.LookupEncryptionByDefault(ctx, pulumi.Parent(parent))
	if err != nil {
		return "", fmt.Errorf("preflight: reading EBS encryption by default in %s: %w", cfg.Region, err)
	}
	if !enc.Enabled {
		return "", nil
	}
	key, err := ebs.LookupDefaultKmsKey(ctx, pulumi.Parent(parent))
	if err != nil {
		return "", fmt.Errorf("preflight: reading the default EBS KMS key in %s: %w", cfg.Region, err)
	}
	arn := key.KeyArn
	switch {
	case arn == awsManagedEBSKey || strings.HasSuffix(arn, ":"+awsManagedEBSKey):
		return "", nil
	case strings.HasPrefix(arn, "arn:") && strings.Contains(arn, ":key/"):
		return arn, nil
	}
	return "", &PreflightError{Check: "EBS default encryption",
		Found: fmt.Sprintf("%s encrypts new volumes by default with %q, an alias, which an IAM policy cannot grant the agents' volume driver", cfg.Region, arn),
		Fix:   fmt.Sprintf("set the default to the key's ARN: `aws ec2 modify-ebs-default-kms-key-id --region %s --kms-key-id arn:aws:kms:%s:<account>:key/<key id>`, then preview again", cfg.Region, cfg.Region)}
}

// networkQuotas compares the region's VPC quota with the VPCs it already
// has, this stack's own VPC aside (found by its project and stack tags).
// Internet gateways cannot be counted: pulumi-aws v6.83.4 has no data
// source listing them (ec2.getInternetGateway finds exactly one), so their
// quota is compared with the VPC count, each VPC with a public subnet
// holding one gateway, and a shortfall is only warned about.
func networkQuotas(ctx *pulumi.Context, cfg config.Config, stack string, parent pulumi.Resource) error {
	all, err := ec2.GetVpcs(ctx, &ec2.GetVpcsArgs{}, pulumi.Parent(parent))
	if err != nil {
		return fmt.Errorf("preflight: listing the VPCs of %s: %w", cfg.Region, err)
	}
	own, err := ec2.GetVpcs(ctx, &ec2.GetVpcsArgs{Tags: map[string]string{facts.TagProject: facts.Project, facts.TagStack: stack}}, pulumi.Parent(parent))
	if err != nil {
		return fmt.Errorf("preflight: looking for this stack's VPC in %s: %w", cfg.Region, err)
	}
	need := 0
	if len(own.Ids) == 0 {
		need = 1
	}
	vpcs, err := quota(ctx, "vpc", quotaVPCsPerRegion, parent)
	if err != nil {
		return err
	}
	if len(all.Ids)+need > vpcs {
		return &PreflightError{Check: "VPC quota",
			Found: fmt.Sprintf("%s already has %d VPCs of the %d its quota allows, and this stack needs one more", cfg.Region, len(all.Ids), vpcs),
			Fix: fmt.Sprintf("delete an unused VPC, deploy to another region (aws:region), or request more: `aws service-quotas request-service-quota-increase --region %s --service-code vpc --quota-code %s --desired-value %d`",
				cfg.Region, quotaVPCsPerRegion, len(all.Ids)+need)}
	}
	igws, err := quota(ctx, "vpc", quotaIGWsPerRegion, parent)
	if err != nil {
		return err
	}
	if len(all.Ids)+need > igws {
		return ctx.Log.Warn(fmt.Sprintf("preflight internet-gateway quota: %s allows %d internet gateways and will have %d VPCs; if each has a gateway, creating this stack's fails. Count them with `aws ec2 describe-internet-gateways --region %s --query 'length(InternetGateways)'`, and request more with quota code %s",
			cfg.Region, igws, len(all.Ids)+need, cfg.Region, quotaIGWsPerRegion), nil)
	}
	return nil
}

// quota reads a quota's applied value, or its default when none was
// applied (terraform-provider-aws servicequotas/service_quota_data_source.go).
func quota(ctx *pulumi.Context, service, code string, parent pulumi.Resource) (int, error) {
	q, err := servicequotas.LookupServiceQuota(ctx, &servicequotas.LookupServiceQuotaArgs{ServiceCode: service, QuotaCode: pulumi.StringRef(code)}, pulumi.Parent(parent))
	if err != nil {
		return 0, fmt.Errorf("preflight: reading quota %s/%s: %w", service, code, err)
	}
	return int(math.Floor(q.Value)), nil
}

// instanceTypes asks EC2 about both instance types: an agent type on the
// Nitro hypervisor is refused (config.checkNitroAgents refuses the known
// families; the hypervisor EC2 reports is the authority), and the cluster's
// vCPUs are compared with the On-Demand Standard vCPU quota when both types
// count against it. The quota is what the account may run in the region,
// other instances included; Service Quotas reports no usage through this
// data source, so only a cluster larger than the whole quota is refused.
func instanceTypes(ctx *pulumi.Context, cfg config.Config, parent pulumi.Resource) error {
	vcpus := map[string]int{}
	for _, t := range uniqueSorted(cfg.MasterInstanceType, cfg.AgentInstanceType) {
		it, err := ec2.GetInstanceType(ctx, &ec2.GetInstanceTypeArgs{InstanceType: t}, pulumi.Parent(parent))
		if err != nil {
			return fmt.Errorf("preflight: describing instance type %s: %w", t, err)
		}
		vcpus[t] = it.DefaultVcpus
		if t == cfg.AgentInstanceType && it.Hypervisor == "nitro" {
			return &PreflightError{Check: "agent instance type",
				Found: fmt.Sprintf("EC2 reports %s on the Nitro hypervisor: its EBS volumes are NVMe devices, which neither volume driver finds here", t),
				Fix:   fmt.Sprintf("set %s:%s to a Xen type such as %s (docs/preflight.md)", facts.Project, config.KeyAgentInstanceType, config.DefaultInstanceType)}
		}
	}
	for _, t := range []string{cfg.MasterInstanceType, cfg.AgentInstanceType} {
		if !strings.ContainsRune(standardVCPUFamilies, rune(t[0])) {
			return nil // counted against another quota, not read here
		}
	}
	need := cfg.MasterCount*vcpus[cfg.MasterInstanceType] + cfg.AgentCount*vcpus[cfg.AgentInstanceType]
	have, err := quota(ctx, "ec2", quotaStandardVCPUs, parent)
	if err != nil {
		return err
	}
	if need > have {
		return &PreflightError{Check: "vCPU quota",
			Found: fmt.Sprintf("the cluster needs %d vCPUs (%d x %s, %d x %s) and %s allows %d running On-Demand Standard vCPUs in all",
				need, cfg.MasterCount, cfg.MasterInstanceType, cfg.AgentCount, cfg.AgentInstanceType, cfg.Region, have),
			Fix: fmt.Sprintf("lower %s or %s, pick smaller types, or request more: `aws service-quotas request-service-quota-increase --region %s --service-code ec2 --quota-code %s --desired-value %d`",
				config.KeyMasterCount, config.KeyAgentCount, cfg.Region, quotaStandardVCPUs, need)}
	}
	return nil
}
