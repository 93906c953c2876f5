package pulumimock

import (
	"strings"
	"testing"
)

// Each preflight data source answers in the provider's shape and refuses
// what the provider or the API refuses, or what account.go does not model.
func TestAccountDataSources(t *testing.T) {
	const (
		enc    = "aws:ebs/getEncryptionByDefault:getEncryptionByDefault"
		key    = "aws:ebs/getDefaultKmsKey:getDefaultKmsKey"
		vpcs   = "aws:ec2/getVpcs:getVpcs"
		quota  = "aws:servicequotas/getServiceQuota:getServiceQuota"
		itype  = "aws:ec2/getInstanceType:getInstanceType"
		tagged = "vpc-0b0000000000000001"
	)
	m := NewMocks()
	m.Account.EBSEncryptionByDefault = true
	m.Account.VPCs = append(m.Account.VPCs, VPC{ID: tagged, Tags: map[string]string{"team": "a", "env": "dev"}})

	out, err := call(t, m, enc, nil)
	if err != nil || out["enabled"].BoolValue() != true || out["id"].StringValue() != "us-east-1" {
		t.Errorf("getEncryptionByDefault: %v %v", out, err)
	}
	out, err = call(t, m, key, nil)
	if err != nil || out["keyArn"].StringValue() != ManagedEBSKeyARN {
		t.Errorf("getDefaultKmsKey: %v %v", out, err)
	}
	out, err = call(t, m, vpcs, map[string]any{"tags": map[string]any{"team": "a"}})
	if err != nil || strings.Join(toStrings(out["ids"]), " ") != tagged {
		t.Errorf("getVpcs by tag: %v %v", out, err)
	}
	out, err = call(t, m, vpcs, nil)
	if err != nil || len(toStrings(out["ids"])) != 2 {
		t.Errorf("getVpcs: %v %v", out, err)
	}
	out, err = call(t, m, quota, map[string]any{"serviceCode": "ec2", "quotaCode": "L-1216C47A"})
	if err != nil || out["value"].NumberValue() != 32 || out["defaultValue"].NumberValue() != 5 {
		t.Errorf("getServiceQuota with an applied value: %v %v", out, err)
	}
	out, err = call(t, m, quota, map[string]any{"serviceCode": "vpc", "quotaCode": "L-F678F1CE"})
	if err != nil || out["value"].NumberValue() != 5 {
		t.Errorf("getServiceQuota at its default: %v %v", out, err)
	}
	out, err = call(t, m, itype, map[string]any{"instanceType": "m5.large"})
	if err != nil || out["hypervisor"].StringValue() != "nitro" || out["defaultVcpus"].NumberValue() != 2 {
		t.Errorf("getInstanceType: %v %v", out, err)
	}

	for _, bad := range []struct {
		token string
		args  map[string]any
		want  string
	}{
		{enc, map[string]any{"region": "us-west-2"}, `argument "region" is not modelled`},
		{key, map[string]any{"keyId": "x"}, `argument "keyId" is not modelled`},
		{vpcs, map[string]any{"filters": filters("is-default", []string{"true"})}, "InvalidParameterValue: The filter 'is-default' is invalid"},
		{quota, map[string]any{"quotaCode": "L-F678F1CE"}, `"service_code" is required`},
		{quota, map[string]any{"serviceCode": "vpc"}, "one of `quota_code,quota_name` must be specified"},
		{quota, map[string]any{"serviceCode": "vpc", "quotaCode": "L-F678F1CE", "quotaName": "VPCs per Region"}, "one of `quota_code,quota_name` must be specified"},
		{quota, map[string]any{"serviceCode": "vpc", "quotaName": "VPCs per Region"}, "by quotaName is not modelled"},
		{quota, map[string]any{"serviceCode": "vpc", "quotaCode": "L-00000000"}, "getting Default Service Quota for (vpc/L-00000000): NoSuchResourceException"},
		{itype, map[string]any{"instanceType": "m9.huge"}, "InvalidInstanceType: The following supplied instance types do not exist: [m9.huge]"},
		{"aws:ec2/getInternetGateway:getInternetGateway", nil, "data source aws:ec2/getInternetGateway:getInternetGateway is not modelled"},
	} {
		if _, err := call(t, m, bad.token, bad.args); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %v: error %v, want %q", bad.token, bad.args, err, bad.want)
		}
	}
}
