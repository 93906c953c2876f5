package config

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestUnknownKeysSuggest(t *testing.T) {
	tests := []struct {
		key, value string
		want       string // in the error; "" means accepted
		not        string // must not be in the error
	}{
		{"agentCount", "3", "", ""},
		{"agentcount", "3", "marathon-ha:agentcount = \"3\": not a key of marathon-ha; did you mean agentCount? (`pulumi config rm marathon-ha:agentcount` then `pulumi config set agentCount 3`)", ""},
		{"agentsCount", "3", "did you mean agentCount?", ""},
		{"masterInstanceTyp", "m4.xlarge", "did you mean masterInstanceType?", ""},
		{"region", "eu-west-1", "marathon-ha:region = \"eu-west-1\": not a key of marathon-ha: the AWS provider's key is aws:region (`pulumi config rm marathon-ha:region` then `pulumi config set aws:region eu-west-1`)", ""},
		{"Region", "eu-west-1", "the AWS provider's key is aws:region", ""},
		{"profile", "my profile", "the AWS provider's key is aws:profile (`pulumi config rm marathon-ha:profile` then `pulumi config set aws:profile 'my profile'`)", ""},
		{"regoin", "eu-west-1", "the AWS provider's key is aws:region", ""},
		{"flavour", "vanilla", "marathon-ha:flavour = \"vanilla\": not a key of marathon-ha (its keys are in Pulumi.yaml", "did you mean"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			errs := UnknownKeys(map[string]string{"marathon-ha:" + tt.key: tt.value, "aws:region": "us-east-1"}, nil)
			if tt.want == "" {
				if len(errs) != 0 {
					t.Fatalf("a real key refused: %v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("%d errors, want 1: %v", len(errs), errs)
			}
			got := errs[0].Error()
			if !strings.Contains(got, tt.want) || (tt.not != "" && strings.Contains(got, tt.not)) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// Other namespaces are their owners' to check, and a secret's value is
// never printed.
func TestUnknownKeysNamespacesAndSecrets(t *testing.T) {
	cfg := map[string]string{"aws:regoin": "x", "pulumi:tags": "{}", "marathon-ha:regionn": "s3cr3t", "marathon-ha:publicKey": "k"}
	errs := UnknownKeys(cfg, []string{"marathon-ha:regionn"})
	if len(errs) != 1 {
		t.Fatalf("%d errors, want only marathon-ha:regionn's: %v", len(errs), errs)
	}
	if got := errs[0].Error(); strings.Contains(got, "s3cr3t") || !strings.Contains(got, "--secret") {
		t.Errorf("a secret key's error: %s", got)
	}
}

// The engine's config reaches Load through PULUMI_CONFIG, and an unknown
// key is reported with the other problems, first, in one error.
func TestLoadRefusesUnknownKeys(t *testing.T) {
	cfg := map[string]string{
		"aws:region":               "us-east-1",
		"marathon-ha:publicKey":    testKey,
		"marathon-ha:operatorCidr": "203.0.113.7/32",
		"marathon-ha:agentcount":   "3",
		"marathon-ha:masterCount":  "2",
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(pulumi.EnvConfig, string(raw))
	t.Setenv(pulumi.EnvConfigSecretKeys, "")
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := Load(ctx)
		return err
	}, pulumi.WithMocks("marathon-ha", "dev", noResources{}), func(info *pulumi.RunInfo) { info.Config = cfg })
	if err == nil {
		t.Fatal("Load accepted marathon-ha:agentcount")
	}
	msg := err.Error()
	i, j := strings.Index(msg, "marathon-ha:agentcount"), strings.Index(msg, "marathon-ha:masterCount = \"2\"")
	if i < 0 || j < 0 || i > j {
		t.Errorf("want the unknown key first, then the bad masterCount, in one error:\n%s", msg)
	}

	// Without the unknown key the same config passes but for masterCount,
	// and with neither it loads.
	delete(cfg, "marathon-ha:agentcount")
	cfg["marathon-ha:masterCount"] = "3"
	raw, _ = json.Marshal(cfg)
	t.Setenv(pulumi.EnvConfig, string(raw))
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		c, err := Load(ctx)
		if err == nil && c.MasterCount != 3 {
			t.Errorf("masterCount %d", c.MasterCount)
		}
		return err
	}, pulumi.WithMocks("marathon-ha", "dev", noResources{}), func(info *pulumi.RunInfo) { info.Config = cfg })
	if err != nil {
		t.Errorf("a valid config refused: %v", err)
	}
}

// noResources is a mock monitor for a program that registers nothing.
type noResources struct{}

func (noResources) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name, args.Inputs, nil
}

func (noResources) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}
