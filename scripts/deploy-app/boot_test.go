package main

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ststest"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

const (
	masterID = "i-0000000000000aaaa"
	agentID  = "i-0000000000000bbbb"
)

// consoleEnv starts an EC2 stand-in with a master and an agent, points
// the SDK at it and returns it with the --instances value.
func consoleEnv(t *testing.T) (*ec2test.Server, string) {
	t.Helper()
	s := ec2test.NewServer()
	t.Cleanup(s.Close)
	s.AddInstance(ec2test.Instance{ID: masterID, PrivateIP: "10.0.1.10"})
	s.AddInstance(ec2test.Instance{ID: agentID, PrivateIP: "10.0.1.20"})
	t.Setenv("AWS_ENDPOINT_URL_EC2", s.URL)
	ids := ststest.NewServer(ststest.Identity{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Account: "123456789012"})
	t.Cleanup(ids.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", ids.URL)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv(envRegion, ec2test.Region)
	t.Setenv(envInstances, "")
	return s, "master=" + masterID + ",agent-1=" + agentID
}

// lines renders boot-step lines as the boot prints them, each twice (the
// script and cloud-init's copy) among other console output.
func lines(node string, ls ...bootlog.Line) string {
	var b strings.Builder
	for _, l := range ls {
		l.Node = node
		b.WriteString("[   12.345678] cloud-init[1234]: " + l.String() + "\n" + l.String() + "\n")
	}
	return b.String()
}

func step(name, state string, at int, detail ...string) bootlog.Line {
	return bootlog.Line{Step: name, State: state, Elapsed: at, Detail: strings.Join(detail, " ")}
}

// waitCalls blocks until the stand-in has answered n GetConsoleOutput calls.
func waitCalls(t *testing.T, s *ec2test.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Calls("GetConsoleOutput")) < n {
		if time.Now().After(deadline) {
			t.Errorf("only %d GetConsoleOutput calls, want %d", len(s.Calls("GetConsoleOutput")), n)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

var watchFlags = []string{"--console-interval", "5ms", "--poll-interval", "5ms", "--http-timeout", "1s"}

// TestDeployShowsBootProgress: while Marathon is down, each node's current
// step is shown as its console advances, the agent's empty console is
// said to be not available yet, and the deploy goes on once Marathon
// answers.
func TestDeployShowsBootProgress(t *testing.T) {
	ec2, instances := consoleEnv(t)
	m := marathontest.NewServer(fast)
	defer m.Close()
	m.AddAgent("10.0.1.20")
	m.Stop()
	path, _ := renderedFile(t)

	ec2.AppendConsole(masterID, "Booting Linux\n"+lines("master", step("boot", "start", 0), step("install-packages", "start", 0)))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		waitCalls(t, ec2, 6)
		ec2.AppendConsole(masterID, lines("master", step("install-packages", "done", 41), step("pull-images", "start", 41),
			step("pull:mesosphere/marathon:v1.4.9", "start", 41)))
		ec2.AppendConsole(agentID, lines("agent-1", step("boot", "start", 0), step("install-packages", "start", 0)))
		waitCalls(t, ec2, 12)
		ec2.AppendConsole(masterID, lines("master", step("pull:mesosphere/marathon:v1.4.9", "done", 95), step("pull-images", "done", 95),
			step("wait-ready", "start", 96), step("wait-ready", "done", 150), step("boot", "done", 150)))
		m.Start()
	}()
	r := runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "20s", "--instances", instances}, watchFlags...)...)
	wg.Wait()
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"boot master: step install-packages since 0s, 0s into the boot",
		"boot master: step pull:mesosphere/marathon:v1.4.9 since 41s, 41s into the boot",
		"boot master: booted in 150s",
		"boot agent-1: console of " + agentID + " not available yet",
		"boot agent-1: step install-packages since 0s",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	t.Logf("stderr:\n%s", r.stderr)
	// A line only when the node's state changed, not every round.
	if n := strings.Count(r.stderr, "boot master: step install-packages"); n != 1 {
		t.Errorf("the master's first step was shown %d times, want once:\n%s", n, r.stderr)
	}
	for _, c := range ec2.Calls("GetConsoleOutput") {
		if c.Params.Get("Latest") != "true" {
			t.Errorf("GetConsoleOutput %v: want Latest=true", c.Params)
		}
	}
}

// TestDeployFailsFastOnAFailedBoot: a FAILED line on a console ends the
// deploy at once, long before its deadline, with the step and the
// console's last lines.
func TestDeployFailsFastOnAFailedBoot(t *testing.T) {
	ec2, instances := consoleEnv(t)
	m := marathontest.NewServer(fast)
	defer m.Close()
	m.Stop()
	path, _ := renderedFile(t)
	ec2.AppendConsole(agentID, lines("agent-1", step("boot", "start", 0)))
	ec2.AppendConsole(masterID, lines("master", step("boot", "start", 0), step("pull-images", "start", 40),
		step("pull:mesosphere/marathon:v1.4.9", "start", 40))+
		"marathon-ha: boot FAILED at pull-images: 'docker pull mesosphere/marathon:v1.4.9' failed 5 times\n"+
		lines("master", step("pull:mesosphere/marathon:v1.4.9", "FAILED", 290, "'docker pull mesosphere/marathon:v1.4.9' failed 5 times"),
			step("pull-images", "FAILED", 290, "'docker pull mesosphere/marathon:v1.4.9' failed 5 times")))

	start := time.Now()
	r := runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "60s", "--instances", instances, "--console-lines", "3"}, watchFlags...)...)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("took %s: the deploy waited instead of failing fast", took)
	}
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"the boot of master (" + masterID + ") FAILED at step pull-images after 290s: 'docker pull mesosphere/marathon:v1.4.9' failed 5 times",
		"last 3 console lines of master",
		"    marathon-ha boot master pull-images FAILED 290s",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing on failure", r.stdout)
	}
	t.Logf("stderr:\n%s", r.stderr)
}

// TestDeployEmptyConsoles: consoles with no output are said to be not
// available yet, and the deploy ends at its deadline as before.
func TestDeployEmptyConsoles(t *testing.T) {
	_, instances := consoleEnv(t)
	m := marathontest.NewServer(fast)
	defer m.Close()
	m.Stop()
	path, _ := renderedFile(t)
	r := runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "300ms", "--instances", instances}, watchFlags...)...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 at the deadline\nstderr:\n%s", r.code, r.stderr)
	}
	for _, n := range []string{"master", "agent-1"} {
		if !strings.Contains(r.stderr, "boot "+n+": console of ") || !strings.Contains(r.stderr, "not available yet") {
			t.Errorf("stderr does not say %s's console is not available:\n%s", n, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "FAILED") {
		t.Errorf("an empty console reported as a failure:\n%s", r.stderr)
	}
}

// TestDeployBufferedConsole: an instance type that refuses Latest (Xen) is
// read without it from then on, and the progress says the console lags.
func TestDeployBufferedConsole(t *testing.T) {
	ec2, _ := consoleEnv(t)
	m := marathontest.NewServer(fast)
	defer m.Close()
	m.Stop()
	path, _ := renderedFile(t)
	ec2.SetConsoleLatestUnsupported(masterID)
	ec2.AppendConsole(masterID, lines("master", step("boot", "start", 0), step("install-packages", "start", 0)))
	r := runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "300ms", "--instances", "master=" + masterID}, watchFlags...)...)
	if !strings.Contains(r.stderr, "boot master: step install-packages") || !strings.Contains(r.stderr, "buffered") {
		t.Errorf("stderr lacks the buffered console's progress:\n%s", r.stderr)
	}
	latest := 0
	for _, c := range ec2.Calls("GetConsoleOutput") {
		if c.Params.Get("Latest") == "true" {
			latest++
		}
	}
	if latest != 1 {
		t.Errorf("%d calls with Latest=true, want 1 (then remembered)", latest)
	}
}

// TestDeployWithoutInstances: without instance ids the deploy works as
// before and says it cannot see the consoles.
func TestDeployWithoutInstances(t *testing.T) {
	consoleEnv(t)
	m := marathontest.NewServer(fast)
	defer m.Close()
	m.AddAgent("10.0.1.20")
	path, _ := renderedFile(t)
	r := runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "5s"}, quick...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "cannot see the nodes' consoles") {
		t.Errorf("stderr does not say the consoles cannot be seen:\n%s", r.stderr)
	}
}

// TestDeployPostsOnceMarathonHasALeader: the app is posted as soon as
// Marathon has a leader, while the agents still boot (no agent has
// registered with Mesos yet); Marathon holds the deployment until an agent
// offers, and the deploy then ends with the task.
func TestDeployPostsOnceMarathonHasALeader(t *testing.T) {
	ec2, instances := consoleEnv(t)
	m := marathontest.NewServer(fast)
	defer m.Close()
	m.SetLeader(false)
	path, _ := renderedFile(t)
	put := "/v2/apps" + facts.AppID

	ec2.AppendConsole(masterID, lines("master", step("boot", "start", 0), step("wait-ready", "start", 95)))
	ec2.AppendConsole(agentID, lines("agent-1", step("boot", "start", 0), step("pull-images", "start", 50)))
	var putBeforeAgent bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		waitCalls(t, ec2, 4)
		if n := m.Count("PUT", put); n != 0 {
			t.Errorf("%d PUTs before Marathon had a leader", n)
		}
		m.SetLeader(true)
		deadline := time.Now().Add(10 * time.Second)
		for m.Count("PUT", put) == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		putBeforeAgent = m.Count("PUT", put) == 1
		ec2.AppendConsole(agentID, lines("agent-1", step("pull-images", "done", 120), step("boot", "done", 150)))
		m.AddAgent("10.0.1.20")
	}()
	r := runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "20s", "--instances", instances}, watchFlags...)...)
	wg.Wait()
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if !putBeforeAgent {
		t.Errorf("the app was not posted while the agent booted: deploy-app waits for more than Marathon's leader\nstderr:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, `"taskHost":"10.0.1.20"`) {
		t.Errorf("stdout = %q, want the task on the agent that registered after the post", r.stdout)
	}
}

// TestDeployHoldsTheBootAgainstItsBudget: with the volume driver known,
// each node's line gives the budget of the step it is in and the steps
// that took longer than theirs, so a slow boot is told from a dead one.
func TestDeployHoldsTheBootAgainstItsBudget(t *testing.T) {
	ec2, _ := consoleEnv(t)
	m := marathontest.NewServer(fast)
	defer m.Close()
	m.Stop()
	path, _ := renderedFile(t)
	ec2.AppendConsole(masterID, lines("master", bootlog.Line{Step: bootlog.Boot, State: bootlog.Start, Detail: "uptime=31s"},
		step("install-packages", "start", 0), step("install-packages", "done", 51), step("node-address", "start", 51),
		step("node-address", "done", 51), step("pull-images", "start", 51), step("pull:mesosphere/marathon:v1.4.9", "start", 51)))
	r := runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "300ms",
		"--instances", "master=" + masterID, "--volume-driver", "rexray"}, watchFlags...)...)
	want := "boot master: step pull:mesosphere/marathon:v1.4.9 since 51s, 51s into the boot; budget of pull-images 1m30s; over budget: install-packages 51s of 40s"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}

	// An unknown driver shows no budget, and says why, without failing.
	r = runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "300ms",
		"--instances", "master=" + masterID, "--volume-driver", "ceph"}, watchFlags...)...)
	if !strings.Contains(r.stderr, `no boot budget shown: boot budget: volume driver "ceph"`) || strings.Contains(r.stderr, "budget of") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestDeployReportsAStalledBoot: a console that stops changing while its
// boot runs is said to be possibly hung, and when the deploy gives up
// waiting for Marathon it says where each unfinished boot stood, with the
// console's last lines.
func TestDeployReportsAStalledBoot(t *testing.T) {
	ec2, instances := consoleEnv(t)
	m := marathontest.NewServer(fast)
	defer m.Close()
	m.Stop()
	path, _ := renderedFile(t)
	ec2.AppendConsole(masterID, lines("master", step("boot", "start", 0), step("pull-images", "start", 41),
		step("pull:mesosphere/marathon:v1.4.9", "start", 41)))
	r := runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "800ms",
		"--instances", instances, "--stall-warning", "100ms", "--console-lines", "2"}, watchFlags...)...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 at the deadline\nstderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"boot master: its console has not changed for ",
		"(step pull:mesosphere/marathon:v1.4.9 since 41s, 41s into the boot): the boot may be hung; see aws ec2 get-console-output --instance-id " + masterID,
		"the boot of master (" + masterID + ") had not finished: step pull:mesosphere/marathon:v1.4.9 since 41s, 41s into the boot; its console last changed ",
		"last 2 console lines of master:\n    [   12.345678] cloud-init[1234]: marathon-ha boot master pull:mesosphere/marathon:v1.4.9 start 41s",
		"the boot of agent-1 (" + agentID + ") had not finished: console of " + agentID + " not available yet",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// The empty console is not judged hung: it is not there yet.
	if strings.Contains(r.stderr, "boot agent-1: its console has not changed") {
		t.Errorf("an empty console was called hung:\n%s", r.stderr)
	}
	if n := strings.Count(r.stderr, "boot master: its console has not changed"); n != 1 {
		t.Errorf("the stall was said %d times, want once:\n%s", n, r.stderr)
	}
}

// TestDeployWatchesTheGroupsAgents: with MHA_BOOT_AGENTS_OF, the agents of
// an Auto Scaling group, which no --instances names, are found by the
// cluster's tags and their boot shown, named by instance.
func TestDeployWatchesTheGroupsAgents(t *testing.T) {
	ec2, _ := consoleEnv(t)
	const groupAgent = "i-0a5c0000000000001"
	ec2.AddInstance(ec2test.Instance{ID: groupAgent, PrivateIP: "10.0.1.30", Tags: map[string]string{facts.TagClusterID: "mha-0000cafe", facts.TagRole: facts.RoleAgent}})
	ec2.AddInstance(ec2test.Instance{ID: "i-0a5c0000000000009", PrivateIP: "10.0.1.40", Tags: map[string]string{facts.TagClusterID: "mha-0000beef", facts.TagRole: facts.RoleAgent}})
	t.Setenv(envAgentsOf, "mha-0000cafe")
	m := marathontest.NewServer(fast)
	defer m.Close()
	m.AddAgent("10.0.1.30")
	m.Stop()
	path, _ := renderedFile(t)
	ec2.AppendConsole(masterID, lines("master", step("boot", "start", 0), step("boot", "done", 150)))
	ec2.AppendConsole(groupAgent, lines("agent", step("boot", "start", 0), step("install-packages", "start", 0)))
	go func() {
		waitCalls(t, ec2, 4)
		m.Start()
	}()
	r := runCmd(t, "", append([]string{"--marathon", m.URL(), "--manifest", path, "--timeout", "20s", "--instances", "master=" + masterID}, watchFlags...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "boot agent@"+groupAgent+": step install-packages since 0s") {
		t.Errorf("stderr lacks the group's agent's boot:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "i-0a5c0000000000009") {
		t.Errorf("another cluster's agent was watched:\n%s", r.stderr)
	}
}
