package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/components"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

// customerKey is a customer managed KMS key of the mocks' account.
const customerKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// preflightRefusal runs a preview under m and wants it refused by the
// preflight, before any AWS resource is registered, with every want in the
// message.
func preflightRefusal(t *testing.T, m *pulumimock.Mocks, cfg map[string]string, want ...string) {
	t.Helper()
	res, err := pulumimock.Run(program, m, "dev", cfg, true)
	if err == nil {
		t.Fatal("preview accepted")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	for _, r := range res.Resources {
		if r.Custom {
			t.Errorf("%s was registered before the preflight refused", r.Key())
		}
	}
}

// ebsKeyStatements returns the agents' and the masters' statements that
// grant the default EBS key.
func ebsKeyStatements(t *testing.T, res *pulumimock.Result) (agents, masters []components.Statement) {
	t.Helper()
	for _, r := range res.OfType(tPolicy) {
		for _, s := range policyOf(t, r).Statement {
			if !strings.Contains(s.Sid, "EBSKey") {
				continue
			}
			if strings.Contains(r.Name, "agents") {
				agents = append(agents, s)
			} else {
				masters = append(masters, s)
			}
		}
	}
	return agents, masters
}

func TestPreflightEBSEncryptionByDefault(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver+" with a customer managed key", func(t *testing.T) {
			m := pulumimock.NewMocks()
			m.Account.EBSEncryptionByDefault, m.Account.EBSDefaultKeyARN = true, customerKey
			res, err := pulumimock.Run(program, m, "dev", baseConfig("volumeDriver", driver), false)
			if err != nil {
				t.Fatal(err)
			}
			agents, masters := ebsKeyStatements(t, res)
			if len(masters) != 0 {
				t.Errorf("masters granted the EBS key: %+v", masters)
			}
			var actions []string
			for _, s := range agents {
				if len(s.Resource) != 1 || s.Resource[0] != customerKey {
					t.Errorf("statement %s scoped to %v, want only %s", s.Sid, s.Resource, customerKey)
				}
				if got := s.Condition["StringEquals"]["kms:ViaService"]; len(got) != 1 || got[0] != "ec2.us-east-1.amazonaws.com" {
					t.Errorf("statement %s usable outside EC2: %v", s.Sid, s.Condition)
				}
				if slices.Contains(s.Action, "kms:CreateGrant") && s.Condition["Bool"]["kms:GrantIsForAWSResource"] == nil {
					t.Errorf("CreateGrant not limited to AWS resources: %v", s.Condition)
				}
				actions = append(actions, s.Action...)
			}
			slices.Sort(actions)
			if strings.Join(actions, " ") != strings.Join(components.EBSKeyActions, " ") {
				t.Errorf("agents' key actions %v, want %v", actions, components.EBSKeyActions)
			}
		})
	}
	for name, key := range map[string]string{"off": "", "on with the AWS managed key": pulumimock.ManagedEBSKeyARN} {
		t.Run(name, func(t *testing.T) {
			m := pulumimock.NewMocks()
			m.Account.EBSEncryptionByDefault = key != ""
			res, err := pulumimock.Run(program, m, "dev", baseConfig(), false)
			if err != nil {
				t.Fatal(err)
			}
			if agents, masters := ebsKeyStatements(t, res); len(agents)+len(masters) != 0 {
				t.Errorf("key statements without a customer managed key: %+v %+v", agents, masters)
			}
		})
	}
	t.Run("a customer managed key named by its alias", func(t *testing.T) {
		m := pulumimock.NewMocks()
		m.Account.EBSEncryptionByDefault, m.Account.EBSDefaultKeyARN = true, "arn:aws:kms:us-east-1:123456789012:alias/team-ebs"
		preflightRefusal(t, m, baseConfig(), "preflight EBS default encryption", `"arn:aws:kms:us-east-1:123456789012:alias/team-ebs", an alias`, "aws ec2 modify-ebs-default-kms-key-id --region us-east-1")
	})
}

func TestPreflightVPCQuota(t *testing.T) {
	full := func(ownTagged bool) *pulumimock.Mocks {
		m := pulumimock.NewMocks()
		for i := len(m.Account.VPCs); i < 5; i++ {
			m.Account.VPCs = append(m.Account.VPCs, pulumimock.VPC{ID: fmt.Sprintf("vpc-0other%012d", i), Tags: map[string]string{}})
		}
		if ownTagged {
			m.Account.VPCs[4].Tags = map[string]string{facts.TagProject: facts.Project, facts.TagStack: "dev"}
		}
		return m
	}
	t.Run("a new stack in a full region", func(t *testing.T) {
		preflightRefusal(t, full(false), baseConfig(), "preflight VPC quota: us-east-1 already has 5 VPCs of the 5 its quota allows",
			"--service-code vpc --quota-code L-F678F1CE --desired-value 6")
	})
	t.Run("the stack's own VPC is one of them", func(t *testing.T) {
		if _, err := pulumimock.Run(program, full(true), "dev", baseConfig(), true); err != nil {
			t.Fatalf("day-two preview refused: %v", err)
		}
	})
	t.Run("another stack's VPC is one of them", func(t *testing.T) {
		if _, err := pulumimock.Run(program, full(true), "prod", baseConfig(), true); err == nil || !strings.Contains(err.Error(), "preflight VPC quota") {
			t.Fatalf("stack prod took stack dev's VPC as its own: %v", err)
		}
	})
	t.Run("a raised quota", func(t *testing.T) {
		m := full(false)
		m.Account.Quotas["vpc/L-F678F1CE"] = pulumimock.Quota{Name: "VPCs per Region", Default: 5, Applied: 10}
		if _, err := pulumimock.Run(program, m, "dev", baseConfig(), true); err != nil {
			t.Fatalf("refused under a raised quota: %v", err)
		}
	})
}

func TestPreflightVCPUQuota(t *testing.T) {
	m := pulumimock.NewMocks()
	m.Account.Quotas["ec2/L-1216C47A"] = pulumimock.Quota{Name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", Default: 5}
	preflightRefusal(t, m, baseConfig(), "preflight vCPU quota: the cluster needs 6 vCPUs (1 x m4.large, 2 x m4.large) and us-east-1 allows 5",
		"--service-code ec2 --quota-code L-1216C47A --desired-value 6")
	// Three masters and four agents of m4.xlarge: 28 vCPUs fit the mocks' 32.
	if _, err := pulumimock.Run(program, pulumimock.NewMocks(), "dev", baseConfig("masterCount", "3", "agentCount", "4", "masterInstanceType", "m4.xlarge", "agentInstanceType", "m4.xlarge"), true); err != nil {
		t.Fatalf("28 vCPUs under a quota of 32 refused: %v", err)
	}
	m = pulumimock.NewMocks()
	preflightRefusal(t, m, baseConfig("masterCount", "5", "agentCount", "4", "masterInstanceType", "m4.xlarge", "agentInstanceType", "m4.xlarge"),
		"the cluster needs 36 vCPUs")
}

// The config refuses the Nitro families it knows; EC2's own answer decides
// for the rest. The table is bent here to show the rule: m4.large is Xen.
func TestPreflightRefusesAgentTypeEC2CallsNitro(t *testing.T) {
	m := pulumimock.NewMocks()
	m.Account.InstanceTypes["m4.large"] = pulumimock.InstanceType{VCPUs: 2, MemoryMiB: 8192, Hypervisor: "nitro"}
	preflightRefusal(t, m, baseConfig(), "preflight agent instance type: EC2 reports m4.large on the Nitro hypervisor", "set marathon-ha:agentInstanceType to a Xen type")
	m = pulumimock.NewMocks()
	if _, err := pulumimock.Run(program, m, "dev", baseConfig("masterInstanceType", "m5.large"), true); err != nil {
		t.Fatalf("a Nitro master refused: %v", err)
	}
}
