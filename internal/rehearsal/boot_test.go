package rehearsal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// recordedBoot is a node's console as its boot script writes it (bootlog's
// line format), with cloud-init's noise around it and each boot line twice,
// as cloud-init copies the script's output to the console too.
type recordedBoot struct {
	node          string
	uptime, total int // the OS's uptime at the script's start; the boot's end
	steps         []bootlog.Step
}

func (b recordedBoot) console() string {
	var sb strings.Builder
	sb.WriteString("[   12.345678] cloud-init[1021]: Cloud-init v. 23.4 running 'modules:final'\n")
	put := func(l bootlog.Line) {
		sb.WriteString(l.String() + "\n")
		sb.WriteString("[   13.000000] cloud-init[1021]: " + l.String() + "\n")
	}
	put(bootlog.Line{Node: b.node, Step: bootlog.Boot, State: bootlog.Start, Detail: "uptime=" + itoa(b.uptime) + "s"})
	for _, s := range b.steps {
		put(bootlog.Line{Node: b.node, Step: s.Name, State: bootlog.Start, Elapsed: s.Start})
		put(bootlog.Line{Node: b.node, Step: s.Name, State: bootlog.Done, Elapsed: s.End})
	}
	put(bootlog.Line{Node: b.node, Step: bootlog.Boot, State: bootlog.Done, Elapsed: b.total})
	return sb.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

var (
	masterBoot = recordedBoot{node: "master", uptime: 30, total: 200, steps: []bootlog.Step{
		{Name: "install-packages", Start: 0, End: 40},
		{Name: "pull:zookeeper:3.4.14", Start: 40, End: 70},
		{Name: "pull:mesosphere/mesos-master:1.4.1", Start: 40, End: 110},
		{Name: "pull:mesosphere/marathon:v1.4.9", Start: 40, End: 150},
		{Name: "start-services", Start: 150, End: 160},
		{Name: "wait-ready", Start: 160, End: 200},
	}}
	agentBoot = func(node string) recordedBoot {
		return recordedBoot{node: node, uptime: 20, total: 150, steps: []bootlog.Step{
			{Name: "install-packages", Start: 0, End: 40},
			{Name: "pull:mesosphere/mesos-slave:1.4.1", Start: 40, End: 120},
			{Name: "start-services", Start: 120, End: 130},
			{Name: "wait-ready", Start: 130, End: 150},
		}}
	}
)

// bootClock is the rehearsal's clock: the wall clock 8 minutes behind
// until the stand-in's up sets it right, so that an up of milliseconds
// stands for one of minutes, and the rest of the rehearsal (whose kill and
// watch also read the wall clock) runs on the wall clock at test speed.
type bootClock struct{ offset atomic.Int64 }

func newBootClock() *bootClock { return newBootClockUp(8 * time.Minute) }

// newBootClockUp is a bootClock whose up stands for one of d.
func newBootClockUp(d time.Duration) *bootClock {
	c := &bootClock{}
	c.offset.Store(int64(-d))
	return c
}

func (c *bootClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// bootStack makes up place the instances' launch times and write their
// consoles: the master launched 60 s into up, the agents 90 s, up ending
// 8 minutes in. The consoles of the nodes named in bare stay empty; ids
// maps each node's name to its instance id once up has run.
func bootStack(t *testing.T, clock *bootClock, ids *sync.Map, bare ...string) *fakeStack {
	f := &fakeStack{t: t}
	f.onUp = func(c *failovertest.Cluster) {
		t0 := clock.now()
		insts, err := c.EC2().ClusterInstances(context.Background(), failovertest.ClusterID)
		if err != nil {
			t.Fatalf("listing the stand-in's instances: %v", err)
		}
		agent := 0
		for _, in := range insts {
			b, launch := masterBoot, t0.Add(60*time.Second)
			if in.Role != facts.RoleMaster {
				agent++
				b, launch = agentBoot("agent-"+itoa(agent)), t0.Add(90*time.Second)
			}
			ids.Store(b.node, in.ID)
			c.EC2Server().SetLaunchTime(in.ID, launch)
			if !slices.Contains(bare, b.node) {
				c.EC2Server().AppendConsole(in.ID, b.console())
			}
		}
		clock.offset.Store(0)
	}
	return f
}

// failingConsoles fails GetConsoleOutput for the instance of node fail.
type failingConsoles struct {
	ec2ops.ConsoleAPI
	ids  *sync.Map
	fail string
}

func (f failingConsoles) GetConsoleOutput(ctx context.Context, in *ec2.GetConsoleOutputInput, optFns ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error) {
	if id, ok := f.ids.Load(f.fail); ok && aws.ToString(in.InstanceId) == id {
		return nil, errors.New("connection reset by peer")
	}
	return f.ConsoleAPI.GetConsoleOutput(ctx, in, optFns...)
}

func bootConfig(f *fakeStack, clock *bootClock, progress *failovertest.Progress, ids *sync.Map, fail string) rehearsal.Config {
	cfg := testConfig(f, progress)
	cfg.Now = clock.now
	// An 8-minute up is over the goal: the split is tested here, the
	// judgement in TestReportJudgesUpToServing.
	cfg.ServingLimit = 10 * time.Minute
	cfg.Clients.Consoles = func(context.Context, stackoutputs.Outputs) (ec2ops.ConsoleAPI, error) {
		return failingConsoles{ConsoleAPI: f.c().EC2Server().Client(), ids: ids, fail: fail}, nil
	}
	return cfg
}

func near(got, want float64) bool { return math.Abs(got-want) < 1 }

func TestReportSplitsUpToServingWithEachNodesBoot(t *testing.T) {
	clock, ids := newBootClock(), &sync.Map{}
	f := bootStack(t, clock, ids)
	var progress failovertest.Progress
	r := rehearsal.Run(context.Background(), bootConfig(f, clock, &progress, ids, ""))
	if !r.Passed {
		t.Fatalf("rehearsal failed: %q\nprogress:\n%s", r.Problems, progress.String())
	}
	b := r.Boot
	if b == nil {
		t.Fatal("the report has no boot timeline")
	}
	if len(b.Notes) != 0 {
		t.Errorf("notes %q, want none: every console was read", b.Notes)
	}
	// The split adds up to up-to-serving, which is up plus app ready.
	if sum := b.CreateSeconds + b.BootSeconds + b.DeploySeconds; math.Abs(sum-b.TotalSeconds) > 1e-6 {
		t.Errorf("create %.3f + boot %.3f + deploy %.3f = %.3f, total %.3f", b.CreateSeconds, b.BootSeconds, b.DeploySeconds, sum, b.TotalSeconds)
	}
	if want := r.Steps[0].Seconds + r.Steps[1].Seconds; math.Abs(b.TotalSeconds-want) > 0.5 {
		t.Errorf("total %.3fs, want up + app ready %.3fs", b.TotalSeconds, want)
	}
	// Create ends at the agents' launch (90 s); the master's boot ends last,
	// 60 + 30 (OS) + 200 (script) = 290 s into up, the agents' at
	// 90 + 20 + 150 = 260 s; the app serves 480 s into up.
	if !near(b.CreateSeconds, 90) || !near(b.BootSeconds, 200) || !near(b.DeploySeconds, 190) || b.LastBooted != "master" {
		t.Errorf("create %.1fs, boot %.1fs (last %q), deploy %.1fs; want 90, 200 (master), 190", b.CreateSeconds, b.BootSeconds, b.LastBooted, b.DeploySeconds)
	}
	if len(b.Nodes) != 3 || b.Nodes[0].Role != facts.RoleMaster {
		t.Fatalf("nodes %+v, want the master then 2 agents", b.Nodes)
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	out := sum.String()
	t.Logf("summary:\n%s", out)
	for i, want := range []recordedBoot{masterBoot, agentBoot("agent-1"), agentBoot("agent-2")} {
		n := b.Nodes[i]
		if n.Node != want.node || n.State != bootlog.Done || n.Elapsed != want.total || n.Console != ec2ops.ConsoleLatest || n.OSStartSeconds() != want.uptime {
			t.Errorf("node %d: %s %s %ds console %s uptime %d; want %s done at %ds, uptime %d", i, n.Node, n.State, n.Elapsed, n.Console, n.OSStartSeconds(), want.node, want.total, want.uptime)
		}
		var got []string
		for _, s := range n.Steps {
			if s.Name != bootlog.Boot {
				got = append(got, s.Name)
			}
		}
		var names []string
		for _, s := range want.steps {
			names = append(names, s.Name)
			if !strings.Contains(out, s.Name) {
				t.Errorf("the summary lacks %s's step %s", want.node, s.Name)
			}
		}
		if !slices.Equal(got, names) {
			t.Errorf("%s's steps %q, want %q", want.node, got, names)
		}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Boot map[string]any `json:"boot"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"upStartedAt", "servingAt", "instancesCreatedAt", "bootedAt", "lastBooted", "totalSeconds", "createSeconds", "bootSeconds", "deploySeconds", "nodes"} {
		if _, ok := doc.Boot[k]; !ok {
			t.Errorf("the report's JSON boot section lacks %q", k)
		}
	}
	if nodes, _ := doc.Boot["nodes"].([]any); len(nodes) != 3 || !strings.Contains(string(raw), `"launchTime"`) || !strings.Contains(string(raw), `"startSeconds"`) {
		t.Errorf("the report's JSON boot nodes: %v", doc.Boot["nodes"])
	}
	if !strings.Contains(out, "up to serving") || !strings.Contains(out, "Pulumi create 90") || !strings.Contains(out, "(last: master)") {
		t.Errorf("summary lacks the split:\n%s", out)
	}
}

func TestReportSaysWhichConsoleCouldNotBeRead(t *testing.T) {
	clock, ids := newBootClock(), &sync.Map{}
	// agent-1's console stays empty; agent-2's cannot be read at all.
	f := bootStack(t, clock, ids, "agent-1")
	var progress failovertest.Progress
	r := rehearsal.Run(context.Background(), bootConfig(f, clock, &progress, ids, "agent-2"))
	if !r.Passed {
		t.Fatalf("rehearsal failed over consoles it could not read: %q\nprogress:\n%s", r.Problems, progress.String())
	}
	b := r.Boot
	if b == nil || len(b.Nodes) != 3 {
		t.Fatalf("boot timeline %+v, want 3 nodes", b)
	}
	id1, _ := ids.Load("agent-1")
	id2, _ := ids.Load("agent-2")
	states := map[string]string{}
	for _, n := range b.Nodes {
		states[n.InstanceID] = n.Console
		if n.InstanceID == id2 && !strings.Contains(n.Error, "connection reset by peer") {
			t.Errorf("unreadable console's error %q", n.Error)
		}
	}
	if states[id1.(string)] != ec2ops.ConsoleEmpty || states[id2.(string)] != ec2ops.ConsoleUnreadable || b.Nodes[0].State != bootlog.Done {
		t.Errorf("consoles %v (agent-1 %s, agent-2 %s), master %s; want empty, unreadable, and the master booted", states, id1, id2, b.Nodes[0].State)
	}
	joined := strings.Join(b.Notes, "\n")
	if !strings.Contains(joined, "could not be read: ") || !strings.Contains(joined, "was empty") {
		t.Errorf("notes do not say which consoles were not read:\n%s", joined)
	}
	// The split still adds up, with the boot the master's, the only one seen.
	if sum := b.CreateSeconds + b.BootSeconds + b.DeploySeconds; math.Abs(sum-b.TotalSeconds) > 1e-6 || b.LastBooted != "master" || !near(b.BootSeconds, 200) {
		t.Errorf("split %.1f + %.1f + %.1f of %.1f, last %q", b.CreateSeconds, b.BootSeconds, b.DeploySeconds, b.TotalSeconds, b.LastBooted)
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	if out := sum.String(); !strings.Contains(out, "console unreadable: ") || !strings.Contains(out, "console empty") || !strings.Contains(out, "rehearsal PASSED") {
		t.Errorf("summary:\n%s", out)
	}
}

func TestReportWithoutConsoleClientSaysSo(t *testing.T) {
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	r := rehearsal.Run(context.Background(), testConfig(f, &progress))
	if !r.Passed {
		t.Fatalf("rehearsal failed: %q", r.Problems)
	}
	if r.Boot == nil || len(r.Boot.Notes) == 0 || !strings.Contains(r.Boot.Notes[0], "no console client") {
		t.Errorf("boot timeline %+v, want a note that the boot was not read", r.Boot)
	}
}

// TestReportJudgesUpToServing: the rehearsal holds up-to-serving against
// the 6-minute goal and the stack's budget. Over it, the run fails and
// says which phases and node steps were over their budget; within it, the
// report still shows the comparison.
func TestReportJudgesUpToServing(t *testing.T) {
	t.Run("over", func(t *testing.T) {
		clock, ids := newBootClock(), &sync.Map{}
		f := bootStack(t, clock, ids)
		var progress failovertest.Progress
		cfg := bootConfig(f, clock, &progress, ids, "")
		cfg.ServingLimit = 0 // the default: the goal
		r := rehearsal.Run(context.Background(), cfg)
		if r.Passed || len(r.Problems) != 1 {
			t.Fatalf("passed %v, problems %q; want one about the 8-minute path", r.Passed, r.Problems)
		}
		// The master's wait-ready took 40 s of a 30 s budget, the agents'
		// 20 s of 10 s; the deploy 190 s of 34 s.
		for _, want := range []string{"up to serving took 8m0s, over the limit of 6m0s (the goal is 6m0s, the rexray budget 5m15s)",
			"deploy 3m10s (budget 34s)", "slowest steps: master wait-ready 40s (budget 30s)"} {
			if !strings.Contains(r.Problems[0], want) {
				t.Errorf("problem %q lacks %q", r.Problems[0], want)
			}
		}
		v := r.Boot.Budget
		if v == nil || v.Within || v.LimitSeconds != 360 || len(v.Overruns) == 0 {
			t.Fatalf("verdict %+v", v)
		}
		var sum bytes.Buffer
		r.Summary(&sum)
		if !strings.Contains(sum.String(), "up to serving 8m0s: OVER the limit 6m0s") {
			t.Errorf("summary:\n%s", sum.String())
		}
		raw, _ := json.Marshal(r)
		if !strings.Contains(string(raw), `"budget":{"driver":"rexray"`) || !strings.Contains(string(raw), `"overruns":[`) {
			t.Errorf("the report's JSON lacks the verdict: %s", raw)
		}
	})
	t.Run("within", func(t *testing.T) {
		clock, ids := newBootClockUp(5*time.Minute+30*time.Second), &sync.Map{}
		f := bootStack(t, clock, ids)
		var progress failovertest.Progress
		cfg := bootConfig(f, clock, &progress, ids, "")
		cfg.ServingLimit = 0
		r := rehearsal.Run(context.Background(), cfg)
		if !r.Passed {
			t.Fatalf("a 5m30s path failed: %q", r.Problems)
		}
		var sum bytes.Buffer
		r.Summary(&sum)
		if !strings.Contains(sum.String(), "up to serving 5m30s: within the limit 6m0s") {
			t.Errorf("summary:\n%s", sum.String())
		}
	})
}
