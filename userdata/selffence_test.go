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
)

// The self-fence's tests run the rendered mha-self-fence against the fakes
// with a clock of their own: $MHA_ROOT/proc/uptime, which the fake sleep
// moves on, starting at selfFenceStart. The fake curl answers a master's
// /health when $MHA_ROOT/fake-masters lists it (boot_test.go).

const (
	selfFenceAgentIP = "10.0.1.21"
	selfFenceStart   = 100 // seconds of uptime when the service starts
	// mesosTask and mesosExecutor are what Mesos 1.4.1 names a task's and
	// its executor's containers: DOCKER_NAME_PREFIX, the ContainerID (a
	// UUID) and ".executor" (apache/mesos src/slave/containerizer/docker.hpp).
	mesosTask     = "mesos-3f1d2b4c-5a6e-4f70-8a9b-0c1d2e3f4a5b"
	mesosExecutor = mesosTask + ".executor"
	rexrayMount   = "/var/lib/docker/plugins/0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9/propagated-mount/volumes/moby-counter"
	flockerMount  = "/flocker/5d2f5e8c-0000-4000-8000-000000000001"
)

// selfFenceRun is one run of the self-fence service.
type selfFenceRun struct {
	bootRun
	console string
}

// selfFenceNode installs agent 1's user data of a cluster of n masters and
// what the boot would have left: node.env, Docker, the clock, the running
// containers and the mounts. up lists, by second of the clock, which
// masters answer from then on ("100 10.0.1.10 10.0.1.11").
func selfFenceNode(t *testing.T, driver string, n int, up ...string) (string, AgentInput) {
	t.Helper()
	in := haAgentInput(driver, n)
	doc, err := RenderAgent(in)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := installNode(t, doc)
	state, err := json.Marshal(fakeState{Running: []string{"mesos-agent", mesosTask, mesosExecutor, "flocker-dataset-agent", "mesos-not-a-uuid"}})
	if err != nil {
		t.Fatal(err)
	}
	for path, content := range map[string]string{
		nodeEnv:                          "PRIVATE_IP=" + selfFenceAgentIP + "\nINSTANCE_ID=" + testInstanceID + "\n",
		dpkgStatusPath:                   dpkgStatus(facts.DockerPackages[0].Pin()),
		"var/lib/fake-docker/state.json": string(state),
		"proc/uptime":                    strconv.Itoa(selfFenceStart) + ".00 10.00\n",
		"fake-masters":                   strings.Join(up, "\n") + "\n",
		"proc/mounts": "/dev/xvda1 / ext4 rw,relatime 0 0\n" +
			"overlay /var/lib/docker/overlay2/1c2d/merged overlay rw,relatime 0 0\n" +
			"/dev/xvdf " + rexrayMount + " ext4 rw,relatime 0 0\n" +
			"/dev/xvdg " + flockerMount + " ext4 rw,relatime 0 0\n",
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, in
}

// runSelfFence runs the service for at most rounds probe rounds.
func runSelfFence(t *testing.T, root string, rounds int, fail string) selfFenceRun {
	t.Helper()
	out, err := runScript(t, root, selfFenceScript, selfFenceAgentIP, fail, "MHA_SELF_FENCE_ROUNDS="+strconv.Itoa(rounds))
	console, cerr := os.ReadFile(filepath.Join(root, "dev/console"))
	if cerr != nil && !os.IsNotExist(cerr) {
		t.Fatal(cerr)
	}
	return selfFenceRun{bootRun{root: root, out: out, err: err, calls: readCalls(t, root)}, string(console)}
}

// fenceCalls are the calls of the fence's actions, in order: everything
// but the probes and the sleeps between them.
func (r selfFenceRun) fenceCalls() [][]string {
	var calls [][]string
	for _, c := range r.calls {
		if c[0] != "curl" && c[0] != "sleep" {
			calls = append(calls, c)
		}
	}
	return calls
}

func (r selfFenceRun) fenced(t *testing.T) bool {
	t.Helper()
	return exists(t, filepath.Join(r.root, facts.SelfFenceMarker))
}

// masters is a fake-masters line: from second from on, these answer.
func masters(from int, ips ...string) string {
	return strconv.Itoa(from) + " " + strings.Join(ips, " ")
}

var fenceLine = regexp.MustCompile(`^` + facts.FenceLogPrefix + ` (\S+) ` + facts.FenceEventSelfFenced + ` instance=(\S+) host=(\S+) detail=(.+)$`)

// TestSelfFenceFencesAfterQuorumLoss: three masters answer, then only one
// (no quorum of 2) from second 103. The last good round began at 102, so
// the round at 106 finds 4 s (the default selfFenceSeconds) gone and
// fences: the containers Mesos launched are killed (not the agent's own,
// nor any other), the disks synced, the driver's mounts (only those)
// unmounted, the app's port blocked, the Mesos agent stopped, the marker
// written and one console line printed, in that order.
func TestSelfFenceFencesAfterQuorumLoss(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			root, in := selfFenceNode(t, driver, 3, masters(0, testMasterIPs[:3]...), masters(103, testMasterIPs[0]))
			// The rules are not there yet: the checks fail, and they are inserted.
			r := runSelfFence(t, root, 10, "iptables --wait --check")
			if r.err != nil {
				t.Fatalf("self-fence: %v\n%s", r.err, r.out)
			}
			mount := rexrayMount
			if driver == facts.VolumeDriverFlocker {
				mount = flockerMount
			}
			port := strconv.Itoa(in.AppPort)
			want := [][]string{
				{"docker", "ps", "--format", "{{.Names}}"},
				{"docker", "kill", mesosTask, mesosExecutor},
				{"sync"},
				{"umount", mount},
				{"iptables", "--wait", "--check", "INPUT", "--protocol", "tcp", "--dport", port, "--jump", "DROP"},
				{"iptables", "--wait", "--insert", "INPUT", "1", "--protocol", "tcp", "--dport", port, "--jump", "DROP"},
				{"iptables", "--wait", "--check", "DOCKER-USER", "--protocol", "tcp", "--match", "conntrack", "--ctorigdstport", port, "--ctdir", "ORIGINAL", "--jump", "DROP"},
				{"iptables", "--wait", "--insert", "DOCKER-USER", "1", "--protocol", "tcp", "--match", "conntrack", "--ctorigdstport", port, "--ctdir", "ORIGINAL", "--jump", "DROP"},
				{"systemctl", "stop", facts.MesosAgentUnit},
			}
			if got := r.fenceCalls(); !slices.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("fence calls:\n%s\nwant, in this order:\n%s", callLines(got), callLines(want))
			}
			// It fenced on the round at 106 and stopped probing: 7 rounds.
			if probes := len(r.calls) - len(want) - 6; probes != 7*3 {
				t.Errorf("%d probes, want 3 masters in each of 7 rounds; calls:\n%s", probes, r.callList())
			}
			var running fakeState
			raw, err := os.ReadFile(filepath.Join(root, "var/lib/fake-docker/state.json"))
			if err != nil || json.Unmarshal(raw, &running) != nil {
				t.Fatalf("fake docker state: %v", err)
			}
			if !slices.Equal(running.Running, []string{"mesos-agent", "flocker-dataset-agent", "mesos-not-a-uuid"}) {
				t.Errorf("still running %v, want the containers Mesos did not launch", running.Running)
			}

			marker, err := os.ReadFile(filepath.Join(root, facts.SelfFenceMarker))
			if err != nil || string(marker) != "no quorum of masters for 4.00 s\n" {
				t.Errorf("marker %q, %v", marker, err)
			}
			lines := strings.Split(strings.TrimSpace(r.console), "\n")
			m := fenceLine.FindStringSubmatch(lines[len(lines)-1])
			if m == nil {
				t.Fatalf("the console's last line is not the self-fenced line:\n%s", r.console)
			}
			if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
				t.Errorf("time %q: %v", m[1], err)
			}
			wantDetail := "no quorum of masters for 4.00 s; killed=2 unmounted=" + mount + " blocked=" + port + " agent-stopped"
			if m[2] != testInstanceID || m[3] != selfFenceAgentIP || m[4] != wantDetail {
				t.Errorf("console line %q\nwant instance=%s host=%s detail=%s", lines[len(lines)-1], testInstanceID, selfFenceAgentIP, wantDetail)
			}
			if n := strings.Count(r.console, facts.FenceLogPrefix+" "); n != 1 {
				t.Errorf("%d fence lines, want 1:\n%s", n, r.console)
			}
		})
	}
}

func callLines(calls [][]string) string {
	var b strings.Builder
	for _, c := range calls {
		b.WriteString("  " + strings.Join(c, " ") + "\n")
	}
	return b.String()
}

// TestSelfFenceQuorum: a round needs a majority of the masters
// (facts.MasterQuorum); with it the agent never fences, without it for
// longer than selfFenceSeconds it does. An agent whose masters never
// answered is not armed and never fences, however long.
func TestSelfFenceQuorum(t *testing.T) {
	for _, tt := range []struct {
		name  string
		n     int
		up    []string
		fence bool
	}{
		{"1 master answers", 1, []string{masters(0, testMasterIPs[0])}, false},
		{"1 master stops answering", 1, []string{masters(0, testMasterIPs[0]), masters(105)}, true},
		{"2 of 3 answer throughout", 3, []string{masters(0, testMasterIPs[:3]...), masters(103, testMasterIPs[1:3]...)}, false},
		{"1 of 3 answers", 3, []string{masters(0, testMasterIPs[:3]...), masters(103, testMasterIPs[2])}, true},
		{"3 of 5 answer", 5, []string{masters(0, testMasterIPs[:5]...), masters(103, testMasterIPs[2:5]...)}, false},
		{"2 of 5 answer", 5, []string{masters(0, testMasterIPs[:5]...), masters(103, testMasterIPs[3:5]...)}, true},
		{"quorum back in time", 3, []string{masters(0, testMasterIPs[:3]...), masters(103), masters(106, testMasterIPs[:2]...)}, false},
		{"never armed: the masters never answer", 3, nil, false},
		{"never armed: one of 3 only", 3, []string{masters(0, testMasterIPs[0])}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, _ := selfFenceNode(t, facts.VolumeDriverRexRay, tt.n, tt.up...)
			r := runSelfFence(t, root, 12, "")
			if r.err != nil {
				t.Fatalf("self-fence: %v\n%s", r.err, r.out)
			}
			if r.fenced(t) != tt.fence {
				t.Fatalf("fenced = %v, want %v; console:\n%s\ncalls:\n%s", r.fenced(t), tt.fence, r.console, r.callList())
			}
			if !tt.fence {
				if calls := r.fenceCalls(); len(calls) > 0 {
					t.Errorf("no fence, yet it called:\n%s", callLines(calls))
				}
				if strings.Contains(r.console, facts.FenceLogPrefix) {
					t.Errorf("no fence, yet the console says:\n%s", r.console)
				}
			}
			if armed := strings.Contains(r.console, "armed"); armed != (len(tt.up) > 0 && !strings.HasPrefix(tt.name, "never")) {
				t.Errorf("armed = %v; console:\n%s", armed, r.console)
			}
		})
	}
}

// TestSelfFenceStaysFenced: a service that finds the marker (a restart, a
// reboot) does not probe or arm: it kills any container Mesos launched,
// unmounts, blocks the port and stops the agent again, and prints no
// second self-fenced line. The agent's unit does not start while the
// marker exists.
func TestSelfFenceStaysFenced(t *testing.T) {
	root, in := selfFenceNode(t, facts.VolumeDriverRexRay, 3, masters(0, testMasterIPs[:3]...))
	marker := filepath.Join(root, facts.SelfFenceMarker)
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(marker, []byte("no quorum of masters for 4.00 s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runSelfFence(t, root, 10, "")
	if r.err != nil {
		t.Fatalf("self-fence: %v\n%s", r.err, r.out)
	}
	if i := r.find("curl"); i >= 0 {
		t.Errorf("a fenced agent probes its masters: %v", r.calls[i])
	}
	port := strconv.Itoa(in.AppPort)
	for _, want := range [][]string{
		{"docker", "kill", mesosTask, mesosExecutor},
		{"umount", rexrayMount},
		{"iptables", "--wait", "--check", "INPUT", "--protocol", "tcp", "--dport", port, "--jump", "DROP"},
		{"systemctl", "stop", facts.MesosAgentUnit},
	} {
		if r.find(want...) < 0 {
			t.Errorf("no %v; calls:\n%s", want, r.callList())
		}
	}
	if strings.Contains(r.console, facts.FenceLogPrefix) {
		t.Errorf("a second self-fenced line:\n%s", r.console)
	}
	if got, err := os.ReadFile(marker); err != nil || string(got) != "no quorum of masters for 4.00 s\n" {
		t.Errorf("marker now %q, %v", got, err)
	}

	doc, err := RenderAgent(in)
	if err != nil {
		t.Fatal(err)
	}
	unit := parse(t, doc).file(t, unitDir+"/mesos-agent.service")
	if !strings.Contains(unit, "\nConditionPathExists=!"+facts.SelfFenceMarker+"\n") {
		t.Errorf("the Mesos agent's unit may start on a fenced agent:\n%s", unit)
	}
}

// TestSelfFenceGoesOnAfterAFailedStep: a step that fails does not stop the
// fence; the console line names it.
func TestSelfFenceGoesOnAfterAFailedStep(t *testing.T) {
	root, _ := selfFenceNode(t, facts.VolumeDriverRexRay, 1, masters(0, testMasterIP), masters(101))
	r := runSelfFence(t, root, 10, "umount")
	if r.err != nil {
		t.Fatalf("self-fence: %v\n%s", r.err, r.out)
	}
	if r.find("umount", "--lazy", rexrayMount) < 0 || r.find("systemctl", "stop", facts.MesosAgentUnit) < 0 || !r.fenced(t) {
		t.Fatalf("the fence stopped at the failed unmount; calls:\n%s", r.callList())
	}
	if !strings.Contains(r.console, "failed=umount:"+rexrayMount) {
		t.Errorf("the console does not name the failed unmount:\n%s", r.console)
	}
}

// TestSelfFenceThresholdFromInput: the threshold is the input's
// SelfFenceAfter (config selfFenceSeconds), not a constant.
func TestSelfFenceThresholdFromInput(t *testing.T) {
	in := agentInput(facts.VolumeDriverRexRay)
	in.SelfFenceAfter = 7 * time.Second
	doc, err := RenderAgent(in)
	if err != nil {
		t.Fatal(err)
	}
	if script := parse(t, doc).file(t, selfFenceScript); !strings.Contains(script, "\nAFTER=700\n") {
		t.Errorf("a 7 s SelfFenceAfter does not give AFTER=700 centiseconds")
	}
}

// TestJournalCommit: the watch remounts the driver's ext4 mounts that lack
// commit=1 and writes it into their default mount options; it leaves one
// that has it, and every mount that is not the driver's.
func TestJournalCommit(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			root, _ := selfFenceNode(t, driver, 1)
			mount, other := rexrayMount, flockerMount
			if driver == facts.VolumeDriverFlocker {
				mount, other = flockerMount, rexrayMount
			}
			mounts := "/dev/xvda1 / ext4 rw,relatime 0 0\n" +
				"/dev/xvdf " + mount + " ext4 rw,relatime 0 0\n" +
				"/dev/xvdh " + mount + "-done ext4 rw,relatime,commit=1 0 0\n" +
				"/dev/xvdg " + other + " ext4 rw,relatime 0 0\n"
			if err := os.WriteFile(filepath.Join(root, "proc/mounts"), []byte(mounts), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := runScript(t, root, journalCommitScript, selfFenceAgentIP, "", "MHA_JOURNAL_COMMIT_ROUNDS=1")
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			calls := readCalls(t, root)
			want := [][]string{
				{"mount", "-o", "remount,commit=1", mount},
				{"tune2fs", "-E", "mount_opts=commit=1", "/dev/xvdf"},
			}
			if !slices.EqualFunc(calls, want, slices.Equal) {
				t.Errorf("calls:\n%s\nwant:\n%s", callLines(calls), callLines(want))
			}
		})
	}
}
