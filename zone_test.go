package main

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

const (
	tSubnet    = "aws:ec2/subnet:Subnet"
	tStash     = "pulumi:index:Stash"
	zoneRecord = "marathon-ha-zone" // the stash that records the zone
)

// zoneName matches an Availability Zone or Local Zone name of us-east-1.
var zoneName = regexp.MustCompile(`\bus-east-1(?:-[a-z]+-\d+)?[a-z]\b`)

// zonesIn returns every zone named anywhere in what the program registered
// and exported: inputs of every resource (user data decoded, the Marathon
// manifest, IAM policies) and the stack outputs. A cluster in one zone
// names exactly one.
func zonesIn(t *testing.T, res *pulumimock.Result) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			for _, z := range zoneName.FindAllString(x, -1) {
				seen[z] = true
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, r := range res.Resources {
		if r.Type == tStash {
			continue // its input is this run's look-up, which nothing placed reads
		}
		for k := range r.Inputs {
			walk(r.Input(string(k)))
		}
		if r.Type == tInstance {
			walk(userDataOf(t, r))
		}
	}
	for _, o := range res.Outputs {
		walk(o.Value)
	}
	var out []string
	for z := range seen {
		out = append(out, z)
	}
	sort.Strings(out)
	return out
}

// placedIn checks that the cluster sits in zone and that everything placed
// says so: the subnet, every node's user data (Mesos attribute, REX-Ray and
// Flocker config), the Marathon constraint and the availabilityZone output.
func placedIn(t *testing.T, res *pulumimock.Result, zone string) {
	t.Helper()
	subnets := res.OfType(tSubnet)
	if len(subnets) != 1 || subnets[0].String("availabilityZone") != zone {
		t.Errorf("subnet zone %v, want %s", subnets, zone)
	}
	if got := res.Outputs[stackoutputs.AvailabilityZone].Value; got != zone {
		t.Errorf("availabilityZone output %v, want %s", got, zone)
	}
	for _, inst := range res.OfType(tInstance) {
		if ud := userDataOf(t, inst); !strings.Contains(ud, "us-east-1/"+zone+",") {
			t.Errorf("%s user data is not rendered for %s", inst.Name, zone)
		}
	}
	deploy, _ := res.Named(tCommand, "marathon-ha-app-deploy")
	var app struct{ Constraints [][]string }
	if err := json.Unmarshal([]byte(deploy.String("stdin")), &app); err != nil || !slices.ContainsFunc(app.Constraints, func(c []string) bool {
		return slices.Equal(c, []string{"zone", "CLUSTER", zone})
	}) {
		t.Errorf("manifest constraints %v (%v), want zone CLUSTER %s", app.Constraints, err, zone)
	}
	if got := zonesIn(t, res); !slices.Equal(got, []string{zone}) {
		t.Errorf("zones named by the program: %v, want only %s", got, zone)
	}
}

// zoneRun runs the program under m, failing the test on an error.
func zoneRun(t *testing.T, m *pulumimock.Mocks, cfg map[string]string) *pulumimock.Result {
	t.Helper()
	res, err := pulumimock.Run(program, m, "dev", cfg, false)
	if err != nil {
		t.Fatalf("program failed under mocks: %v", err)
	}
	return res
}

// nextRun returns mocks for a later run of the stack that ran under prev:
// the account's default answers and a copy of prev's recorded state (a
// preview's changes to it are thrown away with the copy).
func nextRun(prev *pulumimock.Mocks) *pulumimock.Mocks {
	m := pulumimock.NewMocks()
	m.Stashes = maps.Clone(prev.Stashes)
	return m
}

func withoutType(m *pulumimock.Mocks, zone, typ string) {
	m.Offerings[zone] = slices.DeleteFunc(slices.Clone(m.Offerings[zone]), func(s string) bool { return s == typ })
}

func setZoneState(m *pulumimock.Mocks, zone, state string) {
	for i := range m.Zones {
		if m.Zones[i].Name == zone {
			m.Zones[i].State = state
		}
	}
}

// TestZoneLookupWithoutOptInFilterListsLocalZoneFirst shows what the
// program must filter: the mocks, like EC2, list an opted-in Local Zone,
// and it sorts first.
func TestZoneLookupWithoutOptInFilterListsLocalZoneFirst(t *testing.T) {
	var names []string
	_, err := pulumimock.Run(func(ctx *pulumi.Context) error {
		z, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")})
		if err == nil {
			names = z.Names
		}
		return err
	}, pulumimock.NewMocks(), "dev", baseConfig(), false)
	if err != nil || len(names) == 0 || names[0] != "us-east-1-atl-1a" || slices.Contains(names, "us-east-1-bos-1a") {
		t.Fatalf("state=available lists %v (%v): want the opted-in Local Zone first and not the one not opted in", names, err)
	}
}

func TestZoneIsNeverALocalZone(t *testing.T) {
	for _, preview := range []bool{false, true} {
		// Even a Local Zone offering the instance types is not a zone for
		// the cluster (no classic ELB there, for one).
		m := pulumimock.NewMocks()
		m.Offerings["us-east-1-atl-1a"] = append(m.Offerings["us-east-1-atl-1a"], "m4.large")
		res, err := pulumimock.Run(program, m, "dev", baseConfig(), preview)
		if err != nil {
			t.Fatalf("preview=%v: %v", preview, err)
		}
		placedIn(t, res, "us-east-1a")
	}
}

func TestZoneSkipsZonesLackingAnInstanceType(t *testing.T) {
	t.Run("agent type", func(t *testing.T) {
		m := pulumimock.NewMocks()
		withoutType(m, "us-east-1a", "m4.large")
		placedIn(t, zoneRun(t, m, baseConfig()), "us-east-1b")
	})
	t.Run("master type", func(t *testing.T) {
		m := pulumimock.NewMocks()
		withoutType(m, "us-east-1a", "c4.large")
		withoutType(m, "us-east-1b", "c4.large")
		placedIn(t, zoneRun(t, m, baseConfig("masterInstanceType", "c4.large")), "us-east-1c")
	})
}

func TestZoneErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m *pulumimock.Mocks)
		cfg   map[string]string
		want  string
	}{
		{"configured zone lacks both types", func(m *pulumimock.Mocks) { withoutType(m, "us-east-1b", "m4.large") },
			baseConfig("availabilityZone", "us-east-1b"),
			`marathon-ha:availabilityZone = "us-east-1b": does not offer instance type m4.large (marathon-ha:masterInstanceType, marathon-ha:agentInstanceType); zones of us-east-1 offering every configured type: us-east-1a, us-east-1c`},
		{"configured zone lacks the agents' type", func(m *pulumimock.Mocks) { withoutType(m, "us-east-1b", "c4.xlarge") },
			baseConfig("availabilityZone", "us-east-1b", "agentInstanceType", "c4.xlarge"),
			`marathon-ha:availabilityZone = "us-east-1b": does not offer instance type c4.xlarge (marathon-ha:agentInstanceType)`},
		{"configured zone impaired", func(m *pulumimock.Mocks) { setZoneState(m, "us-east-1b", "impaired") },
			baseConfig("availabilityZone", "us-east-1b"),
			`marathon-ha:availabilityZone = "us-east-1b": is not an available zone of us-east-1; available: us-east-1a, us-east-1c`},
		{"no zone offers the type", func(m *pulumimock.Mocks) {
			for _, z := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
				withoutType(m, z, "m4.large")
			}
		}, baseConfig(), "no available zone of us-east-1 offers both marathon-ha:masterInstanceType m4.large and marathon-ha:agentInstanceType m4.large (zones checked: us-east-1a, us-east-1b, us-east-1c)"},
		{"a Local Zone offers it", func(m *pulumimock.Mocks) {
			for _, z := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
				withoutType(m, z, "m4.large")
			}
			m.Offerings["us-east-1-atl-1a"] = append(m.Offerings["us-east-1-atl-1a"], "m4.large")
		}, baseConfig(), "no available zone of us-east-1 offers both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := pulumimock.NewMocks()
			tt.setup(m)
			res, err := pulumimock.Run(program, m, "dev", tt.cfg, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			for _, r := range res.Resources {
				if r.Custom && !strings.HasPrefix(r.Type, "pulumi:providers:") {
					t.Errorf("%s was registered before the zone error", r.Key())
				}
			}
		})
	}
}

// TestZoneStaysPut runs the stack twice: the second run sees a region
// whose look-up now answers another zone, and keeps the first run's.
func TestZoneStaysPut(t *testing.T) {
	tests := []struct {
		name          string
		first, second func(m *pulumimock.Mocks)
		want          string
	}{
		{"the zone is no longer available", nil, func(m *pulumimock.Mocks) { setZoneState(m, "us-east-1a", "impaired") }, "us-east-1a"},
		{"the zone no longer offers the type", nil, func(m *pulumimock.Mocks) { withoutType(m, "us-east-1a", "m4.large") }, "us-east-1a"},
		{"an eligible zone sorting first appears, and a Local Zone", func(m *pulumimock.Mocks) { withoutType(m, "us-east-1a", "m4.large") },
			func(m *pulumimock.Mocks) {
				m.Zones = append(m.Zones, pulumimock.Zone{Name: "us-east-1-mia-1a", ID: "use1-mia1-az1", State: "available",
					OptInStatus: "opted-in", Type: "local-zone", Group: "us-east-1-mia-1"})
				m.Offerings["us-east-1-mia-1a"] = []string{"m4.large"}
			}, "us-east-1b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := pulumimock.NewMocks()
			if tt.first != nil {
				tt.first(first)
			}
			placedIn(t, zoneRun(t, first, baseConfig()), tt.want)

			for _, preview := range []bool{true, false} {
				second := nextRun(first)
				tt.second(second)
				res, err := pulumimock.Run(program, second, "dev", baseConfig(), preview)
				if err != nil {
					t.Fatal(err)
				}
				if rec, _ := res.Named(tStash, zoneRecord); rec.String("input") == tt.want {
					t.Fatalf("the look-up still answers %s: the test changes nothing", tt.want)
				}
				placedIn(t, res, tt.want)
				if s := second.Stashes[zoneRecord]; s.Step != "update" {
					t.Errorf("preview=%v: zone record %s, want update (kept output, no replacement)", preview, s.Step)
				}
			}
		})
	}
}

// TestZoneRecordStepsAcrossRuns walks the record through the steps the
// engine would take: neither look-up changes nor config changes move the
// cluster; a configured zone other than the recorded one is refused before
// anything is registered that reads the zone. A record made by an earlier
// version, with a replacementTrigger, is not replaced either: the trigger is
// null now, and null on either side means no trigger.
func TestZoneRecordStepsAcrossRuns(t *testing.T) {
	steps := []struct {
		name     string
		zone     string // availabilityZone config
		change   func(m *pulumimock.Mocks)
		wantStep string // "" when the run is refused
		wantZone string
	}{
		{"first up", "", nil, "create", "us-east-1a"},
		{"look-up now answers us-east-1b", "", func(m *pulumimock.Mocks) { setZoneState(m, "us-east-1a", "impaired") }, "update", "us-east-1a"},
		{"pin the zone it is in", "us-east-1a", nil, "update", "us-east-1a"},
		{"move it: refused", "us-east-1c", nil, "", "us-east-1a"},
		{"run again", "us-east-1a", nil, "same", "us-east-1a"},
		{"recorded by an earlier version, with a trigger", "", func(m *pulumimock.Mocks) {
			rec := m.Stashes[zoneRecord]
			rec.Trigger = resource.NewStringProperty("us-east-1a")
			m.Stashes[zoneRecord] = rec
		}, "same", "us-east-1a"},
		{"unset: stays", "", nil, "same", "us-east-1a"},
	}
	var prev *pulumimock.Mocks
	for _, s := range steps {
		m := pulumimock.NewMocks()
		if prev != nil {
			m = nextRun(prev)
		}
		if s.change != nil {
			s.change(m)
		}
		cfg := baseConfig()
		if s.zone != "" {
			cfg = baseConfig("availabilityZone", s.zone)
		}
		if s.wantStep == "" {
			for _, preview := range []bool{true, false} {
				res, err := pulumimock.Run(program, nextRun(prev), "dev", cfg, preview)
				if err == nil || !strings.Contains(err.Error(), "marathon-ha:availabilityZone") || !strings.Contains(err.Error(), "new stack") {
					t.Errorf("%s (preview %v): %v, want a refusal naming the key and the way to move", s.name, preview, err)
				}
				if got := res.OfType(tSubnet); len(got) > 0 {
					t.Errorf("%s: a subnet was registered before the refusal: %v", s.name, got[0].Input("availabilityZone"))
				}
			}
			continue
		}
		res := zoneRun(t, m, cfg)
		rec := m.Stashes[zoneRecord]
		if rec.Step != s.wantStep || rec.Output.StringValue() != s.wantZone {
			t.Errorf("%s: record %s to %v, want %s to %s", s.name, rec.Step, rec.Output, s.wantStep, s.wantZone)
		}
		if !rec.Trigger.IsNull() {
			t.Errorf("%s: replacement trigger %v, want none: the record must never be replaced", s.name, rec.Trigger)
		}
		placedIn(t, res, s.wantZone)
		prev = m
	}
}

func TestZoneRecordIsAChildOfTheCluster(t *testing.T) {
	res := run(t, "dev", baseConfig())
	rec, ok := res.Named(tStash, zoneRecord)
	if !ok || !rec.Custom || rec.Parent != "marathon-ha:index:Cluster::marathon-ha" || rec.String("input") != "us-east-1a" {
		t.Fatalf("zone record %+v: want a stash under the cluster whose input is the look-up", rec)
	}
	if len(rec.IgnoreChanges) != 0 {
		t.Errorf("zone record ignores %v: the stash itself keeps its first input", rec.IgnoreChanges)
	}
}

// TestAMILookupFindsDeprecatedImages runs after the newest focal serial's
// deprecation time: without includeDeprecated the lookup finds nothing.
func TestAMILookupFindsDeprecatedImages(t *testing.T) {
	m := pulumimock.NewMocks()
	m.Now = time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	_, err := pulumimock.Run(func(ctx *pulumi.Context) error {
		_, err := ec2.LookupAmi(ctx, &ec2.LookupAmiArgs{Owners: []string{pulumimock.CanonicalOwner}, MostRecent: pulumi.BoolRef(true),
			Filters: []ec2.GetAmiFilter{{Name: "name", Values: []string{"ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-*"}}}})
		return err
	}, m, "dev", baseConfig(), false)
	if err == nil || !strings.Contains(err.Error(), "Your query returned no results") {
		t.Fatalf("a lookup without includeDeprecated, all images deprecated: %v, want the provider's no-results error", err)
	}
	res := zoneRun(t, m, baseConfig())
	for _, inst := range res.OfType(tInstance) {
		if inst.String("ami") != "ami-0123456789abcdef0" {
			t.Errorf("%s AMI %s, want the newest focal serial, deprecated or not", inst.Name, inst.String("ami"))
		}
		if !slices.Contains(inst.IgnoreChanges, "ami") {
			t.Errorf("%s: a looked-up AMI must be ignored once the node exists (ignoreChanges %v)", inst.Name, inst.IgnoreChanges)
		}
	}
}

// TestExplicitAMISkipsTheNameLookupAndCanMoveNodes: amiId is looked up by
// its id alone (for its root device, pickAMI): an image of another owner
// whose name no filter matches is found, and one the account cannot see
// stops the preview naming amiId.
func TestExplicitAMISkipsTheNameLookupAndCanMoveNodes(t *testing.T) {
	mocks := func() *pulumimock.Mocks {
		m := pulumimock.NewMocks()
		// The only image: a prepared one of another account, shared with
		// this one; any lookup by owner or name would fail.
		m.Images = []pulumimock.Image{{ID: "ami-0abcdef1234567890", Name: "team-prepared-mesos-20261101", Owner: "210987654321",
			Architecture: "x86_64", VirtualizationType: "hvm", RootDeviceType: "ebs", Created: m.Now.AddDate(0, -1, 0)}}
		return m
	}
	if _, err := pulumimock.Run(program, mocks(), "dev", baseConfig("amiId", "ami-0fffffffffffffff0"), true); err == nil ||
		!strings.Contains(err.Error(), "marathon-ha:amiId ami-0fffffffffffffff0: no x86_64 HVM EBS-backed image with that id") {
		t.Errorf("an amiId the account cannot see: %v, want the preview stopped naming amiId", err)
	}
	res := zoneRun(t, mocks(), baseConfig("amiId", "ami-0abcdef1234567890"))
	insts := res.OfType(tInstance)
	if len(insts) != 1 {
		t.Fatalf("%d instances, want the master (the agents are a group)", len(insts))
	}
	if lt := res.OfType(tLaunchTemplate); len(lt) != 1 || lt[0].String("imageId") != "ami-0abcdef1234567890" || slices.Contains(lt[0].IgnoreChanges, "imageId") {
		t.Errorf("the agents' launch template %+v: want the explicit AMI, not ignored", lt)
	}
	for _, inst := range insts {
		if inst.String("ami") != "ami-0abcdef1234567890" {
			t.Errorf("%s AMI %s", inst.Name, inst.String("ami"))
		}
		// Not ignored: a new amiId is a diff on ami, which forces new
		// instances; ignored, even --replace would keep the old image
		// (pulumi/pulumi#2657).
		if slices.Contains(inst.IgnoreChanges, "ami") {
			t.Errorf("%s ignores changes to an explicit AMI, so setting amiId could never move it", inst.Name)
		}
	}
}
