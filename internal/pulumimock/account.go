package pulumimock

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// This file is the contract of the data sources the preflight reads
// (components/preflight.go): getEncryptionByDefault, getDefaultKmsKey,
// getVpcs, getServiceQuota and getInstanceType. Each answers from Account,
// in the shape the provider returns, and refuses arguments it does not
// model. Sources (terraform-provider-aws, see tfVersion):
//   - internal/service/ec2/ebs_encryption_by_default_data_source.go and
//     ebs_default_kms_key_data_source.go: no arguments; id is the region;
//     `enabled` from GetEbsEncryptionByDefault, `key_arn` from
//     GetEbsDefaultKmsKeyId.
//   - internal/service/ec2/vpc_vpcs_data_source.go: `tags` become tag:<key>
//     filters, `filter` blocks are appended; `ids`; id is the region.
//   - internal/service/servicequotas/service_quota_data_source.go:
//     service_code required, exactly one of quota_code and quota_name; the
//     default quota first (an unknown code fails "getting Default Service
//     Quota for (service/code)"), then the applied value if one exists.
//   - internal/service/ec2/ec2_instance_type_data_source.go: instance_type
//     required; DescribeInstanceTypes refuses an unknown type with
//     InvalidInstanceType.

// Account is what the preflight's data sources read about the account in
// mockRegion.
type Account struct {
	// Nodes are instances, subnets and interfaces besides those the
	// previous run left (account_nodes.go).
	Nodes Nodes

	EBSEncryptionByDefault bool
	// EBSDefaultKeyARN is GetEbsDefaultKmsKeyId's answer: the AWS managed
	// key's alias ARN until a customer managed key is set.
	EBSDefaultKeyARN string
	VPCs             []VPC
	// Quotas by "service/code".
	Quotas        map[string]Quota
	InstanceTypes map[string]InstanceType
	IMDS          AccountIMDS // what the program reads with the AWS SDK (account_imds.go)
}

// VPC is one existing VPC.
type VPC struct {
	ID   string
	Tags map[string]string
}

// Quota is one Service Quotas quota: its AWS default and, if the account
// has one, its applied value (0: none applied).
type Quota struct {
	Name             string
	Default, Applied float64
}

// InstanceType is what DescribeInstanceTypes says of a type.
type InstanceType struct {
	VCPUs      int
	MemoryMiB  int
	Hypervisor string // xen | nitro
}

// ManagedEBSKeyARN is the default EBS key of an account that never set one.
const ManagedEBSKeyARN = "arn:aws:kms:" + mockRegion + ":" + mockAccount + ":alias/aws/ebs"

// defaultAccount has encryption by default off, only the default VPC, and
// the VPC quotas at their defaults (Amazon VPC User Guide, "Amazon VPC
// quotas": 5 VPCs and 5 internet gateways per Region). The vCPU quota is an
// applied 32: the default differs by account age and is raised by AWS with
// use, so tests set their own where it matters.
func defaultAccount() Account {
	return Account{
		EBSDefaultKeyARN: ManagedEBSKeyARN,
		VPCs:             []VPC{{ID: "vpc-0default00000000a", Tags: map[string]string{}}},
		Quotas: map[string]Quota{
			"vpc/L-F678F1CE": {Name: "VPCs per Region", Default: 5},
			"vpc/L-A4707A72": {Name: "Internet gateways per Region", Default: 5},
			"ec2/L-1216C47A": {Name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", Default: 5, Applied: 32},
		},
		// AWS, "Amazon EC2 instance types" specifications; m4, c4 and t2 are
		// Xen ("Instances built on the AWS Nitro System" lists the rest).
		InstanceTypes: map[string]InstanceType{
			"m4.large": {2, 8192, "xen"}, "m4.xlarge": {4, 16384, "xen"},
			"c4.large": {2, 3840, "xen"}, "c4.xlarge": {4, 7680, "xen"},
			"t2.large": {2, 8192, "xen"}, "t3.large": {2, 8192, "nitro"}, "t3.medium": {2, 4096, "nitro"},
			"m5.large": {2, 8192, "nitro"}, "c5.large": {2, 4096, "nitro"},
			"c5.2xlarge": {8, 16384, "nitro"}, "m5.2xlarge": {8, 32768, "nitro"}, "r5.2xlarge": {8, 65536, "nitro"},
		},
	}
}

// encryptionByDefault answers aws:ebs/getEncryptionByDefault.
func (m *Mocks) encryptionByDefault(args resource.PropertyMap) (map[string]any, error) {
	if _, err := newCallArgs("getEncryptionByDefault", args); err != nil {
		return nil, err
	}
	return map[string]any{"id": mockRegion, "enabled": m.Account.EBSEncryptionByDefault}, nil
}

// defaultKmsKey answers aws:ebs/getDefaultKmsKey.
func (m *Mocks) defaultKmsKey(args resource.PropertyMap) (map[string]any, error) {
	if _, err := newCallArgs("getDefaultKmsKey", args); err != nil {
		return nil, err
	}
	return map[string]any{"id": mockRegion, "keyArn": m.Account.EBSDefaultKeyARN}, nil
}

// vpcs answers aws:ec2/getVpcs. Only tags are modelled; a filter block is
// refused.
func (m *Mocks) vpcs(args resource.PropertyMap) (map[string]any, error) {
	c, err := newCallArgs("getVpcs", args, "tags", "filters")
	if err != nil {
		return nil, err
	}
	if _, err := c.filters(); err != nil {
		return nil, err
	}
	want := map[string]string{}
	if v := args["tags"]; v.IsObject() {
		for k, e := range v.ObjectValue() {
			want[string(k)] = e.StringValue()
		}
	}
	ids := []string{}
	for _, v := range m.Account.VPCs {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(want)), func(k string) bool { return v.Tags[k] != want[k] }) {
			ids = append(ids, v.ID)
		}
	}
	sort.Strings(ids)
	return map[string]any{"id": mockRegion, "ids": ids}, nil
}

// serviceQuota answers aws:servicequotas/getServiceQuota.
func (m *Mocks) serviceQuota(args resource.PropertyMap) (map[string]any, error) {
	const token = "getServiceQuota"
	c, err := newCallArgs(token, args, "serviceCode", "quotaCode", "quotaName")
	if err != nil {
		return nil, err
	}
	service, code := c.str("serviceCode"), c.str("quotaCode")
	switch {
	case service == "":
		//lint:ignore ST1005 the provider's own message, quoted (Terraform's required-argument diagnostic)
		return nil, errors.New(`The argument "service_code" is required, but no definition was found.`)
	case (code == "") == (c.str("quotaName") == ""):
		return nil, errors.New(`"quota_code": one of ` + "`quota_code,quota_name`" + ` must be specified`)
	case code == "":
		return nil, fmt.Errorf("pulumimock: %s by quotaName is not modelled; use quotaCode", token)
	}
	q, ok := m.Account.Quotas[service+"/"+code]
	if !ok {
		return nil, fmt.Errorf("getting Default Service Quota for (%s/%s): NoSuchResourceException: The request failed because the specified service quota does not exist", service, code)
	}
	arn := fmt.Sprintf("arn:aws:servicequotas:%s:%s:%s/%s", mockRegion, mockAccount, service, code)
	value := q.Default
	if q.Applied != 0 {
		value = q.Applied
	}
	return map[string]any{"id": arn, "arn": arn, "adjustable": true, "defaultValue": q.Default, "globalQuota": false,
		"quotaCode": code, "quotaName": q.Name, "serviceCode": service, "serviceName": service, "usageMetrics": []any{}, "value": value}, nil
}

// instanceType answers aws:ec2/getInstanceType with the fields the program
// reads and a few beside them.
func (m *Mocks) instanceType(args resource.PropertyMap) (map[string]any, error) {
	c, err := newCallArgs("getInstanceType", args, "instanceType")
	if err != nil {
		return nil, err
	}
	name := c.str("instanceType")
	it, ok := m.Account.InstanceTypes[name]
	if !ok {
		return nil, fmt.Errorf("reading EC2 Instance Type (%s): InvalidInstanceType: The following supplied instance types do not exist: [%s]", name, name)
	}
	nvme := map[string]string{"xen": "unsupported", "nitro": "required"}[it.Hypervisor]
	return map[string]any{"id": name, "instanceType": name, "defaultVcpus": it.VCPUs, "memorySize": it.MemoryMiB,
		"hypervisor": it.Hypervisor, "ebsNvmeSupport": nvme,
		"supportedArchitectures": []any{"x86_64"}, "supportedVirtualizationTypes": []any{"hvm"}}, nil
}
