package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ststest"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

const cleanupName = "marathon-ha-agents-volume-cleanup"

// dbrRecorder is the mocks plus what they do not record of each
// registration: whether deleteBeforeReplace was set explicitly, which
// overrides any provider default (pulumi/pulumi step_generator.go: "the
// user can override the provider's decision").
type dbrRecorder struct {
	*pulumimock.Mocks
	mu      sync.Mutex
	defined map[string]bool
}

func (r *dbrRecorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if rpc := args.RegisterRPC; rpc != nil {
		r.mu.Lock()
		r.defined[args.Name] = rpc.GetDeleteBeforeReplaceDefined()
		r.mu.Unlock()
	}
	return r.Mocks.NewResource(args)
}

// runStack runs the program as stack under m, as pulumimock.Run does, and
// returns what was registered and which resources set deleteBeforeReplace.
func runStack(t *testing.T, m *pulumimock.Mocks, stack string, config map[string]string) ([]pulumimock.Resource, map[string]bool) {
	t.Helper()
	cfg := map[string]string{}
	for k, v := range config {
		if !strings.Contains(k, ":") {
			k = facts.Project + ":" + k
		}
		cfg[k] = v
	}
	rec := &dbrRecorder{Mocks: m, defined: map[string]bool{}}
	err := pulumimock.RunErr(program, m, pulumi.WithMocks(facts.Project, stack, rec), func(info *pulumi.RunInfo) { info.Config = cfg })
	if err != nil {
		t.Fatalf("program failed under mocks: %v", err)
	}
	return m.Resources(), rec.defined
}

func named(t *testing.T, rs []pulumimock.Resource, typ, name string) pulumimock.Resource {
	t.Helper()
	for _, r := range rs {
		if r.Type == typ && r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return pulumimock.Resource{}
}

func cleanupEnv(r pulumimock.Resource) map[string]string {
	out := map[string]string{}
	m, _ := r.Input("environment").(map[string]any)
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func TestVolumeCleanupIsKeyedByItsSelector(t *testing.T) {
	tests := []struct {
		name   string
		cfg    map[string]string
		tagKey string
	}{
		{"rexray", baseConfig(), facts.TagName},
		{"flocker with aws:profile", flockerConfig("aws:profile", "demo"), facts.TagFlockerClusterID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, defined := runStack(t, pulumimock.NewMocks(), "dev", tt.cfg)
			c := named(t, rs, tCommand, cleanupName)
			env := cleanupEnv(c)
			id := env["MHA_CLUSTER_ID"]
			tagValue := env["MHA_VOLUME_NAME"]
			if tt.tagKey == facts.TagFlockerClusterID {
				tagValue = env["MHA_FLOCKER_CLUSTER_UUID"]
			}
			if id == "" || tagValue == "" {
				t.Fatalf("environment %v lacks the cluster id or the tag value", env)
			}
			want := []any{"us-east-1", "123456789012", env["MHA_VOLUME_DRIVER"], id, tt.tagKey, tagValue}
			if got, _ := c.Input("triggers").([]any); !reflect.DeepEqual(got, want) {
				t.Errorf("triggers %v, want exactly the selector %v: a change in anything else would replace the clean-up and run it against the live volume", got, want)
			}
			if env["MHA_ACCOUNT_ID"] != "123456789012" || env["MHA_REGION"] != "us-east-1" || env["AWS_REGION"] != "us-east-1" {
				t.Errorf("environment %v: want the stack's account and region", env)
			}
			profile, hasProfile := tt.cfg["aws:profile"]
			if hasProfile && (env["MHA_AWS_PROFILE"] != profile || env["AWS_PROFILE"] != profile) {
				t.Errorf("environment %v: want aws:profile %q as MHA_AWS_PROFILE and AWS_PROFILE", env, profile)
			}
			if _, set := env["AWS_PROFILE"]; !hasProfile && set {
				t.Errorf("environment %v sets AWS_PROFILE for a stack without aws:profile", env)
			}
			if c.DeleteBeforeReplace || !defined[cleanupName] {
				t.Errorf("deleteBeforeReplace %v (set: %v): want false, set explicitly, so the old clean-up runs after its agents are gone", c.DeleteBeforeReplace, defined[cleanupName])
			}
			for _, r := range rs {
				if r.Type == tInstance && strings.HasPrefix(r.Name, "marathon-ha-agents-") && !slices.Contains(r.Dependencies, tCommand+"::"+cleanupName) {
					t.Errorf("agent %s does not depend on the clean-up: Pulumi could delete the clean-up first", r.Name)
				}
			}
		})
	}
}

// commandDiff is pulumi-command v1.2.1's answer to a change of a
// local.Command's inputs: the keys that changed, and whether it is a
// replacement. Only `triggers` carries replaceOnChanges
// (provider/pkg/provider/common/inputs.go); any other change is an update,
// which without an `update` or `create` command runs nothing and stores the
// new inputs (provider/pkg/provider/local/commandController.go, Update).
func commandDiff(old, new resource.PropertyMap) (changed []string, replace bool) {
	keys := map[resource.PropertyKey]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range new {
		keys[k] = true
	}
	for k := range keys {
		if !reflect.DeepEqual(pulumimock.Plain(old[k]), pulumimock.Plain(new[k])) {
			changed = append(changed, string(k))
			replace = replace || k == "triggers"
		}
	}
	slices.Sort(changed)
	return changed, replace
}

// deleteOrder is the engine's order of deletes over condemned resources
// (pulumi/pulumi pkg/resource/deploy/step_generator.go, ScheduleDeletes): a
// resource is deleted once no condemned resource it is a dependency of is
// left. It returns the antichains, first deleted first.
func deleteOrder(condemned []pulumimock.Resource) [][]string {
	left := map[string]pulumimock.Resource{}
	for _, r := range condemned {
		left[r.Key()] = r
	}
	var rounds [][]string
	for len(left) > 0 {
		var round []string
		for key := range left {
			dependedOn := false
			for _, other := range left {
				dependedOn = dependedOn || slices.Contains(other.Dependencies, key) || other.Parent == key
			}
			if !dependedOn {
				round = append(round, key)
			}
		}
		if len(round) == 0 {
			return append(rounds, []string{"cycle"})
		}
		slices.Sort(round)
		for _, k := range round {
			delete(left, k)
		}
		rounds = append(rounds, round)
	}
	return rounds
}

// TestDriverSwitchReplacesTheCleanupWithTheOldSelector is issue 10's
// "mock run of a stack whose driver changed": the same stack updated from
// rexray to flocker. The clean-up is replaced (not updated), after the old
// agents are deleted, and the old one, run as pulumi-command runs a delete,
// deletes the old driver's volume and nothing else.
func TestDriverSwitchReplacesTheCleanupWithTheOldSelector(t *testing.T) {
	m1 := pulumimock.NewMocks()
	before, _ := runStack(t, m1, "dev", baseConfig())
	m2 := pulumimock.NewMocks()
	m2.Stashes = m1.Stashes // the same stack's state
	after, _ := runStack(t, m2, "dev", flockerConfig("confirmVolumeDriverSwitch", "flocker"))

	oldCleanup, newCleanup := named(t, before, tCommand, cleanupName), named(t, after, tCommand, cleanupName)
	changed, replace := commandDiff(oldCleanup.Inputs, newCleanup.Inputs)
	if !replace {
		t.Fatalf("changed %v without triggers: pulumi-command would update the clean-up, overwrite the rexray selector with flocker's, and leak the old volume", changed)
	}
	if !slices.Contains(changed, "environment") {
		t.Errorf("changed %v: the environment must change too (it is what the new clean-up deletes by)", changed)
	}
	oldEnv, newEnv := cleanupEnv(oldCleanup), cleanupEnv(newCleanup)
	if oldEnv["MHA_CLUSTER_ID"] != newEnv["MHA_CLUSTER_ID"] || oldEnv["MHA_VOLUME_DRIVER"] != facts.VolumeDriverRexRay || newEnv["MHA_VOLUME_DRIVER"] != facts.VolumeDriverFlocker {
		t.Fatalf("old environment %v, new %v: want the same cluster, rexray then flocker", oldEnv, newEnv)
	}

	// Create before delete: the old clean-up and the old agents (replaced,
	// their user data names the new driver) are condemned and deleted at the
	// end of the update, agents first.
	condemned := []pulumimock.Resource{oldCleanup}
	for _, r := range before {
		// REX-Ray's agents are a group and its launch template, which
		// the flocker stack no longer has: they are deleted.
		if r.Type == tGroup || r.Type == tLaunchTemplate {
			if slices.ContainsFunc(after, func(a pulumimock.Resource) bool { return a.Key() == r.Key() }) {
				t.Errorf("%s outlives the switch to flocker", r.Key())
			}
			condemned = append(condemned, r)
			continue
		}
		if r.Type != tInstance || !strings.HasPrefix(r.Name, "marathon-ha-agents-") {
			continue
		}
		if n := named(t, after, tInstance, r.Name); r.String("userDataBase64") == "" || r.String("userDataBase64") == n.String("userDataBase64") {
			t.Errorf("agent %s keeps its user data across the driver switch: it would not be replaced", r.Name)
		}
		condemned = append(condemned, r)
	}
	rounds := deleteOrder(condemned)
	if last := rounds[len(rounds)-1]; len(rounds) < 2 || !slices.Equal(last, []string{tCommand + "::" + cleanupName}) {
		t.Fatalf("delete order %v: the old clean-up must be deleted last, after the old agents", rounds)
	}

	// The old clean-up's delete, run with the old state's environment.
	id := oldEnv["MHA_CLUSTER_ID"]
	ec2 := ec2test.NewServer(ec2test.WithDetachDelay(10 * time.Millisecond))
	defer ec2.Close()
	sts := ststest.NewServer(ststest.Identity{AccessKeyID: "AKIDSTACK", SecretAccessKey: "stack-secret", Account: "123456789012"})
	defer sts.Close()
	agent := map[string]string{facts.TagClusterID: id, facts.TagRole: facts.RoleAgent}
	ec2.AddInstance(ec2test.Instance{ID: "i-0oldagent", State: ec2test.StateTerminated, Tags: agent})
	ec2.AddInstance(ec2test.Instance{ID: "i-0newagent", Tags: agent})
	ec2.AddVolume(ec2test.Volume{ID: "vol-0rexray", AttachedTo: "i-0oldagent", Tags: map[string]string{facts.TagName: oldEnv["MHA_VOLUME_NAME"]}})
	ec2.AddVolume(ec2test.Volume{ID: "vol-0flocker", AttachedTo: "i-0newagent", Tags: map[string]string{facts.TagFlockerClusterID: newEnv["MHA_FLOCKER_CLUSTER_UUID"]}})

	stdout := runDelete(t, oldCleanup, map[string]string{
		"AWS_ENDPOINT_URL_EC2": ec2.URL, "AWS_ENDPOINT_URL_STS": sts.URL,
		"AWS_ACCESS_KEY_ID": "AKIDSTACK", "AWS_SECRET_ACCESS_KEY": "stack-secret", "MHA_WAIT": "30s",
	})
	if got := ec2.VolumeIDs(); !slices.Equal(got, []string{"vol-0flocker"}) {
		t.Errorf("volumes left %v, want only the new driver's vol-0flocker\n%s", got, stdout)
	}
	for _, want := range []string{"the stack's account 123456789012",
		"looking for REX-Ray volumes of cluster " + id + " (tag Name=" + oldEnv["MHA_VOLUME_NAME"] + ") in us-east-1 of account 123456789012",
		"found 1, deleted 1: vol-0rexray"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("clean-up output lacks %q:\n%s", want, stdout)
		}
	}
	for _, r := range ec2.Requests() {
		if r.Region != "us-east-1" || r.AccessKeyID != "AKIDSTACK" {
			t.Errorf("%s signed by %q for %q", r.Action, r.AccessKeyID, r.Region)
		}
	}
}

// runDelete runs a local.Command's delete as pulumi-command v1.2.1 does
// (provider/pkg/provider/local/commandOutputs.go, run: /bin/sh -c in the
// program's directory, the process's environment followed by the
// resource's), plus extra, the shell the operator runs pulumi from.
func runDelete(t *testing.T, cmd pulumimock.Resource, extra map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the delete command is `go run`, and go is not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd.String("delete"))
	c.Env = append(os.Environ(), "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PROFILE=", "AWS_SESSION_TOKEN=", "AWS_ENDPOINT_URL=")
	for k, v := range extra {
		c.Env = append(c.Env, k+"="+v)
	}
	for k, v := range cleanupEnv(cmd) {
		c.Env = append(c.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", cmd.String("delete"), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestSameSelectorNeverReplacesTheCleanup: what does not change the
// selector (more agents, another aws:profile) leaves the clean-up in place,
// so no update ever runs it against the live cluster's volume.
func TestSameSelectorNeverReplacesTheCleanup(t *testing.T) {
	m1 := pulumimock.NewMocks()
	before, _ := runStack(t, m1, "dev", baseConfig())
	for name, cfg := range map[string]map[string]string{
		"unchanged":      baseConfig(),
		"three agents":   baseConfig("agentCount", "3"),
		"an aws:profile": baseConfig("aws:profile", "demo"),
	} {
		t.Run(name, func(t *testing.T) {
			m := pulumimock.NewMocks()
			m.Stashes = m1.Stashes
			after, _ := runStack(t, m, "dev", cfg)
			changed, replace := commandDiff(named(t, before, tCommand, cleanupName).Inputs, named(t, after, tCommand, cleanupName).Inputs)
			if replace {
				t.Errorf("the clean-up is replaced (changed %v) although its selector is the same", changed)
			}
		})
	}
	res := run(t, "dev", baseConfig())
	if id := res.Outputs[stackoutputs.ClusterID].Value; cleanupEnv(named(t, before, tCommand, cleanupName))["MHA_CLUSTER_ID"] != id {
		t.Errorf("the clean-up's cluster id is not the stack output clusterId %v", id)
	}
}
