package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// What `pulumi stack output --json --show-secrets` prints for a stack.
const outputsJSON = `{
  "appId": "/marathon-ha/moby-counter",
  "appUrl": "http://mha-1a2b3c4d-elb-123.us-east-1.elb.amazonaws.com",
  "agentInstanceIds": ["i-0bbb", "i-0ccc"],
  "clusterId": "mha-1a2b3c4d",
  "failoverSettings": {"agentPingTimeoutSeconds": 5, "maxAgentPingTimeouts": 2, "elbIntervalSeconds": 5,
    "elbTimeoutSeconds": 2, "elbHealthyThreshold": 2, "elbUnhealthyThreshold": 2},
  "marathonUrl": "http://198.51.100.7:8080",
  "region": "us-east-1",
  "stack": "dev"
}`

func recorded(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// standIn seeds a cluster whose master booted (its console recorded from
// a stand-in boot of the rendered scripts), whose agent-1's boot failed
// pulling an image, and whose agent-2's console is still empty; a node of
// another cluster must not be read.
func standIn(t *testing.T) (*ec2test.Server, deps, *bytes.Buffer, *bytes.Buffer, *[]string) {
	t.Helper()
	s := ec2test.NewServer()
	t.Cleanup(s.Close)
	tags := func(role, name string) map[string]string {
		return map[string]string{facts.TagClusterID: "mha-1a2b3c4d", facts.TagRole: role, "Name": name}
	}
	s.AddInstance(ec2test.Instance{ID: "i-0aaa", PrivateIP: "10.0.1.10", Tags: tags(facts.RoleMaster, "dev-master")})
	s.AddInstance(ec2test.Instance{ID: "i-0bbb", PrivateIP: "10.0.1.20", Tags: tags(facts.RoleAgent, "dev-agent-1")})
	s.AddInstance(ec2test.Instance{ID: "i-0ccc", PrivateIP: "10.0.1.21", Tags: tags(facts.RoleAgent, "dev-agent-2")})
	s.AddInstance(ec2test.Instance{ID: "i-0ddd", PrivateIP: "10.0.1.22",
		Tags: map[string]string{facts.TagClusterID: "mha-other", facts.TagRole: facts.RoleAgent}})
	s.AppendConsole("i-0aaa", recorded(t, "master-standin.console"))
	s.AppendConsole("i-0bbb", recorded(t, "agent-1-failed.console"))
	s.AppendConsole("i-0ddd", recorded(t, "master-standin.console"))
	var out, errOut bytes.Buffer
	var pulumiArgs []string
	d := deps{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		pulumi: func(_ context.Context, args []string) ([]byte, error) {
			pulumiArgs = args
			return []byte(outputsJSON), nil
		},
		connect: func(context.Context, string, string) (ec2ops.EC2API, ec2ops.ConsoleAPI, error) {
			c := s.Client()
			return c, c, nil
		}}
	return s, d, &out, &errOut, &pulumiArgs
}

func TestTimelineFromStack(t *testing.T) {
	s, d, out, errOut, pulumiArgs := standIn(t)
	if code := run([]string{"--stack", "dev", "--cwd", "/p"}, d); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := strings.Join(*pulumiArgs, " "); got != "stack output --json --show-secrets --stack dev --cwd /p" {
		t.Errorf("pulumi %s", got)
	}
	text := out.String()
	t.Logf("stdout:\n%s", text)
	for _, want := range []string{
		"# master i-0aaa (console: latest)\nmaster: booted in 0s\n",
		"  pull:mesosphere/marathon:v1.4.9 ",
		"start:marathon                         0     0     0s  done\n", // each service started after its own pull
		"# agent i-0bbb (console: latest)\nagent-1: boot FAILED at pull-images after 163s: 'docker pull mesosphere/mesos:1.4.1' failed 5 times\n",
		"  install-packages                       0    51    51s  done\n",
		"  pull:mesosphere/mesos-slave:1.4.1     51    83    32s  done\n",
		"  pull:mesosphere/mesos:1.4.1           83   163    80s  FAILED  'docker pull mesosphere/mesos:1.4.1' failed 5 times\n",
		"  boot                                   0     -      -  unfinished  uptime=21s\n",
		"# agent i-0ccc (console: empty)\n",
		"console not available yet",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	for _, c := range s.Calls("GetConsoleOutput") {
		if c.Params.Get("InstanceId") == "i-0ddd" {
			t.Error("read the console of another cluster's instance")
		}
	}
}

func TestTimelineJSON(t *testing.T) {
	_, d, out, errOut, _ := standIn(t)
	if code := run([]string{"--outputs", "-", "--json"}, deps{stdin: strings.NewReader(outputsJSON), stdout: d.stdout, stderr: d.stderr, connect: d.connect}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var nodes []struct {
		InstanceID string         `json:"instanceId"`
		Node       string         `json:"node"`
		State      string         `json:"state"`
		Console    string         `json:"console"`
		Elapsed    int            `json:"elapsedSeconds"`
		Steps      []bootlog.Step `json:"steps"`
		Failed     *bootlog.Step  `json:"failed"`
	}
	if err := json.Unmarshal(out.Bytes(), &nodes); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(nodes) != 3 {
		t.Fatalf("%d nodes, want 3:\n%s", len(nodes), out)
	}
	byID := map[string]int{}
	for i, n := range nodes {
		byID[n.InstanceID] = i
	}
	m, a1, a2 := nodes[byID["i-0aaa"]], nodes[byID["i-0bbb"]], nodes[byID["i-0ccc"]]
	if m.Node != "master" || m.State != bootlog.Done || len(m.Steps) != 13 {
		t.Errorf("master %+v", m)
	}
	if a1.State != bootlog.Failed || a1.Failed == nil || a1.Failed.Name != "pull-images" || a1.Failed.End != 163 || a1.Elapsed != 163 {
		t.Errorf("agent-1 %+v", a1)
	}
	if a2.State != bootlog.Unknown || a2.Console != "empty" {
		t.Errorf("agent-2 %+v", a2)
	}
}

func TestTimelineFromConsoleFiles(t *testing.T) {
	var out, errOut bytes.Buffer
	d := deps{stdout: &out, stderr: &errOut}
	if code := run([]string{"--console", "testdata/agent-1-failed.console", "testdata/master-standin.console"}, d); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "# testdata/agent-1-failed.console\nagent-1: boot FAILED at pull-images") ||
		!strings.Contains(out.String(), "# testdata/master-standin.console\nmaster: booted in 0s") {
		t.Errorf("stdout:\n%s", out.String())
	}
}

func TestTimelineUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"--stack", "dev", "--outputs", "-"}, {"--stack", "dev", "extra"}} {
		var out, errOut bytes.Buffer
		if code := run(args, deps{stdout: &out, stderr: &errOut}); code != 2 {
			t.Errorf("%v: exit %d, want 2, bad usage (%s)", args, code, errOut.String())
		}
	}
}

// TestTimelineAgainstTheBudget: each node's steps are held against the
// budget of its role (from its name, for a console file) and the volume
// driver: --volume-driver, which may follow the files, or the stack's.
func TestTimelineAgainstTheBudget(t *testing.T) {
	var out, errOut bytes.Buffer
	d := deps{stdout: &out, stderr: &errOut}
	if code := run([]string{"--console", "testdata/agent-1-failed.console", "--volume-driver", "rexray"}, d); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := "  budget: os 21s of 1m0s, install-packages 51s of 40s over, node-address 0s of 1s, pull-images 1m52s of 40s over, " +
		"install-volume-plugin - of 15s, start-services - of 2s, wait-ready - of 10s\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, out.String())
	}

	// From a stack: its volumeDriver output chooses the budget, and the
	// JSON carries it.
	_, sd, sout, serr, _ := standIn(t)
	outputs := strings.Replace(outputsJSON, `"region"`, `"volumeDriver": "flocker", "region"`, 1)
	if code := run([]string{"--outputs", "-", "--json"}, deps{stdin: strings.NewReader(outputs), stdout: sd.stdout, stderr: sd.stderr, connect: sd.connect}); code != 0 {
		t.Fatalf("exit %d: %s", code, serr)
	}
	var nodes []struct {
		Role   string                 `json:"role"`
		Budget []bootbudget.StepCheck `json:"budget"`
	}
	if err := json.Unmarshal(sout.Bytes(), &nodes); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		var steps []string
		for _, s := range n.Budget {
			steps = append(steps, s.Step)
		}
		// Flocker's nodes fetch their certificates; the master has no
		// start-services step.
		wantSteps := "os install-packages node-address fetch-certificates pull-images wait-ready"
		if n.Role == facts.RoleAgent {
			wantSteps = "os install-packages node-address fetch-certificates pull-images start-services wait-ready"
		}
		if got := strings.Join(steps, " "); got != wantSteps {
			t.Errorf("%s budget steps %q, want %q", n.Role, got, wantSteps)
		}
	}

	out.Reset()
	errOut.Reset()
	if code := run([]string{"--volume-driver", "ceph", "--console", "testdata/agent-1-failed.console"}, d); code != 2 || !strings.Contains(errOut.String(), `volume driver "ceph"`) {
		t.Errorf("exit %d, stderr %q; want a refusal of the driver", code, errOut.String())
	}
}

// TestREADMEShowsTheStandinTimeline: docs/boot.md's stand-in timeline is
// what boot-timeline prints for the recorded console.
func TestREADMEShowsTheStandinTimeline(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--console", "testdata/master-standin.console", "--volume-driver", "rexray"}, deps{stdout: &out, stderr: &errOut}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	_, printed, _ := strings.Cut(out.String(), "\n") // without the "# file" line
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "boot.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- standin-timeline:begin -->\n```\n", "```\n<!-- standin-timeline:end -->"
	_, rest, ok := strings.Cut(string(raw), begin)
	shown, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("docs/boot.md has no %q ... %q block", begin, end)
	}
	if shown != printed {
		t.Errorf("docs/boot.md's stand-in timeline is not what boot-timeline prints for testdata/master-standin.console; replace it with:\n%s", printed)
	}
}

// TestConsoleArgumentsEnd: after --console FILE..., "-" is a file name
// (as the flag package takes it), not a flag that would never be parsed.
func TestConsoleArgumentsEnd(t *testing.T) {
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"--console", "testdata/master-standin.console", "-", "--json"}, deps{stdout: &out, stderr: &errOut})
	}()
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(errOut.String(), "reading console output: open -") {
			t.Errorf("exit %d, stderr %q; want the file - not found", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the arguments were never all read")
	}
}
