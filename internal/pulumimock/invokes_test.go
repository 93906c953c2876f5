package pulumimock

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func call(t *testing.T, m *Mocks, token string, args map[string]any) (resource.PropertyMap, error) {
	t.Helper()
	return m.Call(pulumi.MockCallArgs{Token: token, Args: resource.NewPropertyMapFromMap(args)})
}

func filters(kv ...any) []any {
	var out []any
	for i := 0; i < len(kv); i += 2 {
		out = append(out, map[string]any{"name": kv[i], "values": kv[i+1]})
	}
	return out
}

func TestAvailabilityZonesHonoursFilters(t *testing.T) {
	const token = "aws:index/getAvailabilityZones:getAvailabilityZones"
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"no arguments: opted-in Local Zone included, sorted first", nil, "us-east-1-atl-1a us-east-1a us-east-1b us-east-1c"},
		{"all zones", map[string]any{"allAvailabilityZones": true}, "us-east-1-atl-1a us-east-1-bos-1a us-east-1a us-east-1b us-east-1c"},
		{"Availability Zones only", map[string]any{"state": "available", "filters": filters("opt-in-status", []string{"opt-in-not-required"})}, "us-east-1a us-east-1b us-east-1c"},
		{"state ANDs with filters", map[string]any{"state": "impaired", "filters": filters("opt-in-status", []string{"opt-in-not-required"})}, ""},
		{"values OR", map[string]any{"filters": filters("zone-name", []string{"us-east-1c", "us-east-1-*"})}, "us-east-1-atl-1a us-east-1c"},
		{"exclude names", map[string]any{"excludeNames": []string{"us-east-1a"}, "filters": filters("zone-type", []string{"availability-zone"})}, "us-east-1b us-east-1c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := call(t, NewMocks(), token, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(toStrings(out["names"]), " "); got != tt.want {
				t.Errorf("names %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []map[string]any{
		{"state": "up"},
		{"filters": filters("opt-in", []string{"opted-in"})},
		{"zoneIds": []string{"use1-az1"}},
	} {
		if _, err := call(t, NewMocks(), token, bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestInstanceTypeOfferings(t *testing.T) {
	const token = "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings"
	m := NewMocks()
	m.Offerings["us-east-1b"] = []string{"c4.large"}
	out, err := call(t, m, token, map[string]any{"locationType": "availability-zone",
		"filters": filters("instance-type", []string{"m4.large", "c4.large"}, "location", []string{"us-east-1a", "us-east-1b"})})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	types, locs, lts := toStrings(out["instanceTypes"]), toStrings(out["locations"]), toStrings(out["locationTypes"])
	for i := range types {
		got = append(got, types[i]+"@"+locs[i]+"/"+lts[i])
	}
	slices.Sort(got)
	want := "c4.large@us-east-1a/availability-zone c4.large@us-east-1b/availability-zone m4.large@us-east-1a/availability-zone"
	if strings.Join(got, " ") != want {
		t.Errorf("offerings %v, want %s", got, want)
	}
	out, err = call(t, m, token, map[string]any{"filters": filters("instance-type", []string{"m4.large"})})
	if err != nil || strings.Join(toStrings(out["locations"]), " ") != "us-east-1" {
		t.Errorf("default location type: %v %v, want the region once", out["locations"], err)
	}
	for _, bad := range []map[string]any{{"locationType": "zone"}, {"filters": filters("vcpu", []string{"2"})}} {
		if _, err := call(t, m, token, bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestAMIRefusesDeprecatedUnlessIncluded(t *testing.T) {
	const token = "aws:ec2/getAmi:getAmi"
	focal := filters("name", []string{"ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*"})
	m := NewMocks()
	lookup := func(extra map[string]any) (string, error) {
		args := map[string]any{"owners": []string{CanonicalOwner}, "mostRecent": true, "filters": focal}
		for k, v := range extra {
			args[k] = v
		}
		out, err := call(t, m, token, args)
		if err != nil {
			return "", err
		}
		return out["id"].StringValue(), nil
	}
	if id, err := lookup(nil); err != nil || id != "ami-0123456789abcdef0" {
		t.Errorf("before the last serial's deprecation: %s %v", id, err)
	}
	m.Now = time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	if _, err := lookup(nil); err == nil || !strings.Contains(err.Error(), "Your query returned no results") {
		t.Errorf("only deprecated images, includeDeprecated unset: %v", err)
	}
	if id, err := lookup(map[string]any{"includeDeprecated": true}); err != nil || id != "ami-0123456789abcdef0" {
		t.Errorf("includeDeprecated: %s %v, want the newest focal", id, err)
	}
	if _, err := lookup(map[string]any{"includeDeprecated": true, "mostRecent": false}); err == nil || !strings.Contains(err.Error(), "more than one result") {
		t.Errorf("several matches without mostRecent: %v", err)
	}
	if _, err := lookup(map[string]any{"nameRegex": "focal"}); err == nil {
		t.Error("an argument the mock does not model was accepted")
	}
}

func stashArgs(name, input string, trigger *structpb.Value) pulumi.MockResourceArgs {
	return pulumi.MockResourceArgs{TypeToken: stashType, Name: name, Custom: true,
		Inputs:      resource.PropertyMap{"input": resource.NewStringProperty(input)},
		RegisterRPC: &pulumirpc.RegisterResourceRequest{ReplacementTrigger: trigger}}
}

func TestStashKeepsItsFirstInput(t *testing.T) {
	m := NewMocks()
	steps := []struct {
		input   string
		trigger *structpb.Value
		want    string // step and output
	}{
		{"us-east-1a", structpb.NewStringValue("auto"), "create us-east-1a"},
		{"us-east-1b", structpb.NewStringValue("auto"), "update us-east-1a"},
		{"us-east-1b", structpb.NewStringValue("auto"), "same us-east-1a"},
		{"us-east-1c", structpb.NewStringValue("us-east-1c"), "replace us-east-1c"},
		{"us-east-1a", nil, "update us-east-1c"},                                   // null: no trigger
		{"us-east-1b", structpb.NewStringValue("us-east-1b"), "update us-east-1c"}, // old null: no trigger
	}
	for i, s := range steps {
		_, out, err := m.NewResource(stashArgs("zone", s.input, s.trigger))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Stashes["zone"].Step + " " + out["output"].StringValue(); got != s.want {
			t.Errorf("step %d: %s, want %s", i, got, s.want)
		}
	}
	bad := stashArgs("other", "x", nil)
	bad.Inputs["value"] = resource.NewStringProperty("y")
	if _, _, err := m.NewResource(bad); err == nil {
		t.Error("a stash with a property besides input was accepted")
	}
	delete(bad.Inputs, "input")
	delete(bad.Inputs, "value")
	if _, _, err := m.NewResource(bad); err == nil {
		t.Error("a stash without input was accepted")
	}
}

func toStrings(v resource.PropertyValue) []string {
	var out []string
	for _, e := range v.ArrayValue() {
		out = append(out, fmt.Sprint(e.V))
	}
	return out
}
