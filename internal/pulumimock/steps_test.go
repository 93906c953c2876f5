package pulumimock

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// TestDecide checks the engine rules steps.go models, one case each.
func TestDecide(t *testing.T) {
	inst := func(kv map[string]any) Resource {
		in := resource.PropertyMap{"ami": resource.NewStringProperty("ami-1"), "instanceType": resource.NewStringProperty("m4.large"),
			"userDataBase64": resource.NewStringProperty("AAAA"), "userDataReplaceOnChange": resource.NewBoolProperty(true),
			"rootBlockDevice": resource.NewObjectProperty(resource.PropertyMap{"volumeSize": resource.NewNumberProperty(30), "encrypted": resource.NewBoolProperty(true)})}
		for k, v := range kv {
			in[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
		return Resource{Type: tInstance, Name: "n", Custom: true, Inputs: in, ReplacementTrigger: resource.NewNullProperty()}
	}
	old := inst(nil)
	tests := []struct {
		name      string
		new       Resource
		want      Step
		replacing []string
	}{
		{"nothing changed", inst(nil), StepSame, nil},
		{"instance type updates", inst(map[string]any{"instanceType": "m4.xlarge"}), StepUpdate, nil},
		{"ami is ForceNew", inst(map[string]any{"ami": "ami-2"}), StepReplace, []string{"ami"}},
		{"root volume size updates", inst(map[string]any{"rootBlockDevice": map[string]any{"volumeSize": 40, "encrypted": true}}), StepUpdate, nil},
		{"root volume encryption is ForceNew", inst(map[string]any{"rootBlockDevice": map[string]any{"volumeSize": 30, "encrypted": false}}), StepReplace, []string{"rootBlockDevice.encrypted"}},
		{"user data with replace-on-change", inst(map[string]any{"userDataBase64": "BBBB"}), StepReplace, []string{"userDataBase64"}},
		{"user data without replace-on-change", inst(map[string]any{"userDataBase64": "BBBB", "userDataReplaceOnChange": false}), StepUpdate, nil},
	}
	ignored := inst(map[string]any{"ami": "ami-2"})
	ignored.IgnoreChanges = []string{"ami"}
	ignored.Inputs = ignoreChanges(ignored.Inputs, old.Inputs, ignored.IgnoreChanges)
	tests = append(tests, struct {
		name      string
		new       Resource
		want      Step
		replacing []string
	}{"ignoreChanges puts the old value back", ignored, StepSame, nil})
	roc := inst(map[string]any{"instanceType": "m4.xlarge"})
	roc.ReplaceOnChanges = []string{"instanceType"}
	tests = append(tests, struct {
		name      string
		new       Resource
		want      Step
		replacing []string
	}{"replaceOnChanges", roc, StepReplace, []string{"instanceType"}})
	trig := inst(nil)
	trig.ReplacementTrigger = resource.NewStringProperty("b")
	oldTrig := old
	oldTrig.ReplacementTrigger = resource.NewStringProperty("a")
	m := &Mocks{Prior: map[string]Resource{old.Key(): old}}
	for _, tt := range tests {
		c, err := m.decide(tt.new, old, true)
		if err != nil || c.Step != tt.want || !slices.Equal(c.Replacing, tt.replacing) {
			t.Errorf("%s: %s %v (%v), want %s %v", tt.name, c.Step, c.Replacing, err, tt.want, tt.replacing)
		}
	}
	if c, _ := m.decide(trig, oldTrig, true); c.Step != StepReplace {
		t.Errorf("changed replacementTrigger: %s, want replace", c.Step)
	}
	if c, _ := m.decide(trig, old, true); c.Step != StepSame {
		t.Errorf("trigger null before: %s, want same (null on either side is no trigger)", c.Step)
	}
	if _, err := m.decide(Resource{Type: "aws:ec2/volume:Volume", Custom: true}, Resource{}, true); err == nil {
		t.Error("a type without replacement rules was accepted")
	}
}

// TestCommandEnvironmentRenameUpdates: renaming a variable of a Command's
// environment (deploy-app's MARATHON_URL became MHA_MARATHON_URL) updates
// the command in place on upgrade; only triggers replace it.
func TestCommandEnvironmentRenameUpdates(t *testing.T) {
	cmd := func(env map[string]any, triggers []any) Resource {
		// The SDK registers every Command with replaceOnChanges triggers[*]
		// (replace.go, command:local:Command).
		return Resource{Type: "command:local:Command", Name: "cluster-app-deploy", Custom: true, ReplacementTrigger: resource.NewNullProperty(),
			ReplaceOnChanges: []string{"triggers[*]"},
			Inputs:           resource.NewPropertyMapFromMap(map[string]any{"create": "go run ./scripts/deploy-app --manifest -", "environment": env, "triggers": triggers})}
	}
	url := "http://198.51.100.10:8080"
	old := cmd(map[string]any{"MARATHON_URL": url}, []any{"a"})
	m := &Mocks{Prior: map[string]Resource{old.Key(): old}}
	c, err := m.decide(cmd(map[string]any{"MHA_MARATHON_URL": url}, []any{"a"}), old, true)
	if err != nil || c.Step != StepUpdate || len(c.Replacing) != 0 ||
		!slices.Equal(c.Changed, []string{"environment.MARATHON_URL", "environment.MHA_MARATHON_URL"}) {
		t.Errorf("environment rename: %s changed %v replacing %v (%v), want an update of both variables", c.Step, c.Changed, c.Replacing, err)
	}
	if c, _ := m.decide(cmd(map[string]any{"MARATHON_URL": url}, []any{"b"}), old, true); c.Step != StepReplace {
		t.Errorf("changed triggers: %s, want replace", c.Step)
	}
}

// TestGroupRefresh: a group naming a new launch template version is
// updated, and the update replaces its instances only when the group has
// an instance_refresh block (resourceGroupUpdate); a change that is not a
// trigger (the desired capacity) starts no refresh unless triggers name it.
func TestGroupRefresh(t *testing.T) {
	group := func(version string, capacity int, refresh map[string]any) Resource {
		in := resource.NewPropertyMapFromMap(map[string]any{
			"launchTemplate":  map[string]any{"id": "lt-1", "version": version},
			"desiredCapacity": capacity,
		})
		if refresh != nil {
			in["instanceRefresh"] = resource.NewPropertyValue(refresh)
		}
		return Resource{Type: tGroup, Name: "g", Custom: true, Inputs: in, ReplacementTrigger: resource.NewNullProperty()}
	}
	rolling := map[string]any{"strategy": "Rolling"}
	withTrigger := map[string]any{"strategy": "Rolling", "triggers": []any{"desired_capacity"}}
	tests := []struct {
		name     string
		old, new Resource
		refresh  bool
	}{
		{"new version, refresh block", group("1", 2, rolling), group("2", 2, rolling), true},
		{"new version, no refresh block", group("1", 2, nil), group("2", 2, nil), false},
		{"capacity, refresh block", group("1", 2, rolling), group("1", 3, rolling), false},
		{"capacity named by triggers", group("1", 2, withTrigger), group("1", 3, withTrigger), true},
	}
	m := &Mocks{Prior: map[string]Resource{}}
	for _, tt := range tests {
		c, err := m.decide(tt.new, tt.old, true)
		if err != nil || c.Step != StepUpdate || c.Refresh != tt.refresh {
			t.Errorf("%s: %s refresh %v (%v), want update refresh %v", tt.name, c.Step, c.Refresh, err, tt.refresh)
		}
	}
	// The launch template's new version: an update of a versioned input
	// grows latestVersion; a tag change does not.
	lt := func(typ string, tags string) Resource {
		return Resource{Type: tLaunchTemplate, Name: "t", Custom: true, ReplacementTrigger: resource.NewNullProperty(),
			Inputs:  resource.NewPropertyMapFromMap(map[string]any{"instanceType": typ, "tags": map[string]any{"a": tags}}),
			Outputs: resource.NewPropertyMapFromMap(map[string]any{"latestVersion": 1})}
	}
	for _, tt := range []struct {
		name string
		new  Resource
		want float64
	}{{"instance type", lt("m4.xlarge", "x"), 2}, {"tags", lt("m4.large", "y"), 1}} {
		old := lt("m4.large", "x")
		c, _ := m.decide(tt.new, old, true)
		out := old.Outputs.Copy()
		updateComputed(c, old, out)
		if got := out["latestVersion"].NumberValue(); got != tt.want {
			t.Errorf("%s: latestVersion %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestDependentReplacement: an input taken from a resource replaced
// delete-first replaces its dependent when the input is ForceNew there
// (pulumi/pulumi step_generator.go calculateDependentReplacements), even
// with the same value; an input that updates in place, or a dependency
// replaced create-first, does not.
func TestDependentReplacement(t *testing.T) {
	inst := Resource{Type: tInstance, Name: "n", Custom: true, ReplacementTrigger: resource.NewNullProperty(),
		Inputs: resource.PropertyMap{"keyName": resource.NewStringProperty("k"), "instanceType": resource.NewStringProperty("m4.large")}}
	for _, tt := range []struct {
		name        string
		input       string
		deleteFirst bool
		want        Step
	}{
		{"ForceNew input from a delete-first replacement", "keyName", true, StepReplace},
		{"in-place input from a delete-first replacement", "instanceType", true, StepSame},
		{"ForceNew input from a create-first replacement", "keyName", false, StepSame},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := &Mocks{Prior: map[string]Resource{inst.Key(): inst}, deleteFirst: map[string]bool{}}
			if tt.deleteFirst {
				m.deleteFirst["aws:ec2/keyPair:KeyPair::kp"] = true
			}
			r := inst
			r.PropertyDependencies = map[string][]string{tt.input: {"aws:ec2/keyPair:KeyPair::kp"}}
			c, err := m.decide(r, inst, true)
			if err != nil || c.Step != tt.want || c.Dependent != (tt.want == StepReplace) {
				t.Errorf("decide = %+v, %v; want %s", c, err, tt.want)
			}
		})
	}
}
