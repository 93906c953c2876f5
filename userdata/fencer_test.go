package userdata

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/fencelog"
)

// The masters' fencer (run-mha-fencer) under bash, against a fake Marathon
// (the fake curl's /v2/leader and /v2/tasks) and the fake AWS CLI and EC2
// (fakeawscli_test.go). Every call it makes is recorded; its console lines
// are read back with internal/fencelog.

const (
	agentIP       = "10.0.2.11"
	agentID       = "i-0a1b2c3d4e5f60718"
	otherAgentIP  = "10.0.2.12"
	otherInstance = "i-0badc0ffee0000001"
	fencerScript  = runDir + "/run-" + fencerService
)

// marathonTask is one task of GET /v2/tasks, with the fields the fencer
// reads (mesosphere/marathon v1.4.9 api/v2/json/Formats.scala
// EnrichedTaskWrites, TaskWrites).
type marathonTask struct {
	ID      string `json:"id"`
	AppID   string `json:"appId"`
	Host    string `json:"host"`
	SlaveID string `json:"slaveId"`
	State   string `json:"state"`
	// StagedAt is when Mesos staged it, as Marathon 1.4.9 writes it
	// (api/v2/json/Formats.scala: ISO-8601 UTC with milliseconds).
	StagedAt string `json:"stagedAt"`
}

func task(n int, host, state string) marathonTask {
	return marathonTask{ID: "moby-counter.0000000" + strconv.Itoa(n) + "-0000-11e9-8d6f-0242ac110002", AppID: "/moby-counter",
		Host: host, SlaveID: "f6d1e3a0-0000-4000-8000-00000000000" + strconv.Itoa(n) + "-S0", State: state, StagedAt: taskStaged}
}

// agentTags are the tags of an agent of cluster.
func agentTags(cluster string) map[string]string {
	return map[string]string{facts.TagClusterID: cluster, facts.TagRole: facts.RoleAgent, facts.TagName: "dev-agent-1"}
}

// fencerNode is the rexray master of testClusterID, booted as far as the
// fencer needs: its files, node.env, Docker installed, and the fakes' state.
type fencerNode struct{ *fakeNode }

func newFencerNode(t *testing.T, leader string, tasks []marathonTask, ec2 fakeEC2) *fencerNode {
	t.Helper()
	doc, err := RenderMaster(masterInput(facts.VolumeDriverRexRay))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := installNode(t, doc)
	n := &fencerNode{&fakeNode{t, root}}
	var pins []string
	for _, p := range facts.DockerPackages {
		pins = append(pins, p.Pin())
	}
	n.write(dpkgStatusPath, dpkgStatus(pins...))
	n.write(nodeEnv, "PRIVATE_IP="+testMasterIP+"\n")
	if leader != "" {
		n.write("fake-marathon/leader.json", `{"leader":"`+leader+`"}`)
	}
	raw, err := json.Marshal(map[string]any{"tasks": tasks})
	if err != nil {
		t.Fatal(err)
	}
	n.write("fake-marathon/tasks.json", string(raw))
	n.setEC2(ec2)
	return n
}

func (n *fencerNode) setEC2(e fakeEC2) {
	n.t.Helper()
	raw, err := json.Marshal(e)
	if err != nil {
		n.t.Fatal(err)
	}
	n.write("var/lib/fake-ec2/state.json", string(raw))
}

func (n *fencerNode) ec2() fakeEC2 {
	n.t.Helper()
	raw, err := os.ReadFile(filepath.Join(n.root, "var/lib/fake-ec2/state.json"))
	if err != nil {
		n.t.Fatal(err)
	}
	var e fakeEC2
	if err := json.Unmarshal(raw, &e); err != nil {
		n.t.Fatal(err)
	}
	return e
}

func (e fakeEC2) instance(id string) fakeInstance {
	for _, in := range e.Instances {
		if in.ID == id {
			return *in
		}
	}
	return fakeInstance{}
}

// fencerRun is what one run of the fencer did.
type fencerRun struct {
	events []fencelog.Event
	out    string
	ec2    [][]string // the AWS CLI's arguments, one call each, in order
}

// run runs the fencer for polls polls. Its stdout and stderr must hold only
// well-formed fence lines.
func (n *fencerNode) run(polls int) fencerRun {
	n.t.Helper()
	if err := os.Remove(filepath.Join(n.root, "calls.log")); err != nil && !os.IsNotExist(err) {
		n.t.Fatal(err)
	}
	out, err := runScript(n.t, n.root, fencerScript, testMasterIP, "", "MHA_FENCER_POLLS="+strconv.Itoa(polls))
	if err != nil {
		n.t.Fatalf("the fencer exited: %v\n%s", err, out)
	}
	events, perr := fencelog.Parse(out)
	if perr != nil {
		n.t.Errorf("malformed fence lines: %v\n%s", perr, out)
	}
	if lines := strings.Count(strings.TrimSpace(out), "\n") + 1; strings.TrimSpace(out) != "" && lines != len(events) {
		n.t.Errorf("the fencer printed %d lines, %d of them fence lines:\n%s", lines, len(events), out)
	}
	r := fencerRun{events: events, out: out}
	for _, c := range readCalls(n.t, n.root) {
		if c[0] != "docker" {
			continue
		}
		i := slices.Index(c, facts.AWSCLIImage)
		if len(c) < 2 || c[1] != "run" || i < 0 {
			n.t.Errorf("the fencer ran docker %v, not the AWS CLI image", c[1:])
			continue
		}
		r.ec2 = append(r.ec2, c[i+1:])
	}
	return r
}

// kinds are the events in order, "event instance host" each.
func (r fencerRun) kinds() []string {
	var out []string
	for _, e := range r.events {
		out = append(out, e.Event+" "+e.Instance+" "+e.Host)
	}
	return out
}

// commands are the CLI commands called, e.g. "terminate-instances".
func (r fencerRun) commands() []string {
	var out []string
	for _, c := range r.ec2 {
		if i := slices.Index(c, "ec2"); i >= 0 && i+1 < len(c) {
			out = append(out, c[i+1])
		}
	}
	return out
}

func (r fencerRun) count(command string) int {
	n := 0
	for _, c := range r.commands() {
		if c == command {
			n++
		}
	}
	return n
}

func ourAgent(state string) *fakeInstance {
	return &fakeInstance{ID: agentID, PrivateIP: agentIP, State: state, Tags: agentTags(testClusterID), LaunchTime: agentLaunched}
}

// When the test's agent was launched and, later, its task staged.
const (
	agentLaunched = "2026-12-06T20:01:00+00:00"
	taskStaged    = "2026-12-06T20:09:30.123Z"
)

func allowed(instances ...*fakeInstance) fakeEC2 {
	return fakeEC2{Instances: instances, TerminateClusterID: testClusterID, ShutdownPolls: 2}
}

var self = testMasterIP + ":" + strconv.Itoa(facts.MarathonPort)

func TestFencerActsOnlyOnTheLeader(t *testing.T) {
	unreachable := []marathonTask{task(1, agentIP, "TASK_UNREACHABLE")}
	for name, leader := range map[string]string{
		"another master leads": testMasterIPs[1] + ":" + strconv.Itoa(facts.MarathonPort),
		"no leader (404)":      "",
		// Marathon's leader is host:port; the address alone is not this master.
		"the address without the port": testMasterIP,
	} {
		t.Run(name, func(t *testing.T) {
			n := newFencerNode(t, leader, unreachable, allowed(ourAgent("running")))
			r := n.run(2)
			if len(r.ec2) != 0 || len(r.events) != 0 {
				t.Errorf("not the leader: EC2 calls %v, lines %v", r.ec2, r.kinds())
			}
			if got := n.ec2().instance(agentID); got.State != "running" || got.Terminations != 0 {
				t.Errorf("the agent is %+v, want running and untouched", got)
			}
		})
	}
}

func TestFencerTerminatesAnUnreachableAgent(t *testing.T) {
	tasks := []marathonTask{task(1, agentIP, "TASK_UNREACHABLE"), task(2, otherAgentIP, "TASK_RUNNING")}
	other := &fakeInstance{ID: otherInstance, PrivateIP: otherAgentIP, State: "running", Tags: agentTags(testClusterID)}
	n := newFencerNode(t, self, tasks, allowed(ourAgent("running"), other))
	// Two polls: the second finds the task still unreachable (Marathon
	// keeps it until it is expunged) and does nothing again.
	r := n.run(2)
	want := []string{"lost " + agentID + " " + agentIP, "fencing " + agentID + " " + agentIP, "fenced " + agentID + " " + agentIP}
	if !slices.Equal(r.kinds(), want) {
		t.Fatalf("lines %v, want %v:\n%s", r.kinds(), want, r.out)
	}
	for i := 1; i < len(r.events); i++ {
		if r.events[i].Time.Before(r.events[i-1].Time) {
			t.Errorf("line %d is older than the one before it:\n%s", i+1, r.out)
		}
	}
	// Look-up by address and this cluster's agent tags, then terminate
	// without OS shutdown, then one describe per poll until terminated
	// (the fake answers shutting-down twice).
	if got := r.commands(); !slices.Equal(got, []string{"describe-instances", "terminate-instances", "describe-instances", "describe-instances"}) {
		t.Errorf("EC2 calls %v", got)
	}
	find := strings.Join(r.ec2[0], " ")
	for _, f := range []string{"Name=private-ip-address,Values=" + agentIP, "Name=tag:" + facts.TagClusterID + ",Values=" + testClusterID, "Name=tag:" + facts.TagRole + ",Values=" + facts.RoleAgent, "--region us-east-1"} {
		if !strings.Contains(find, f) {
			t.Errorf("the look-up %q lacks %q", find, f)
		}
	}
	if term := strings.Join(r.ec2[1], " "); !strings.Contains(term, "--instance-ids "+agentID) || !strings.Contains(term, "--skip-os-shutdown") {
		t.Errorf("terminate %q: want --instance-ids %s --skip-os-shutdown", term, agentID)
	}
	e := n.ec2()
	if got := e.instance(agentID); got.State != "terminated" || got.Terminations != 1 || !got.SkippedOSShutdown {
		t.Errorf("the lost agent is %+v, want terminated once, skipping the OS shutdown", got)
	}
	if got := e.instance(otherInstance); got.State != "running" || got.Terminations != 0 {
		t.Errorf("the agent whose task runs is %+v, want untouched", got)
	}

	// A new leader (here: the fencer restarted) derives the same fence
	// from Marathon and EC2, finds it done and terminates nothing.
	again := n.run(1)
	if want := []string{"lost " + agentID + " " + agentIP, "fenced " + agentID + " " + agentIP}; !slices.Equal(again.kinds(), want) || again.count("terminate-instances") != 0 {
		t.Errorf("after a failover: lines %v, calls %v; want %v and no terminate", again.kinds(), again.commands(), want)
	}
}

func TestFencerReportsARefusalAndRetries(t *testing.T) {
	tasks := []marathonTask{task(1, agentIP, "TASK_UNREACHABLE")}
	refused := allowed(ourAgent("running"))
	refused.TerminateClusterID = "" // the role lacks the permission
	n := newFencerNode(t, self, tasks, refused)
	r := n.run(2)
	if want := []string{"lost " + agentID + " " + agentIP, "failed " + agentID + " " + agentIP}; !slices.Equal(r.kinds(), want) {
		t.Fatalf("lines %v, want %v (the same failure once):\n%s", r.kinds(), want, r.out)
	}
	if d := r.events[1].Detail; !strings.Contains(d, "UnauthorizedOperation") || strings.Contains(d, "Encoded authorization failure message") {
		t.Errorf("failed detail %q: want the reason, without the encoded message", d)
	}
	if got := r.count("terminate-instances"); got != 2 {
		t.Errorf("%d terminate calls in two polls, want one each (retried at the next poll)", got)
	}
	if got := n.ec2().instance(agentID); got.State != "running" {
		t.Errorf("the agent is %s after a refused fence", got.State)
	}
	// The permission fixed, the next run fences it.
	e := n.ec2()
	e.TerminateClusterID = testClusterID
	n.setEC2(e)
	if r := n.run(1); !slices.Contains(r.kinds(), "fenced "+agentID+" "+agentIP) {
		t.Errorf("after the fix: %v", r.kinds())
	}
}

func TestFencerFailsWithoutTermination(t *testing.T) {
	tasks := []marathonTask{task(1, agentIP, "TASK_UNREACHABLE")}
	for _, tt := range []struct {
		name  string
		ec2   func(e *fakeEC2)
		polls int
		// reason is in the failed line; terminated says whether the fence
		// still ends on a later poll of the same run.
		reason     string
		fencedLate bool
	}{
		{"throttled look-up", func(e *fakeEC2) {
			e.Errors = []fakeAPIError{{Op: "DescribeInstances", Code: "RequestLimitExceeded", Message: "Request limit exceeded."}}
		}, 2, "RequestLimitExceeded", true},
		{"terminate times out", func(e *fakeEC2) { e.Errors = []fakeAPIError{{Op: "TerminateInstances", Code: "ReadTimeout"}} }, 2, "Read timeout", true},
		{"never terminated", func(e *fakeEC2) { e.ShutdownPolls = -1 }, 1, "not terminated after " + strconv.Itoa(int(facts.FenceConfirmTimeout/fenceConfirmPoll)) + " polls (state shutting-down)", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := allowed(ourAgent("running"))
			tt.ec2(&e)
			n := newFencerNode(t, self, tasks, e)
			r := n.run(tt.polls)
			i := slices.IndexFunc(r.events, func(e fencelog.Event) bool { return e.Event == facts.FenceEventFailed })
			if i < 0 || !strings.Contains(r.events[i].Detail, tt.reason) {
				t.Fatalf("no failed line with %q:\n%s", tt.reason, r.out)
			}
			fenced := slices.IndexFunc(r.events, func(e fencelog.Event) bool { return e.Event == facts.FenceEventFenced })
			if tt.fencedLate != (fenced > i) || fenced >= 0 && fenced < i {
				t.Errorf("fenced at line %d, failed at %d; want fenced only after a retry: %v", fenced, i, tt.fencedLate)
			}
			if st := n.ec2().instance(agentID).State; (st == "terminated") != tt.fencedLate {
				t.Errorf("the agent is %s", st)
			}
		})
	}
}

func TestFencerAlreadyTerminated(t *testing.T) {
	n := newFencerNode(t, self, []marathonTask{task(1, agentIP, "TASK_UNREACHABLE")}, allowed(ourAgent("terminated")))
	r := n.run(1)
	if want := []string{"lost " + agentID + " " + agentIP, "fenced " + agentID + " " + agentIP}; !slices.Equal(r.kinds(), want) || r.count("terminate-instances") != 0 {
		t.Errorf("lines %v, calls %v; want %v and no terminate", r.kinds(), r.commands(), want)
	}
}

// A replacement agent may have the address of a terminated one that EC2
// still lists: the live instance is the one that holds it, and it is
// fenced when it was launched before the unreachable task was staged.
func TestFencerTerminatesTheLiveHolderOfTheAddress(t *testing.T) {
	old := &fakeInstance{ID: "i-0000000000000dead", PrivateIP: agentIP, State: "terminated", Tags: agentTags(testClusterID), LaunchTime: "2026-12-06T19:00:00+00:00"}
	n := newFencerNode(t, self, []marathonTask{task(1, agentIP, "TASK_UNREACHABLE")}, allowed(old, ourAgent("running")))
	r := n.run(1)
	if !slices.Contains(r.kinds(), "fenced "+agentID+" "+agentIP) || n.ec2().instance(agentID).State != "terminated" {
		t.Errorf("lines %v", r.kinds())
	}
}

// An agent launched at the address after the unreachable task was staged
// (pulumi up put a new agent at the same fixed address while Marathon still
// lists the old task) cannot have run it: it is never fenced.
func TestFencerSparesAnAgentLaunchedAfterTheTask(t *testing.T) {
	newer := ourAgent("running")
	newer.LaunchTime = "2026-12-06T20:14:00+00:00"
	old := &fakeInstance{ID: "i-0000000000000dead", PrivateIP: agentIP, State: "terminated", Tags: agentTags(testClusterID), LaunchTime: agentLaunched}
	for name, e := range map[string]fakeEC2{"old holder still listed": allowed(old, newer), "old holder gone from EC2": allowed(newer)} {
		t.Run(name, func(t *testing.T) {
			n := newFencerNode(t, self, []marathonTask{task(1, agentIP, "TASK_UNREACHABLE")}, e)
			r := n.run(1)
			if got := n.ec2().instance(agentID); got.State != "running" || got.Terminations != 0 || r.count("terminate-instances") != 0 {
				t.Fatalf("the agent launched after the task is %+v; lines %v", got, r.kinds())
			}
			want := "fenced i-0000000000000dead " + agentIP
			if name == "old holder gone from EC2" {
				want = "failed " + facts.FenceNoInstance + " " + agentIP
			}
			if !slices.Contains(r.kinds(), want) {
				t.Errorf("lines %v, want %q", r.kinds(), want)
			}
		})
	}
}

func TestFencerTouchesNoOtherInstance(t *testing.T) {
	for name, in := range map[string]*fakeInstance{
		"another cluster's agent": {ID: otherInstance, PrivateIP: agentIP, State: "running", Tags: agentTags("mha-99999999")},
		"this cluster's master":   {ID: otherInstance, PrivateIP: agentIP, State: "running", Tags: map[string]string{facts.TagClusterID: testClusterID, facts.TagRole: facts.RoleMaster}},
		"an untagged instance":    {ID: otherInstance, PrivateIP: agentIP, State: "running"},
	} {
		t.Run(name, func(t *testing.T) {
			e := allowed(in)
			// Even a role that would allow it: the fencer never asks.
			e.TerminateClusterID = in.Tags[facts.TagClusterID]
			n := newFencerNode(t, self, []marathonTask{task(1, agentIP, "TASK_UNREACHABLE")}, e)
			r := n.run(2)
			if want := []string{"failed " + facts.FenceNoInstance + " " + agentIP}; !slices.Equal(r.kinds(), want) || !strings.Contains(r.events[0].Detail, "nothing touched") {
				t.Errorf("lines %v, want %v saying nothing was touched:\n%s", r.kinds(), want, r.out)
			}
			if r.count("terminate-instances") != 0 || n.ec2().instance(otherInstance).Terminations != 0 {
				t.Errorf("calls %v: the instance was asked to terminate", r.commands())
			}
		})
	}
}

// The fencer's question who leads outlasts a leaderless Marathon's wait
// (facts.MarathonLeaderWait), so it sees the 503 rather than timing out
// (the fake cluster's curl shows both: ready_test.go).
func TestFencerLeaderProbeOutlastsMarathonsWait(t *testing.T) {
	n := newFencerNode(t, "", nil, allowed())
	raw, err := os.ReadFile(filepath.Join(n.root, fencerScript))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`curl -fsS --max-time (\d+) "\$\{marathon\}/v2/leader"`).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatalf("no bounded curl of /v2/leader in the fencer:\n%s", raw)
	}
	secs, _ := strconv.Atoi(m[1])
	if d := time.Duration(secs) * time.Second; d <= facts.MarathonLeaderWait || d != facts.MarathonLeaderProbeTimeout {
		t.Errorf("the fencer asks /v2/leader with --max-time %ds: want facts.MarathonLeaderProbeTimeout %s, above Marathon's leaderless wait %s",
			secs, facts.MarathonLeaderProbeTimeout, facts.MarathonLeaderWait)
	}
}
