package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/components"
	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

const (
	tGroup          = "aws:autoscaling/group:Group"
	tLaunchTemplate = "aws:ec2/launchTemplate:LaunchTemplate"
	groupName       = "marathon-ha-agents-group"
	templateName    = "marathon-ha-agents-template"
)

func agentGroup(t *testing.T, res *pulumimock.Result) (group, template pulumimock.Resource) {
	t.Helper()
	g, ok := res.Named(tGroup, groupName)
	lt, ok2 := res.Named(tLaunchTemplate, templateName)
	if !ok || !ok2 {
		t.Fatalf("no agents' group (%v) or launch template (%v)", ok, ok2)
	}
	return g, lt
}

// groupTagsOf are the group's tags: key -> value, and which propagate.
func groupTagsOf(g pulumimock.Resource) (map[string]string, map[string]bool) {
	values, propagated := map[string]string{}, map[string]bool{}
	list, _ := g.Input("tags").([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		k := fmt.Sprint(m["key"])
		values[k] = fmt.Sprint(m["value"])
		propagated[k] = m["propagateAtLaunch"] == true
	}
	return values, propagated
}

// TestAgentGroupInputs is issue 21's "the group's inputs": REX-Ray's
// agents are a group of agentCount in the cluster's subnet, registered
// with the ELB by the group, checked by EC2 (not the ELB, which fails
// every app-less agent), tagged at launch with the stack's tags, and
// launched with the fixed agents' IMDS and root volume settings.
func TestAgentGroupInputs(t *testing.T) {
	for _, n := range []int{2, 3, 5} {
		t.Run(fmt.Sprintf("%d agents", n), func(t *testing.T) {
			res := run(t, "dev", baseConfig("agentCount", fmt.Sprint(n)))
			g, lt := agentGroup(t, res)
			for _, k := range []string{"minSize", "maxSize", "desiredCapacity"} {
				if g.Input(k) != float64(n) {
					t.Errorf("%s = %v, want agentCount %d", k, g.Input(k), n)
				}
			}
			if g.String("healthCheckType") != "EC2" || g.Input("healthCheckGracePeriod") != float64(300) {
				t.Errorf("health check %s, grace %v: want EC2 and 300 s", g.String("healthCheckType"), g.Input("healthCheckGracePeriod"))
			}
			subnets := res.OfType(tSubnet)
			if len(subnets) != 1 {
				t.Fatalf("%d subnets", len(subnets))
			}
			subnet := subnets[0]
			if zones, _ := g.Input("vpcZoneIdentifiers").([]any); len(zones) != 1 || !slices.Contains(g.PropertyDependencies["vpcZoneIdentifiers"], subnet.Key()) {
				t.Errorf("vpcZoneIdentifiers %v (from %v): want the cluster's one subnet", zones, g.PropertyDependencies["vpcZoneIdentifiers"])
			}
			elb := res.OfType(tELB)[0]
			if lbs, _ := g.Input("loadBalancers").([]any); len(lbs) != 1 || lbs[0] != elb.String("name") || !slices.Contains(g.Dependencies, elb.Key()) {
				t.Errorf("loadBalancers %v, want the ELB %s, and the group waiting for it", lbs, elb.String("name"))
			}
			if len(res.OfType("aws:elb/attachment:Attachment")) != 0 {
				t.Error("an attachment registers an agent besides the group's load_balancers")
			}
			if _, ok := g.Inputs["waitForElbCapacity"]; ok {
				t.Error("waitForElbCapacity is set: app-less agents never pass the ELB's check, so up would wait forever")
			}
			if _, ok := g.Inputs["minElbCapacity"]; ok {
				t.Error("minElbCapacity is set: app-less agents never pass the ELB's check")
			}
			spec, _ := g.Input("launchTemplate").(map[string]any)
			if spec["id"] != "lt-0"+spec["id"].(string)[4:] || spec["version"] != "1" {
				t.Errorf("launchTemplate %v: want the template's id and its latest version number", spec)
			}

			values, propagated := groupTagsOf(g)
			want := map[string]string{"Name": "dev-agent", facts.TagProject: facts.Project, facts.TagStack: "dev", facts.TagRole: facts.RoleAgent}
			for k, v := range want {
				if values[k] != v || !propagated[k] {
					t.Errorf("tag %s = %q (propagated %v), want %q propagated at launch", k, values[k], propagated[k], v)
				}
			}
			if id := values[facts.TagClusterID]; !strings.HasPrefix(id, "mha-") || !propagated[facts.TagClusterID] {
				t.Errorf("tag %s = %q (propagated %v)", facts.TagClusterID, id, propagated[facts.TagClusterID])
			}

			md, _ := lt.Input("metadataOptions").(map[string]any)
			if md["httpTokens"] != "optional" || md["httpPutResponseHopLimit"] != float64(1) || md["httpEndpoint"] != "enabled" {
				t.Errorf("metadata options %v: want the agents' (tokens optional, hop limit 1)", md)
			}
			bdm, _ := lt.Input("blockDeviceMappings").([]any)
			if len(bdm) != 1 {
				t.Fatalf("block device mappings %v", bdm)
			}
			root := bdm[0].(map[string]any)
			ebs, _ := root["ebs"].(map[string]any)
			if root["deviceName"] != "/dev/sda1" || ebs["encrypted"] != "true" || ebs["volumeType"] != "gp3" || ebs["volumeSize"] != float64(30) || ebs["deleteOnTermination"] != "true" {
				t.Errorf("root volume %v: want the fixed agents' (encrypted gp3, 30 GiB, deleted with the instance)", root)
			}
			specs, _ := lt.Input("tagSpecifications").([]any)
			if len(specs) != 1 || specs[0].(map[string]any)["resourceType"] != "volume" {
				t.Errorf("tag specifications %v: want the root volume's alone (the instance's come from the group)", specs)
			}
			if ud := userDataOf(t, lt); !strings.Contains(ud, "MHA_NODE='agent'\n") {
				t.Error("the launch template's user data does not render the group's agent")
			}
		})
	}
}

// withRootDevice answers getAmi as the mocks do but for the root device
// name: an image that is not Canonical's (Amazon Linux's is /dev/xvda).
type withRootDevice struct {
	*pulumimock.Mocks
	name string
}

func (m withRootDevice) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	out, err := m.Mocks.Call(args)
	if err == nil && args.Token == "aws:ec2/getAmi:getAmi" {
		out["rootDeviceName"] = resource.NewStringProperty(m.name)
	}
	return out, err
}

// TestRootDeviceIsTheAMIs: the launch template's root mapping names the
// root device of the AMI the nodes boot, looked up or configured, in
// preview as in up: a mapping under another name would leave the root
// volume at the AMI's size, unencrypted, and add an empty volume beside it
// (EC2 User Guide, "Block device mappings"). An AMI naming none stops the
// program.
func TestRootDeviceIsTheAMIs(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    map[string]string
		device string
	}{
		{"looked up", baseConfig(), "/dev/xvda"},
		{"amiId", baseConfig("amiId", "ami-0123456789abcdef0"), "/dev/xvda"},
		{"none", baseConfig(), ""},
	} {
		for _, preview := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, preview %v", c.name, preview), func(t *testing.T) {
				m := pulumimock.NewMocks()
				cfg := map[string]string{}
				for k, v := range c.cfg {
					if !strings.Contains(k, ":") {
						k = facts.Project + ":" + k
					}
					cfg[k] = v
				}
				err := pulumi.RunErr(program, pulumi.WithMocks(facts.Project, "dev", withRootDevice{m, c.device}), func(info *pulumi.RunInfo) {
					info.Config, info.DryRun = cfg, preview
				})
				if c.device == "" {
					if err == nil || !strings.Contains(err.Error(), "names no root device") {
						t.Errorf("an AMI without a root device name: %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				_, lt := agentGroup(t, &pulumimock.Result{Resources: m.Resources()})
				bdm, _ := lt.Input("blockDeviceMappings").([]any)
				if len(bdm) != 1 || bdm[0].(map[string]any)["deviceName"] != c.device {
					t.Errorf("block device mappings %v: want the AMI's root device %s", bdm, c.device)
				}
			})
		}
	}
}

// TestFencerMayTerminateGroupAgents: the masters' fencer may terminate an
// instance only if it carries this cluster's id and role=agent
// (components.MasterPolicy); the group propagates exactly those tags at
// launch, so a replacement is fenceable from its first moment.
func TestFencerMayTerminateGroupAgents(t *testing.T) {
	res := run(t, "dev", baseConfig())
	g, _ := agentGroup(t, res)
	values, propagated := groupTagsOf(g)
	found := false
	for _, p := range res.OfType(tPolicy) {
		var doc components.PolicyDocument
		if err := json.Unmarshal([]byte(p.String("policy")), &doc); err != nil {
			t.Fatal(err)
		}
		for _, st := range doc.Statement {
			if st.Sid != "FenceOwnAgents" {
				continue
			}
			found = true
			for key, want := range st.Condition["StringEquals"] {
				tag := strings.TrimPrefix(key, "aws:ResourceTag/")
				if !propagated[tag] || !slices.Equal(want, []string{values[tag]}) {
					t.Errorf("the fencer's condition %s = %v, but the group launches agents with %s = %q (propagated %v)", key, want, tag, values[tag], propagated[tag])
				}
			}
		}
	}
	if !found {
		t.Fatal("no FenceOwnAgents statement")
	}
}

// TestAgentGroupDestroyOrder: the group depends on the volume clean-up, so
// a destroy deletes the group (the provider drains it and waits for its
// instances to be terminated) before the clean-up runs.
func TestAgentGroupDestroyOrder(t *testing.T) {
	res := run(t, "dev", baseConfig())
	g, lt := agentGroup(t, res)
	cleanup := named(t, res.Resources, tCommand, cleanupName)
	if !slices.Contains(g.Dependencies, cleanup.Key()) {
		t.Fatalf("the group does not depend on the clean-up: %v", g.Dependencies)
	}
	if _, ok := g.Inputs["forceDelete"]; ok {
		t.Error("forceDelete is set: the provider would delete the group without waiting for its instances")
	}
	rounds := deleteOrder([]pulumimock.Resource{cleanup, g, lt})
	last := rounds[len(rounds)-1]
	if !slices.Equal(last, []string{cleanup.Key()}) || slices.Contains(rounds[0], cleanup.Key()) {
		t.Errorf("delete order %v: the clean-up must come last, after the group", rounds)
	}
	if slices.IndexFunc(rounds, func(r []string) bool { return slices.Contains(r, g.Key()) }) > slices.IndexFunc(rounds, func(r []string) bool { return slices.Contains(r, lt.Key()) }) {
		t.Errorf("delete order %v: the group goes before its launch template", rounds)
	}
}

// TestInstanceRefreshPolicy: a new launch template version replaces agents
// one at a time, terminating one and keeping the rest in service.
func TestInstanceRefreshPolicy(t *testing.T) {
	for n := 2; n <= 10; n++ {
		min := components.RefreshMinHealthyPercentage(n)
		// The group keeps ceil(n x min / 100) in service (RefreshPreferences).
		if kept := (n*min + 99) / 100; kept != n-1 {
			t.Errorf("%d agents, min healthy %d%%: keeps %d in service, want %d (one replaced at a time)", n, min, kept, n-1)
		}
	}
	res := run(t, "dev", baseConfig("agentCount", "3"))
	g, _ := agentGroup(t, res)
	want := map[string]any{"strategy": "Rolling", "preferences": map[string]any{"minHealthyPercentage": float64(66), "maxHealthyPercentage": float64(100)}}
	if got := g.Input("instanceRefresh"); !reflect.DeepEqual(got, want) {
		t.Errorf("instanceRefresh %v, want %v", got, want)
	}
}

// TestGroupAgreesWithPulumi: nothing in the program names the group's
// instances, so an up after the group replaced agents registers the same
// inputs (no diff), and agentCount changes only the group's sizes, an
// update in place (none of them forces a new group: terraform-provider-aws
// internal/service/autoscaling/group.go, min_size/max_size/desired_capacity
// without ForceNew).
func TestGroupAgreesWithPulumi(t *testing.T) {
	a, b := run(t, "dev", baseConfig()), run(t, "dev", baseConfig())
	for _, typ := range []string{tGroup, tLaunchTemplate} {
		ra, rb := a.OfType(typ), b.OfType(typ)
		if len(ra) != 1 || len(rb) != 1 || !reflect.DeepEqual(pulumimock.Plain(resource.NewObjectProperty(ra[0].Inputs)), pulumimock.Plain(resource.NewObjectProperty(rb[0].Inputs))) {
			t.Errorf("%s inputs differ between two runs of the same config: a no-change up would show a diff", typ)
		}
	}
	for _, typ := range []string{"aws:elb/attachment:Attachment", tInstance} {
		for _, r := range a.OfType(typ) {
			if strings.HasPrefix(r.Name, "marathon-ha-agents") || strings.HasPrefix(r.Name, "marathon-ha-elb-agent") {
				t.Errorf("%s %s names an agent: the group's replacements would show as drift", typ, r.Name)
			}
		}
	}
	c := run(t, "dev", baseConfig("agentCount", "4"))
	ga, _ := agentGroup(t, a)
	gc, _ := agentGroup(t, c)
	changed := []string{}
	for k := range gc.Inputs {
		if !reflect.DeepEqual(pulumimock.Plain(ga.Inputs[k]), pulumimock.Plain(gc.Inputs[k])) {
			changed = append(changed, string(k))
		}
	}
	slices.Sort(changed)
	if want := []string{"desiredCapacity", "instanceRefresh", "maxSize", "minSize"}; !slices.Equal(changed, want) {
		t.Errorf("agentCount 2 -> 4 changes %v, want %v", changed, want)
	}
}

// TestFlockerKeepsFixedAgents: Flocker's agents keep their per-node
// certificates, so they stay instances, attached to the ELB one by one.
func TestFlockerKeepsFixedAgents(t *testing.T) {
	res := run(t, "dev", flockerConfig())
	if len(res.OfType(tGroup))+len(res.OfType(tLaunchTemplate)) != 0 {
		t.Error("flocker agents in a group: a launched agent would have no node certificate")
	}
	if n := len(res.OfType("aws:elb/attachment:Attachment")); n != 2 {
		t.Errorf("%d attachments, want one per fixed agent", n)
	}
}

// TestGraceCoversTheAgentBoot: the group's grace period leaves a new agent
// its whole boot budget before the first health check.
func TestGraceCoversTheAgentBoot(t *testing.T) {
	b, err := bootbudget.New(facts.VolumeDriverRexRay)
	if err != nil {
		t.Fatal(err)
	}
	var boot time.Duration
	for _, st := range b.Steps {
		if st.Role == facts.RoleAgent {
			boot += time.Duration(st.Seconds * float64(time.Second))
		}
	}
	if boot == 0 || boot >= components.GroupHealthCheckGracePeriod {
		t.Errorf("agent boot budget %s, grace period %s: want the boot inside the grace", boot, components.GroupHealthCheckGracePeriod)
	}
}
