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
