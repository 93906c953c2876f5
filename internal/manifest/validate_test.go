package manifest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
)

func TestValidateAcceptsDefaultAndRendered(t *testing.T) {
	if err := manifest.Validate(apps.MobyCounter); err != nil {
		t.Errorf("Validate(apps/moby-counter.json): %v", err)
	}
	rendered, err := manifest.Render(apps.MobyCounter, params())
	if err != nil {
		t.Fatal(err)
	}
	if err := manifest.Validate(rendered); err != nil {
		t.Errorf("Validate(rendered default): %v", err)
	}
}

// TestValidateRejects proves the validator can fail: each case breaks one
// rule of Marathon 1.4's schema or of the volume rules.
func TestValidateRejects(t *testing.T) {
	rendered, err := manifest.Render(apps.MobyCounter, params())
	if err != nil {
		t.Fatal(err)
	}
	valid := string(rendered)
	edit := func(old, new string) string {
		t.Helper()
		if !strings.Contains(valid, old) {
			t.Fatalf("rendered manifest lacks %q", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	tests := []struct {
		name, doc, wantErr string
	}{
		{"unknown top-level field", edit(`"cpus": 0.5,`, `"cpus": 0.5, "cpu": 1,`), "additionalProperties 'cpu' not allowed"},
		{"wrong type", edit(`"instances": 1`, `"instances": "one"`), "/instances: expected integer, but got string"},
		{"constraint operator outside the enum", edit(`"CLUSTER"`, `"NEAR"`), "/constraints/0/1: value must be one of"},
		{"constraint with four items", edit(`"CLUSTER",`, `"CLUSTER", "x",`), "/constraints/0: only 3 items are allowed"},
		{"host port above 65535", edit(`"hostPort": 8500`, `"hostPort": 70000`), "/container/docker/portMappings/0/hostPort: must be <= 65535"},
		{"unknown field in a nested object", edit(`"forcePullImage": false,`, `"forcePullImage": false, "pull": true,`), "/container/docker: additionalProperties 'pull' not allowed"},
		{"id not a Marathon path", edit(`"/marathon-ha/moby-counter"`, `"/Moby_Counter"`), "/id: does not match pattern"},
		{"cmd and args together", edit(`"cpus": 0.5,`, `"cpus": 0.5, "cmd": "a", "args": ["b"],`), "/: not failed"},
		{"negative grace period", edit(`"gracePeriodSeconds": 60`, `"gracePeriodSeconds": -1`), "/healthChecks/0/gracePeriodSeconds: must be >= 0"},
		{"two instances", edit(`"instances": 1`, `"instances": 2`), "/instances: is 2; the data volume attaches to one host at a time"},
		{"over-capacity upgrade", edit(`"maximumOverCapacity": 0`, `"maximumOverCapacity": 1`), "/upgradeStrategy/maximumOverCapacity: is 1"},
		{"healthy-capacity upgrade", edit(`"minimumHealthCapacity": 0`, `"minimumHealthCapacity": 0.5`), "/upgradeStrategy/minimumHealthCapacity: is 0.5"},
		{"no upgrade strategy", `{"id":"/a","unreachableStrategy":{},"container":{"docker":{"image":"x","parameters":[{"key":"volume-driver","value":"flocker"},{"key":"volume","value":"v:/data"}]}}}`, "/upgradeStrategy: missing"},
		{"unreachable strategy disabled", edit(`"unreachableStrategy": {`, `"unreachableStrategy": "disabled", "x": {`), "/unreachableStrategy: must be an object"},
		{"no volume driver", edit(`"key": "volume-driver"`, `"key": "log-driver"`), `has 0 "volume-driver" parameters`},
		{"not JSON", `{`, "manifest is not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := manifest.Validate([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Validate accepted an invalid manifest:\n%s", tt.doc)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate error =\n%v\nwant it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// TestSchemaIsTheSharedReference checks that the embedded schema is still
// byte-for-byte the shared reference copy, when the shared tree is beside
// the clone (as in CI).
func TestSchemaIsTheSharedReference(t *testing.T) {
	ref := filepath.Join("..", "..", "..", "shared", "reference", "marathon-1.4", "AppDefinition.json")
	want, err := os.ReadFile(ref)
	if os.IsNotExist(err) {
		t.Skipf("%s not present", ref)
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("schema", "marathon-1.4-AppDefinition.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("schema/marathon-1.4-AppDefinition.json differs from %s", ref)
	}
}
