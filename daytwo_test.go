package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

// dayTwo runs a stack's first `pulumi up` with first, then a second run
// with second (a preview when preview is set) against the first's state,
// and returns the second run's mocks (their Changes say what the engine
// would do) and result.
func dayTwo(t *testing.T, first, second map[string]string, preview bool) (*pulumimock.Mocks, *pulumimock.Result, error) {
	t.Helper()
	m1 := pulumimock.NewMocks()
	if _, err := pulumimock.Run(program, m1, "dev", first, false); err != nil {
		t.Fatalf("first up: %v", err)
	}
	m2 := pulumimock.NextRun(m1)
	res, err := pulumimock.Run(program, m2, "dev", second, preview)
	return m2, res, err
}

// moved lists the changes that are not "same", as "step type::name".
func moved(m *pulumimock.Mocks) []string {
	var out []string
	for _, c := range m.Changes() {
		if c.Step != pulumimock.StepSame {
			out = append(out, fmt.Sprintf("%s %s %v", c.Step, c.Key, c.Replacing))
		}
	}
	return out
}

// TestRerunChangesNothing: the model's baseline. A second `pulumi up` with
// the same config must be all "same" steps, or every other day-two test
// reads noise.
func TestRerunChangesNothing(t *testing.T) {
	for name, cfg := range map[string]map[string]string{"rexray": baseConfig(), "flocker": flockerConfig(), "ha": baseConfig("masterCount", "3")} {
		t.Run(name, func(t *testing.T) {
			m, _, err := dayTwo(t, cfg, cfg, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := moved(m); len(got) > 0 {
				t.Errorf("a second up with the same config changes:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}

// keyChange is one config key changed on a default stack.
type keyChange struct {
	key, value string
	flocker    bool // change it on a flocker stack (the key matters only there)
	// extra are more keys and values the change needs (a confirmation).
	extra []string
	// mocks, if set, changes the account the second run sees.
	mocks func(*pulumimock.Mocks)
}

// keyChanges change every project key once, to a valid value.
var keyChanges = []keyChange{
	{key: config.KeyAvailabilityZone, value: "us-east-1b"},
	{key: config.KeyMasterCount, value: "3"},
	{key: config.KeyAgentCount, value: "3"},
	{key: config.KeyMasterInstanceType, value: "m4.xlarge"},
	{key: config.KeyAgentInstanceType, value: "m4.xlarge"},
	{key: config.KeyKeyName, value: "operator"},
	{key: config.KeyPublicKey, value: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherKeyOth op2@example"},
	{key: config.KeyOperatorCIDR, value: "198.51.100.0/24"},
	{key: config.KeyOperatorCIDRIsWide, value: "true"},
	{key: config.KeyExposeFlockerAPI, value: "true", flocker: true},
	{key: config.KeyAMIID, value: "ami-0aaaaaaaaaaaaaaa2"},
	{key: config.KeyAMIOwner, value: "123456789012", mocks: func(m *pulumimock.Mocks) {
		img := m.Images[len(m.Images)-2] // the newest focal image, as another account's copy
		img.ID, img.Owner = "ami-0bbbbbbbbbbbbbbb1", "123456789012"
		m.Images = append(m.Images, img)
	}},
	{key: config.KeyAMINameFilter, value: "ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-2025*"},
	{key: config.KeyRootVolumeSize, value: "40"},
	{key: config.KeyRootVolumeSize, value: "20"},
	{key: config.KeyVolumeDriver, value: "flocker", extra: []string{config.KeyConfirmVolumeDriverSwitch, "flocker"}},
	{key: config.KeyAppPort, value: "8600"},
	{key: config.KeyAppManifest, value: "apps/moby-counter.json"},
	{key: config.KeyAgentPingTimeout, value: "20"},
	{key: config.KeyMaxAgentPingTimeouts, value: "6"},
	{key: config.KeySelfFence, value: "5"},
	{key: config.KeyZooKeeperImage, value: "zookeeper:3.4.13"},
	{key: config.KeyMesosMasterImage, value: "mesosphere/mesos-master:1.4.0"},
	{key: config.KeyMesosAgentImage, value: "mesosphere/mesos-slave:1.4.0"},
	{key: config.KeyMesosExecutorImage, value: "mesosphere/mesos:1.4.0"},
	{key: config.KeyMarathonImage, value: "mesosphere/marathon:v1.4.8"},
	{key: config.KeyFlockerControlImage, value: "clusterhq/flocker-control-service:1.14.0", flocker: true},
	{key: config.KeyFlockerAgentImage, value: "clusterhq/flocker-dataset-agent:1.14.0", flocker: true},
	{key: config.KeyFlockerPluginImage, value: "clusterhq/flocker-dockerplugin:1.14.0", flocker: true},
	{key: config.KeyRexRayPlugin, value: "rexray/ebs:0.11.3"},
	{key: config.KeyAWSCLIImage, value: "amazon/aws-cli:2.27.59"},
	{key: config.KeyAppImage, value: "binocarlos/moby-counter:1.0"},
	{key: config.KeyConfirmVolumeDriverSwitch, value: "rexray"},
}

// effect is what one config change does, by kind of resource.
type effect struct {
	change  keyChange
	err     error // the preview's refusal, if any
	steps   map[pulumimock.Step][]string
	masters pulumimock.Step // the worst step of any master
	agents  pulumimock.Step // of any fixed agent's instance (Flocker)
	// refreshed: the agents' Auto Scaling group (REX-Ray) is updated with
	// an instance refresh, which replaces every agent, one at a time.
	refreshed bool
	dataLost  bool // the volume clean-up runs: its delete deletes the app's volume
	// onFlocker is the same change on a flocker stack, for keys that are
	// not Flocker's own; nil when not run.
	onFlocker *effect
}

// stepRank orders steps by how much they disturb.
var stepRank = map[pulumimock.Step]int{pulumimock.StepSame: 0, pulumimock.StepUpdate: 1, pulumimock.StepCreate: 2, pulumimock.StepDelete: 3, pulumimock.StepReplace: 4}

// firstUps are the first runs of the default stacks effectOf changes, by
// flocker: each key's runs start from the same state.
var firstUps = map[bool]*pulumimock.Mocks{}

// effectOf previews, then runs, kc on a default stack of the driver,
// flocker's when flocker is set.
func effectOf(t *testing.T, kc keyChange, flocker bool) effect {
	t.Helper()
	kc.flocker = flocker
	base := baseConfig()
	if kc.flocker {
		base = flockerConfig()
	}
	next := baseConfig(append([]string{kc.key, kc.value}, kc.extra...)...)
	if kc.flocker {
		next = flockerConfig(append([]string{kc.key, kc.value}, kc.extra...)...)
	}
	if kc.key == config.KeyKeyName {
		delete(next, config.KeyPublicKey)
	}
	e := effect{change: kc, steps: map[pulumimock.Step][]string{}}
	m1 := firstUps[kc.flocker]
	if m1 == nil {
		m1 = pulumimock.NewMocks()
		if _, err := pulumimock.Run(program, m1, "dev", base, false); err != nil {
			t.Fatalf("first up: %v", err)
		}
		firstUps[kc.flocker] = m1 // NextRun copies what a later run changes
	}
	second := func() *pulumimock.Mocks {
		m := pulumimock.NextRun(m1)
		m.KeyPairs = []string{"operator"}
		if kc.mocks != nil {
			kc.mocks(m)
		}
		return m
	}
	m2 := second()
	if _, e.err = pulumimock.Run(program, m2, "dev", next, true); e.err != nil {
		return e
	}
	m2 = second()
	if _, err := pulumimock.Run(program, m2, "dev", next, false); err != nil {
		t.Fatalf("%s=%s: the preview passed, the up failed: %v", kc.key, kc.value, err)
	}
	worst := func(cur, s pulumimock.Step) pulumimock.Step {
		if cur == "" || stepRank[s] > stepRank[cur] {
			return s
		}
		return cur
	}
	for _, c := range m2.Changes() {
		typ, name, _ := strings.Cut(c.Key, "::")
		if c.Step == pulumimock.StepSame {
			continue
		}
		short := typ[strings.LastIndex(typ, ":")+1:] + " " + strings.TrimPrefix(name, "marathon-ha-")
		e.steps[c.Step] = append(e.steps[c.Step], short)
		switch {
		case typ == tInstance && strings.Contains(name, "-masters-"):
			e.masters = worst(e.masters, c.Step)
		case typ == tInstance && strings.Contains(name, "-agents-"):
			e.agents = worst(e.agents, c.Step)
		case typ == tGroup && strings.Contains(name, "-agents-"):
			e.refreshed = e.refreshed || c.Refresh
		case typ == tCommand && strings.HasSuffix(name, "-volume-cleanup"):
			e.dataLost = e.dataLost || c.Step == pulumimock.StepReplace || c.Step == pulumimock.StepDelete
		}
	}
	return e
}

// TestEveryKeyChangeSaysWhatItReplaces changes each key on a default stack
// and checks that the key's description says so when the change replaces
// the masters or the agents, or deletes the app's data, or is refused; the
// whole table is docs/day-two.md (rewritten with -update).
func TestEveryKeyChangeSaysWhatItReplaces(t *testing.T) {
	var keys []string
	for _, kc := range keyChanges {
		keys = append(keys, kc.key)
	}
	for _, k := range config.Keys {
		if !slices.Contains(keys, k.Name) {
			t.Errorf("key %s has no change in keyChanges", k.Name)
		}
	}
	var effects []effect
	for _, kc := range keyChanges {
		e := effectOf(t, kc, kc.flocker)
		checkSays(t, e)
		// A key that is not Flocker's own is changed on a flocker stack
		// too: its description must hold for the fixed agents as well.
		// The driver keys change the driver itself.
		if !kc.flocker && kc.key != config.KeyVolumeDriver && kc.key != config.KeyConfirmVolumeDriverSwitch {
			f := effectOf(t, kc, true)
			checkSays(t, f)
			e.onFlocker = &f
		}
		effects = append(effects, e)
	}
	checkDoc(t, "docs/day-two.md", dayTwoDoc(effects))
}

// checkSays checks that the description of e's key says what e does: a
// refusal, replaced masters or agents, deleted data.
func checkSays(t *testing.T, e effect) {
	t.Helper()
	kc := e.change
	desc := describe(kc.key)
	says := func(phrases ...string) {
		for _, p := range phrases {
			if !strings.Contains(desc, p) {
				t.Errorf("%s=%s (flocker %v) %s, but its description does not say %q: %s", kc.key, kc.value, kc.flocker, e.summary(), p, desc)
			}
		}
	}
	if e.err != nil {
		says("refuse")
		return
	}
	switch {
	case e.masters == pulumimock.StepReplace && kc.key == config.KeyFlockerControlImage:
		says("replaces", "the master running the Flocker control service")
	case e.masters == pulumimock.StepReplace:
		says("replaces", "every master")
	}
	if e.agents == pulumimock.StepReplace {
		says("replaces", "every agent")
	}
	if e.refreshed {
		says("replaces", "every agent", "one at a time")
	}
	if e.dataLost {
		says("deletes the app's data")
	}
}

// describe returns a key's description.
func describe(key string) string {
	for _, k := range config.Keys {
		if k.Name == key {
			return k.Description
		}
	}
	return ""
}

// summary says in a few words what the change does to the nodes and data.
func (e effect) summary() string {
	return fmt.Sprintf("does masters:%s agents:%s refresh:%v data lost:%v", e.masters, e.agents, e.refreshed, e.dataLost)
}

// agentsOf says what a change does to the agents: a group's, or fixed.
func agentsOf(e effect) string {
	if e.refreshed {
		return "**replaced one at a time** (the group's instance refresh)"
	}
	return nodes(e.agents)
}

// nodes says what a change does to a kind of node.
func nodes(s pulumimock.Step) string {
	switch s {
	case pulumimock.StepReplace:
		return "**replaced**"
	case pulumimock.StepUpdate:
		return "updated in place"
	case pulumimock.StepCreate:
		return "added"
	case pulumimock.StepDelete:
		return "removed"
	}
	return "kept"
}

// dayTwoDoc renders the effects as docs/day-two.md.
func dayTwoDoc(effects []effect) string {
	var b strings.Builder
	b.WriteString(`# Day two: what each config change does

Generated by ` + "`go test . -run TestEveryKeyChangeSaysWhatItReplaces -update`" + ` from
daytwo_test.go: each key is changed on a default stack (rexray, one master, two agents;
flocker for the Flocker-only keys) and the program is run again against the first run's
state, through the mocks' replacement model (internal/pulumimock/replace.go: the inputs
that force a new resource, from terraform-provider-aws's schema; steps.go: the engine's
ignoreChanges, replaceOnChanges and replacementTrigger). "Refused" means the preview
stops, naming the key, before anything changes.

The main columns are the default REX-Ray stack's, whose agents are an Auto Scaling group
of one launch template; "on a flocker stack" is the same change on a flocker stack, whose
agents are fixed instances (for the keys that are not Flocker's own or the driver's).

Updates in place that matter: a new instance type stops and starts each master and each
Flocker agent (ModifyInstanceAttribute); a larger root volume is grown live on masters
and Flocker agents (ModifyVolume, which cannot shrink a volume: a
rootVolumeSizeGiB below the size a master's or Flocker agent's root volume has now, as
EC2 reports it, is refused at preview, components/rootvolume.go; REX-Ray agents get
new volumes of the new size from the launch template); a changed app deployment re-posts the app to
Marathon. A replaced master starts with an empty ZooKeeper: Marathon's apps and Mesos's
registry are lost with it.

REX-Ray agents: any change of the launch template (instance type, image, key pair, root
volume, user data) makes a new template version, and the group, which names the version
and has an instance refresh, replaces every agent with it, one at a time: the refresh
(Rolling, MinHealthyPercentage floor(100(n-1)/n), MaxHealthyPercentage 100) terminates one
agent, launches its replacement and waits for it to be InService and past its health
check grace period before the next (terraform-provider-aws
internal/service/autoscaling/group.go, resourceGroupUpdate: StartInstanceRefresh on a
launch_template change; components/autoscaling.go). The agent running the app is among
them: Marathon restarts the app on another agent, and the volume driver moves its volume.
The ` + "`pulumi up`" + ` ends when the refresh has started, not when it is done, and an ` + "`up`" + `
that starts another refresh while one runs cancels the running one first
(startInstanceRefresh on InstanceRefreshInProgress, same file): let a refresh finish
(` + "`aws autoscaling describe-instance-refreshes`" + `) before the next change.

`)
	b.WriteString(olderStacksNote())
	b.WriteString(`
| key | changed to | masters | agents | app's data | on a flocker stack | other changes |
|---|---|---|---|---|---|---|
`)
	for _, e := range effects {
		val := e.change.value
		if len(val) > 40 {
			val = val[:37] + "..."
		}
		for i := 0; i+1 < len(e.change.extra); i += 2 {
			val += fmt.Sprintf("` with %s `%s", e.change.extra[i], e.change.extra[i+1])
		}
		if e.err != nil {
			fmt.Fprintf(&b, "| %s | `%s` | refused at preview | | | | |\n", e.change.key, val)
			continue
		}
		flocker := ""
		if f := e.onFlocker; f != nil {
			flocker = fmt.Sprintf("masters %s, agents %s", nodes(f.masters), nodes(f.agents))
			if f.err != nil {
				flocker = "refused at preview"
			}
		}
		data := "kept"
		if e.dataLost {
			data = "**deleted**"
		}
		var other []string
		for _, step := range []pulumimock.Step{pulumimock.StepReplace, pulumimock.StepUpdate, pulumimock.StepCreate, pulumimock.StepDelete} {
			var names []string
			for _, n := range e.steps[step] {
				if !strings.HasPrefix(n, "Instance ") {
					names = append(names, n)
				}
			}
			if len(names) > 0 {
				other = append(other, fmt.Sprintf("%s: %s", step, strings.Join(names, ", ")))
			}
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %s |\n", e.change.key, val, nodes(e.masters), agentsOf(e), data, flocker, strings.Join(other, "; "))
	}
	return b.String()
}

// olderStacksNote is the doc's paragraph on stacks created before every
// master address was reserved from the first up (components/network.go,
// masterAddresses), whose agents or ELB may hold one: the preview checks
// it (components/preflight_nodes.go, masterAddressHolders).
func olderStacksNote() string {
	ips := facts.MasterPrivateIPs(slices.Max(facts.MasterCounts))[1:]
	return fmt.Sprintf(`Older stacks: a stack created before all %[1]d master addresses were reserved from its
first `+"`up`"+` (only the current masters' were) gets the reservations of %[2]s on its
next `+"`up`"+`, but a reservation does not free an address already in use: one of its agents
or an interface of its ELB may hold one, and raising masterCount would then fail at
RunInstances (InvalidIPAddress.InUse) midway. Every preview reads who holds the addresses of
the masters masterCount asks for (DescribeNetworkInterfaces in the cluster's subnet) and
refuses any held by something other than that master, naming the address, its holder and
the fix: a REX-Ray agent is terminated through its group (its replacement gets an address
EC2 picks, never a reserved one), a Flocker agent is replaced with `+"`pulumi up --replace`"+`, and
the ELB, whose addresses cannot be moved, is replaced too, its agents registered again (the
app's URL changes). Raise masterCount once the preview passes (docs/preflight.md).
`, len(ips)+1, strings.Join(ips, ", "))
}

// checkDoc compares a generated document with its file, rewriting it with
// -update (the flag of project_test.go).
func checkDoc(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s rewritten; run the tests again without -update", path)
		}
		return
	}
	if err != nil || string(got) != want {
		t.Errorf("%s is out of date; run `go test . -run TestEveryKeyChangeSaysWhatItReplaces -update`", path)
	}
}

// TestMasterGrowthTakesReservedAddresses: raising masterCount launches the
// new masters into addresses reserved since the first up, so no agent or
// ELB interface can hold one (EC2 would refuse the launch,
// InvalidIPAddress.InUse, after the first masters were replaced). The
// reservations themselves do not change.
func TestMasterGrowthTakesReservedAddresses(t *testing.T) {
	for _, n := range []string{"3", "5"} {
		t.Run(n, func(t *testing.T) {
			m, res, err := dayTwo(t, baseConfig(), baseConfig("masterCount", n), false)
			if err != nil {
				t.Fatal(err)
			}
			reserved := map[string]string{} // address -> reservation key, as of the first up
			for k, r := range m.Prior {
				if r.Type == tReservation {
					ip, _, _ := strings.Cut(r.String("cidrBlock"), "/")
					reserved[ip] = k
				}
			}
			for _, c := range m.Changes() {
				if strings.HasPrefix(c.Key, tReservation+"::") && c.Step != pulumimock.StepSame {
					t.Errorf("%s: %s; the reservations must all exist from the first up", c.Key, c.Step)
				}
			}
			for _, master := range mastersOf(t, res) {
				if _, ok := reserved[master.String("privateIp")]; !ok {
					t.Errorf("%s at %s: no reservation held that address before", master.Name, master.String("privateIp"))
				}
			}
			// Nothing that takes an address of EC2's choosing was launched
			// before every reservation existed.
			for k, r := range m.Prior {
				if r.Type != tInstance && r.Type != tELB || r.String("privateIp") != "" {
					continue
				}
				for ip, rk := range reserved {
					if !slices.Contains(r.Dependencies, rk) {
						t.Errorf("%s was created without waiting for the reservation of %s", k, ip)
					}
				}
			}
		})
	}
}

// TestZoneMoveIsRefusedAtPreview: moving availabilityZone on an existing
// stack would replace the subnet create-before-delete with the same CIDR
// (EC2: InvalidSubnet.Conflict) after the zone-scoped policies moved, and
// leave the app's volume behind. The preview refuses it, naming the key
// and the way to run elsewhere, and nothing it registered before the
// refusal changes.
func TestZoneMoveIsRefusedAtPreview(t *testing.T) {
	for _, preview := range []bool{true, false} {
		m, _, err := dayTwo(t, baseConfig(), baseConfig("availabilityZone", "us-east-1b"), preview)
		if err == nil {
			t.Fatalf("preview=%v: moving the zone was accepted; it replaces:\n%s", preview, strings.Join(moved(m), "\n"))
		}
		for _, want := range []string{"marathon-ha:availabilityZone", "us-east-1a", "new stack", "pulumi destroy"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal does not say %q: %v", want, err)
			}
		}
		for _, c := range m.Changes() {
			if c.Step == pulumimock.StepReplace || c.Step == pulumimock.StepCreate {
				t.Errorf("preview=%v: %s %s before the refusal", preview, c.Step, c.Key)
			}
		}
	}
	// Pinning the zone the stack is in changes nothing.
	m, _, err := dayTwo(t, baseConfig(), baseConfig("availabilityZone", "us-east-1a"), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := moved(m); len(got) > 0 {
		t.Errorf("pinning the zone the stack is in changes:\n%s", strings.Join(got, "\n"))
	}
}

// TestRootVolumeShrinkIsRefusedAtPreview: a smaller rootVolumeSizeGiB
// would update the masters in place, and EBS cannot shrink a volume
// (ModifyVolume): the up would fail at AWS midway. The preview refuses it,
// naming the key, the volumes' current size and the way out, before
// anything changes; a larger size goes through, and a later size between
// the first and the grown one is refused (30 -> 40 -> 35).
func TestRootVolumeShrinkIsRefusedAtPreview(t *testing.T) {
	for name, cfg := range map[string]func(...string) map[string]string{"rexray": baseConfig, "flocker": flockerConfig} {
		first := pulumimock.NewMocks()
		if _, err := pulumimock.Run(program, first, "dev", cfg(), false); err != nil {
			t.Fatalf("%s: first up: %v", name, err)
		}
		// 30 -> 20: below every size the volumes ever had.
		refusedFirst(t, name+" 30 -> 20", first, cfg(config.KeyRootVolumeSize, "20"), nil, "marathon-ha:"+config.KeyRootVolumeSize, "30 GiB", "pulumi config set rootVolumeSizeGiB 30", "new stack")
		grown := pulumimock.NextRun(first)
		if _, err := pulumimock.Run(program, grown, "dev", cfg(config.KeyRootVolumeSize, "40"), false); err != nil {
			t.Fatalf("%s: growing the root volumes: %v", name, err)
		}
		again := pulumimock.NextRun(grown)
		if _, err := pulumimock.Run(program, again, "dev", cfg(config.KeyRootVolumeSize, "40"), false); err != nil {
			t.Fatalf("%s: a run after growing: %v", name, err)
		}
		// 30 -> 40 -> 35: above the first up's size, below the volumes' own.
		refusedFirst(t, name+" 40 -> 35", again, cfg(config.KeyRootVolumeSize, "35"), nil, "marathon-ha:"+config.KeyRootVolumeSize, "40 GiB", "pulumi config set rootVolumeSizeGiB 40", "new stack")
	}
}

// refusedFirst runs cfg after prev's run, as a preview and as an up, each
// under mocks that setup (if set) changes, and wants each refused with every want in the message, and nothing changed
// before the refusal (a delete: not registered before it; a failed run
// deletes nothing).
func refusedFirst(t *testing.T, label string, prev *pulumimock.Mocks, cfg map[string]string, setup func(*pulumimock.Mocks), want ...string) {
	t.Helper()
	for _, preview := range []bool{true, false} {
		m := pulumimock.NextRun(prev)
		if setup != nil {
			setup(m)
		}
		_, err := pulumimock.Run(program, m, "dev", cfg, preview)
		if err == nil {
			t.Fatalf("%s preview=%v: accepted:\n%s", label, preview, strings.Join(moved(m), "\n"))
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: refusal does not say %q: %v", label, w, err)
			}
		}
		for _, c := range m.Changes() {
			if c.Step != pulumimock.StepSame && c.Step != pulumimock.StepDelete {
				t.Errorf("%s preview=%v: %s %s before the refusal", label, preview, c.Step, c.Key)
			}
		}
	}
}

// regzip re-encodes base64 gzip user data at another compression level:
// the same document in other bytes, as another Go version's compress/flate
// may write it.
func regzip(t *testing.T, encoded string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	zw.Write(doc)
	zw.Close()
	out := base64.StdEncoding.EncodeToString(b.Bytes())
	if out == encoded {
		t.Fatal("re-encoding gave the same bytes: the test would change nothing")
	}
	return out
}

// TestUserDataBytesAloneReplaceNothing: a stack whose nodes were created by
// a Go whose gzip wrote other bytes for the same documents. A later `up`
// with the same config must replace no node: only a change of the document
// itself may (user_data_replace_on_change compares bytes).
func TestUserDataBytesAloneReplaceNothing(t *testing.T) {
	for name, cfg := range map[string]map[string]string{"rexray": baseConfig(), "flocker": flockerConfig()} {
		t.Run(name, func(t *testing.T) {
			m1 := pulumimock.NewMocks()
			if _, err := pulumimock.Run(program, m1, "dev", cfg, false); err != nil {
				t.Fatal(err)
			}
			m2 := pulumimock.NextRun(m1)
			// What the older Go stored: every value holding a node's user
			// data, in the instances and wherever else the state keeps it.
			older := map[string]string{}
			for _, r := range m2.Prior {
				if r.Type == tInstance {
					ud := r.String("userDataBase64")
					older[ud] = regzip(t, ud)
				}
			}
			swap := func(pm resource.PropertyMap) resource.PropertyMap {
				out := pm.Copy()
				for k, v := range out {
					if v.IsString() && older[v.StringValue()] != "" {
						out[k] = resource.NewStringProperty(older[v.StringValue()])
					}
				}
				return out
			}
			for k, r := range m2.Prior {
				r.Inputs, r.Outputs = swap(r.Inputs), swap(r.Outputs)
				m2.Prior[k] = r
			}
			for k, s := range m2.Stashes {
				if s.Input.IsString() && older[s.Input.StringValue()] != "" {
					s.Input = resource.NewStringProperty(older[s.Input.StringValue()])
					s.Output = resource.NewStringProperty(older[s.Output.StringValue()])
					m2.Stashes[k] = s
				}
			}
			if _, err := pulumimock.Run(program, m2, "dev", cfg, false); err != nil {
				t.Fatal(err)
			}
			for _, c := range m2.Changes() {
				if strings.HasPrefix(c.Key, tInstance+"::") && c.Step != pulumimock.StepSame {
					t.Errorf("%s %s (%v): the document did not change", c.Step, c.Key, c.Replacing)
				}
			}
		})
	}
}

// TestKeyRotationReplacesNoNode: rotating publicKey replaces the imported
// key pair, deleting the old one first (its name is kept), and no node:
// masters keep their ZooKeeper state. A stack whose key pair was named
// from a prefix, before the name was kept, is not changed by the upgrade.
func TestKeyRotationReplacesNoNode(t *testing.T) {
	for name, cfg := range map[string]map[string]string{"rexray": baseConfig(), "flocker": flockerConfig()} {
		t.Run(name, func(t *testing.T) {
			rotated := maps.Clone(cfg)
			rotated[config.KeyPublicKey] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherKeyOth op2@example"
			m, res, err := dayTwo(t, cfg, rotated, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range m.Changes() {
				typ, _, _ := strings.Cut(c.Key, "::")
				switch {
				case typ == tKeyPair && c.Step != pulumimock.StepReplace:
					t.Errorf("%s %s, want replace: the new key must be imported", c.Step, c.Key)
				case typ != tKeyPair && c.Step != pulumimock.StepSame:
					t.Errorf("%s %s %v: rotating the key must move nothing else", c.Step, c.Key, c.Replacing)
				}
			}
			kp := res.OfType(tKeyPair)
			if len(kp) != 1 || !kp[0].DeleteBeforeReplace {
				t.Errorf("key pair %v: a kept name needs the old pair deleted first (InvalidKeyPair.Duplicate)", kp)
			}
		})
	}
	t.Run("upgrade of a prefix-named key pair", func(t *testing.T) {
		m1 := pulumimock.NewMocks()
		if _, err := pulumimock.Run(program, m1, "dev", baseConfig(), false); err != nil {
			t.Fatal(err)
		}
		m2 := pulumimock.NextRun(m1)
		for k, r := range m2.Prior {
			if r.Type == tKeyPair {
				prefix := r.String("keyName") + "-"
				r.Inputs = r.Inputs.Copy()
				delete(r.Inputs, "keyName")
				r.Inputs["keyNamePrefix"] = resource.NewStringProperty(prefix)
				r.Outputs = r.Outputs.Copy()
				r.Outputs["keyName"] = resource.NewStringProperty(prefix + "20261124000000000000000001")
				m2.Prior[k] = r
				for ik, inst := range m2.Prior {
					if inst.Type == tInstance || inst.Type == tLaunchTemplate {
						inst.Inputs = inst.Inputs.Copy()
						inst.Inputs["keyName"] = r.Outputs["keyName"]
						m2.Prior[ik] = inst
					}
				}
			}
		}
		// Those stacks had no stash of the key name either (components/keypair.go).
		delete(m2.Prior, "pulumi:index:Stash::marathon-ha-ssh-key-name")
		delete(m2.Stashes, "marathon-ha-ssh-key-name")
		if _, err := pulumimock.Run(program, m2, "dev", baseConfig(), false); err != nil {
			t.Fatal(err)
		}
		// The stash is created, state only; no node or key pair moves.
		want := []string{"create pulumi:index:Stash::marathon-ha-ssh-key-name []"}
		if got := moved(m2); !slices.Equal(got, want) {
			t.Errorf("the upgrade changes:\n%s\nwant only:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestDriverSwitchNeedsConfirmation: switching volumeDriver deletes the
// app's data (the old clean-up runs) and replaces every node. The preview
// refuses it, naming the key that confirms it, before anything that costs
// or runs changes; with the confirmation the switch goes through, and a
// later run with the confirmation still set changes nothing.
func TestDriverSwitchNeedsConfirmation(t *testing.T) {
	harmless := func(key string) bool { // made before the guard, neither run nor bill
		return strings.HasPrefix(key, "random:") || strings.HasPrefix(key, "tls:") || strings.HasPrefix(key, "marathon-ha:index:") ||
			key == tStash+"::marathon-ha-volume-driver"
	}
	for _, sw := range [][2]string{{"rexray", "flocker"}, {"flocker", "rexray"}} {
		t.Run(sw[0]+"-to-"+sw[1], func(t *testing.T) {
			from, to := baseConfig("volumeDriver", sw[0]), baseConfig("volumeDriver", sw[1])
			for _, preview := range []bool{true, false} {
				m, _, err := dayTwo(t, from, to, preview)
				if err == nil {
					t.Fatalf("preview=%v: the switch was accepted unconfirmed:\n%s", preview, strings.Join(moved(m), "\n"))
				}
				for _, want := range []string{"marathon-ha:volumeDriver", "deletes that data", "pulumi config set confirmVolumeDriverSwitch " + sw[1]} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("refusal does not say %q: %v", want, err)
					}
				}
				for _, c := range m.Changes() {
					if c.Step != pulumimock.StepSame && c.Step != pulumimock.StepDelete && !harmless(c.Key) {
						t.Errorf("preview=%v: %s %s before the refusal", preview, c.Step, c.Key)
					}
				}
			}
			confirmed := maps.Clone(to)
			confirmed[config.KeyConfirmVolumeDriverSwitch] = sw[1]
			m, _, err := dayTwo(t, from, confirmed, false)
			if err != nil {
				t.Fatalf("confirmed switch: %v", err)
			}
			if c := changeOf(m, tCommand+"::marathon-ha-agents-volume-cleanup"); c.Step != pulumimock.StepReplace {
				t.Errorf("volume clean-up %s, want replace: the old one must delete the old driver's volume", c.Step)
			}
			again := pulumimock.NextRun(m)
			if _, err := pulumimock.Run(program, again, "dev", confirmed, false); err != nil {
				t.Fatal(err)
			}
			if got := moved(again); len(got) > 0 {
				t.Errorf("a run after the switch, confirmation still set, changes:\n%s", strings.Join(got, "\n"))
			}
			// Back again with the old confirmation still set: refused.
			stale := maps.Clone(from)
			stale[config.KeyConfirmVolumeDriverSwitch] = sw[1]
			if _, err := pulumimock.Run(program, pulumimock.NextRun(again), "dev", stale, true); err == nil || !strings.Contains(err.Error(), config.KeyConfirmVolumeDriverSwitch) {
				t.Errorf("switching back on the old confirmation: %v, want a refusal naming %s", err, config.KeyConfirmVolumeDriverSwitch)
			}
		})
	}
}

// changeOf returns the change of the resource with key.
func changeOf(m *pulumimock.Mocks, key string) pulumimock.Change {
	for _, c := range m.Changes() {
		if c.Key == key {
			return c
		}
	}
	return pulumimock.Change{Key: key}
}

// TestRequiredPulumiVersion: Pulumi.yaml asks for a CLI with the Stash
// resource and the replacementTrigger option (v3.208.0), in the syntax the
// CLI checks it with: the CLI's own loader and check
// (plugin.ValidatePulumiVersionRange, run by preview, up, refresh and
// destroy in pulumi/pulumi pkg/cmd/pulumi/operations at v3.259.0).
func TestRequiredPulumiVersion(t *testing.T) {
	proj, err := workspace.LoadProject("Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if proj.RequiredPulumiVersion == "" {
		t.Fatal("Pulumi.yaml has no requiredPulumiVersion: a CLI older than v3.208.0 fails at preview with \"unrecognized resource type\"")
	}
	for v, ok := range map[string]bool{"3.207.0": false, "3.207.1": false, "3.208.0": true, "3.259.0": true, "3.263.0": true} {
		err := plugin.ValidatePulumiVersionRange(proj.RequiredPulumiVersion, v)
		if (err == nil) != ok {
			t.Errorf("CLI %s: %v, want accepted %v", v, err, ok)
		}
	}
}
