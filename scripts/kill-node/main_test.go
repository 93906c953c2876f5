package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

type result struct {
	code           int
	stdout, stderr string
}

// outputsFile writes the cluster's outputs as `pulumi stack output --json`
// prints them.
func outputsFile(t *testing.T, c *failovertest.Cluster) string {
	t.Helper()
	raw, err := json.Marshal(c.Outputs())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func testDeps(c *failovertest.Cluster, stdin string) deps {
	return deps{
		stdin: strings.NewReader(stdin),
		pulumi: func(context.Context, []string) ([]byte, error) {
			panic("pulumi must not run when --outputs is given")
		},
		connect: func(context.Context, string) (ec2ops.EC2API, error) { return c.EC2Server().Client(), nil },
		connectELB: func(context.Context, string, string) (*mobycounter.LoadBalancer, error) {
			return c.LoadBalancer(), nil
		},
		rng:      rand.New(rand.NewPCG(1, 2)),
		workload: testWorkload,
		zooKeeper: func(stackoutputs.Outputs) failover.ZooKeeperProbe {
			return failover.NewZooKeeperProbe(c.ZooKeeperAddrs(), 200*time.Millisecond)
		},
	}
}

// testWorkload is the writer at the stand-ins' speed: a failover of a
// fraction of a second resolved in milliseconds, a crash-loss bound
// scaled down with it.
var testWorkload = workload.Config{MinGap: 2 * time.Millisecond, MaxGap: 5 * time.Millisecond, RequestTimeout: time.Second,
	Lead: 80 * time.Millisecond, Loss: workload.Allowance{Bound: 40 * time.Millisecond}}

func runWith(t *testing.T, d deps, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	d.stdout, d.stderr = &stdout, &stderr
	code := run(context.Background(), args, d)
	return result{code, stdout.String(), stderr.String()}
}

// fast are the options that make a watch take test time; the stand-in's
// app writes through to its volume, so no flush wait is needed.
var fast = []string{"--interval", "5ms", "--timeout", "10s", "--marathon-wait", "5s", "--flush-wait", "10ms"}

func args(extra ...string) []string { return append(slices.Clone(fast), extra...) }

func terminations(c *failovertest.Cluster) int { return len(c.EC2Server().Calls("TerminateInstances")) }

func TestNormalFailoverThroughTheSDKsEndpointVariable(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	// The real SDK configuration, pointed at the stand-in as a user would.
	t.Setenv("AWS_ENDPOINT_URL_EC2", c.EC2Endpoint())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING", c.ELB().APIURL)
	d := testDeps(c, "")
	d.connect = ec2ops.Connect
	d.connectELB = mobycounter.ConnectLoadBalancer
	target := c.Agents()[0]
	// Confirmed by typing the instance id.
	d.stdin = strings.NewReader(target.InstanceID + "\n")
	r := runWith(t, d, args("--outputs", outputsFile(t, c))...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "recovery budget ") {
		t.Errorf("the budget is not printed first:\n%s", r.stdout)
	}
	for _, want := range []string{"instance " + target.InstanceID + ", private IP " + target.Host,
		"tag marathon-ha:stack = " + failovertest.Stack, "tag marathon-ha:role = agent", "Type the instance id or yes",
		"wrote 10 clicks", failover.EventInstanceDown, failover.EventAppServed,
		"recovered on " + c.Agents()[1].Host + ": RTO", "10 written before the kill, 0 lost"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// The default mode is a crash.
	if calls := c.EC2Server().Calls("TerminateInstances"); len(calls) != 1 || calls[0].Params.Get("InstanceId.1") != target.InstanceID ||
		calls[0].Params.Get("SkipOsShutdown") != "true" {
		t.Errorf("TerminateInstances calls %v", calls)
	}
	if !strings.Contains(r.stdout, "(rexray, crash):") || !strings.Contains(r.stdout, "kill mode crash") {
		t.Errorf("stdout does not name the budget's driver and mode:\n%s", r.stdout)
	}
	// The 10 clicks, and the writer's marks beside them.
	clicks, err := c.App().Read(context.Background())
	var plain, marks int
	for _, click := range clicks {
		if _, ok := mobycounter.ParseMark(click); ok {
			marks++
		} else {
			plain++
		}
	}
	if err != nil || plain != 10 || marks == 0 {
		t.Errorf("clicks after the failover %v, %v: want the 10 written and the writer's", clicks, err)
	}
}

func TestJSONReport(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--json", "--clicks", "3")...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	var rep failover.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, r.stdout)
	}
	if !rep.Recovered || rep.ClicksWritten != 3 || len(rep.ClicksLost) != 0 || rep.RTOSeconds <= 0 || rep.KilledInstanceID != c.Agents()[0].InstanceID {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(r.stderr, "recovery budget") || !strings.Contains(r.stderr, failover.EventTaskRunning) {
		t.Errorf("human lines are not on stderr:\n%s", r.stderr)
	}
}

func TestClicksLostFail(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Buffered: true})
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--clicks", "4")...)
	if r.code != 1 || !strings.Contains(r.stderr, "4 of 4 clicks lost") {
		t.Errorf("exit %d, want 1 naming the lost clicks\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "recovered on") {
		t.Errorf("the app did recover:\n%s", r.stdout)
	}
}

func TestAppNeverComesBack(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{NeverRelaunch: true})
	r := runWith(t, testDeps(c, ""), "--outputs", outputsFile(t, c), "--yes", "--interval", "5ms", "--timeout", "300ms", "--flush-wait", "1ms")
	if r.code != 1 || !strings.Contains(r.stderr, "deadline 300ms exceeded") || !strings.Contains(r.stdout, "NOT recovered") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestUntaggedInstanceRefused(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{UntaggedAgents: true})
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes")...)
	if r.code != 1 || !strings.Contains(r.stderr, "refusing instance "+c.Agents()[0].InstanceID) {
		t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if n := terminations(c); n != 0 {
		t.Errorf("TerminateInstances called %d times", n)
	}
	if clicks, _ := c.App().Read(context.Background()); len(clicks) != 0 {
		t.Errorf("clicks written before the refusal: %v", clicks)
	}
}

func TestMarathonUnreachable(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	c.StopMarathon()
	r := runWith(t, testDeps(c, ""), "--outputs", outputsFile(t, c), "--yes", "--marathon-wait", "100ms")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	for _, want := range []string{c.Outputs().MarathonURL, "unreachable", "operatorCidr", "connection refused"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := terminations(c); n != 0 {
		t.Errorf("TerminateInstances called %d times", n)
	}
}

func TestDryRunTerminatesNothing(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	r := runWith(t, testDeps(c, ""), "--outputs", outputsFile(t, c), "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "dry run: would write 10 clicks") || !strings.Contains(r.stdout, "terminate instance "+c.Agents()[0].InstanceID) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := terminations(c); n != 0 {
		t.Errorf("TerminateInstances called %d times", n)
	}
	if clicks, _ := c.App().Read(context.Background()); len(clicks) != 0 {
		t.Errorf("a dry run wrote clicks: %v", clicks)
	}
}

func TestConfirmationRefused(t *testing.T) {
	for _, answer := range []string{"no\n", "i-someotherid\n", ""} {
		t.Run(strings.TrimSpace(answer), func(t *testing.T) {
			c := failovertest.StartT(t, failovertest.Options{})
			r := runWith(t, testDeps(c, answer), args("--outputs", outputsFile(t, c))...)
			if r.code != 1 || !strings.Contains(r.stderr, "not confirmed") {
				t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
			}
			if n := terminations(c); n != 0 {
				t.Errorf("TerminateInstances called %d times", n)
			}
		})
	}
}

func TestYesConfirmsAndNoWatchStops(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	r := runWith(t, testDeps(c, "yes\n"), args("--outputs", outputsFile(t, c), "--no-watch", "--clicks", "0")...)
	if r.code != 0 || !strings.Contains(r.stdout, "not watching") || strings.Contains(r.stdout, failover.EventInstanceDown) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := terminations(c); n != 1 {
		t.Errorf("TerminateInstances called %d times, want 1", n)
	}
}

func TestOutputsFromStdin(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	raw, _ := json.Marshal(c.Outputs())
	r := runWith(t, testDeps(c, string(raw)), "--outputs", "-", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, c.Agents()[0].InstanceID) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestOutputsFromPulumi(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	raw, _ := json.Marshal(c.Outputs())
	var got []string
	d := testDeps(c, "")
	d.pulumi = func(_ context.Context, args []string) ([]byte, error) { got = args; return raw, nil }
	r := runWith(t, d, "--stack", "dev", "--cwd", "/src/marathon-ha", "--dry-run")
	want := []string{"stack", "output", "--json", "--show-secrets", "--stack", "dev", "--cwd", "/src/marathon-ha"}
	if r.code != 0 || !slices.Equal(got, want) {
		t.Errorf("exit %d, pulumi args %q, want %q\nstderr:\n%s", r.code, got, want, r.stderr)
	}
}

func TestBadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no outputs", nil, "--stack NAME"},
		{"both sources", []string{"--stack", "dev", "--outputs", "f"}, "pass one"},
		{"cwd without stack", []string{"--outputs", "f", "--cwd", "d"}, "--cwd"},
		{"stdin without yes", []string{"--outputs", "-"}, "--yes"},
		{"negative clicks", []string{"--stack", "dev", "--clicks", "-1"}, "negative"},
		{"negative flush wait", []string{"--stack", "dev", "--flush-wait", "-1s"}, "--flush-wait -1s is negative"},
		{"unknown mode", []string{"--stack", "dev", "--mode", "reboot"}, "mode \"reboot\": want crash"},
		{"slow sampling", []string{"--stack", "dev", "--interval", "2s"}, "at most 1s"},
		{"zero timeout", []string{"--stack", "dev", "--timeout", "0s"}, "positive"},
		{"unknown flag", []string{"--stack", "dev", "--force"}, "force"},
		{"argument", []string{"--stack", "dev", "extra"}, "extra"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, deps{stdin: strings.NewReader("")}, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

func TestBadOutputs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "o.json")
	if err := os.WriteFile(p, []byte(`{"marathonUrl":"http://x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runWith(t, deps{stdin: strings.NewReader("")}, "--outputs", p, "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, p) || !strings.Contains(r.stderr, "pulumi up") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
