package userdata

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// bootMasters boots the masters of inputs at once, each in its own scratch
// root, sharing the fake cluster in dir: a master's wait-ready checks every
// half second for a minute at least, as the others come up.
func bootMasters(t *testing.T, dir string, inputs []MasterInput, env ...string) []bootRun {
	t.Helper()
	runs := make([]bootRun, len(inputs))
	var wg sync.WaitGroup
	for i, in := range inputs {
		doc, err := RenderMaster(in)
		if err != nil {
			t.Fatal(err)
		}
		root, cc := installNode(t, doc)
		ip := in.Masters[in.Index-1]
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := append([]string{"FAKE_CLUSTER=" + dir, "MHA_READY_ATTEMPTS=120", "FAKE_SLEEP=0.5"}, env...)
			out, err := runScript(t, root, cc.RunCmd[0][0], ip, "", env...)
			runs[i] = bootRun{root: root, out: out, err: err, doc: cc, fakeIP: ip}
		}()
	}
	wg.Wait()
	for i := range runs {
		runs[i].calls = readCalls(t, runs[i].root)
	}
	return runs
}

// readyCheck runs a booted master's readiness check in its fake cluster.
func readyCheck(t *testing.T, r bootRun, dir string) (string, error) {
	t.Helper()
	return runScript(t, r.root, facts.ReadyCheckCommand, r.fakeIP, "", "FAKE_CLUSTER="+dir)
}

// TestMasterWithoutQuorumIsNotReady: a master of three whose peers never
// boot has a ZooKeeper that answers ruok with imok but serves nothing, no
// Mesos leader and no Marathon leader: it is not ready, and its boot says
// why on the console.
func TestMasterWithoutQuorumIsNotReady(t *testing.T) {
	r := bootMasters(t, t.TempDir(), []MasterInput{haMasterInput(facts.VolumeDriverRexRay, 3, 1)}, "MHA_READY_ATTEMPTS=2", "FAKE_SLEEP=")[0]
	if r.err == nil {
		t.Fatalf("a master of three booted alone is ready:\n%s", r.out)
	}
	console, _ := os.ReadFile(filepath.Join(r.root, "dev/console"))
	for _, want := range []string{
		facts.BootFailedPrefix + "wait-ready: ",
		"not ready: ZooKeeper serves as leader or follower (srvr on 2181) (" + facts.ZooKeeperNotServing + ")",
		"not ready: Mesos has a leader (/redirect on 5050) (HTTP 503: " + facts.MesosNoLeader + ")",
		"not ready: Marathon has a leader (/v2/leader on 8080) (HTTP 503: Error 503 " + facts.MarathonNoLeader + ")",
	} {
		if !strings.Contains(string(console), want) {
			t.Errorf("the console lacks %q:\n%s", want, console)
		}
	}
	if exists(t, filepath.Join(r.root, facts.ReadyMarkerPath)) || strings.Contains(r.out, "READY") {
		t.Errorf("a master without a quorum left the ready marker or said READY:\n%s", r.out)
	}
}

// bootInTurn boots masters 1 to upTo of a cluster of size one after the
// other in the fake cluster in dir, each checking its readiness twice:
// those booted before the cluster forms fail at wait-ready with their
// services left running, as on EC2.
func bootInTurn(t *testing.T, dir string, size, upTo int) []bootRun {
	t.Helper()
	var runs []bootRun
	for i := 1; i <= upTo; i++ {
		runs = append(runs, bootMasters(t, dir, []MasterInput{haMasterInput(facts.VolumeDriverRexRay, size, i)}, "MHA_READY_ATTEMPTS=2", "FAKE_SLEEP=")...)
	}
	return runs
}

// TestFirstHABootWaitsForEveryMaster: two masters of three form ZooKeeper's
// quorum and elect Mesos and Marathon leaders, but Mesos's empty replicated
// log needs all three replicas to initialise, so the Mesos leader never
// recovers and neither master is ready; the check says why. The third
// master's boot completes the log and every master is ready, unless its
// ZooKeeper serves standalone; once the log is initialised, losing one
// master leaves the others ready.
func TestFirstHABootWaitsForEveryMaster(t *testing.T) {
	dir := t.TempDir()
	runs := bootInTurn(t, dir, 3, 2)
	second, _ := readyCheck(t, runs[0], dir)
	for _, out := range []string{runs[1].out, second} {
		for _, want := range []string{
			"ok: ZooKeeper serves as leader or follower",
			"ok: Mesos has a leader",
			"not ready: Mesos leader has recovered its registry (/api/v1 on 5050) (HTTP 503: " + facts.MesosNotRecovered +
				"; the first boot of 3 masters waits for all 3",
			"ok: Marathon has a leader",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("two masters of three on a first boot: the check lacks %q:\n%s", want, out)
			}
		}
	}
	if runs[1].err == nil {
		t.Fatalf("master 2 is ready with two masters of three on a first boot:\n%s", runs[1].out)
	}

	r := bootMasters(t, dir, []MasterInput{haMasterInput(facts.VolumeDriverRexRay, 3, 3)}, "MHA_READY_ATTEMPTS=2", "FAKE_SLEEP=")[0]
	r.mustSucceed(t)
	runs = append(runs, r)
	for _, r := range runs[:2] {
		if out, err := readyCheck(t, r, dir); err != nil {
			t.Errorf("%s not ready once all three masters are up: %v\n%s", r.fakeIP, err, out)
		}
	}
	// A ZooKeeper that serves standalone in an ensemble's place (its
	// ensemble configuration lost) serves its own data, not the cluster's.
	standalone(t, dir, testMasterIPs[0], func() {
		out, err := readyCheck(t, runs[0], dir)
		if want := "not ready: ZooKeeper serves as leader or follower (srvr on 2181) (Mode: standalone, want leader or follower)"; err == nil || !strings.Contains(out, want) {
			t.Errorf("standalone ZooKeeper on a master of three: %v, want %q:\n%s", err, want, out)
		}
	})
	// Master 3 dies: ZooKeeper and Mesos keep a quorum of an initialised log.
	if err := os.RemoveAll(filepath.Join(dir, testMasterIPs[2])); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs[:2] {
		if out, err := readyCheck(t, r, dir); err != nil {
			t.Errorf("%s not ready after losing one master of an initialised cluster: %v\n%s", r.fakeIP, err, out)
		}
	}
	// And master 2: no quorum left.
	if err := os.RemoveAll(filepath.Join(dir, testMasterIPs[1])); err != nil {
		t.Fatal(err)
	}
	if out, err := readyCheck(t, runs[0], dir); err == nil || !strings.Contains(out, facts.ZooKeeperNotServing) {
		t.Errorf("master 1 alone of three: %v\n%s", err, out)
	}
}

// standalone runs f with the ZooKeeper at ip registered as standalone,
// then registers it as it was.
func standalone(t *testing.T, dir, ip string, f func()) {
	t.Helper()
	reg := filepath.Join(dir, ip, "zookeeper.json")
	was, err := os.ReadFile(reg)
	if err != nil {
		t.Fatal(err)
	}
	var zk fakeService
	if err := json.Unmarshal(was, &zk); err != nil {
		t.Fatal(err)
	}
	zk.Servers = nil
	raw, _ := json.Marshal(zk)
	if err := os.WriteFile(reg, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	f()
	if err := os.WriteFile(reg, was, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFakeClusterAnswersLikeTheRealOnes: the fake services refuse and
// answer as ZooKeeper 3.4.14, Mesos 1.4.1 and Marathon 1.4.9 do
// (fakecluster_test.go has the sources).
func TestFakeClusterAnswersLikeTheRealOnes(t *testing.T) {
	const a, b, c = "10.0.1.10", "10.0.1.11", "10.0.1.12"
	zkURL := "zk://" + a + ":2181," + b + ":2181," + c + ":2181"
	ensemble := map[int]string{1: a, 2: b, 3: c}
	zk := func(ip string, id int) fakeService {
		return fakeService{Name: "zookeeper", IP: ip, MyID: id, Servers: ensemble}
	}
	mesos := func(ip string, seq int64) fakeService {
		return fakeService{Name: "mesos-master", IP: ip, Seq: seq, Argv: []string{"mesos-master", "--zk=" + zkURL + "/mesos", "--quorum=2", "--hostname=" + ip, "--port=5050"}}
	}
	marathon := func(ip string, seq int64) fakeService {
		return fakeService{Name: "marathon", IP: ip, Seq: seq, Argv: []string{"./bin/start", "--zk=" + zkURL + "/marathon", "--hostname=" + ip, "--http_port=8080"}}
	}
	api := []string{"-sS", "-H", "Content-Type: application/json", "-d", facts.MesosHealthCall}
	tests := []struct {
		name     string
		services []fakeService
		initLog  bool
		tool     string
		args     []string
		stdin    string
		exit     int
		out      string // in stdout and stderr
	}{
		{"ruok answers imok without a quorum", []fakeService{zk(a, 1)}, false, "nc", []string{"-w", "3", a, "2181"}, "ruok", 0, "imok"},
		{"srvr without a quorum", []fakeService{zk(a, 1)}, false, "nc", []string{a, "2181"}, "srvr", 0, facts.ZooKeeperNotServing},
		{"srvr of the highest id is the leader", []fakeService{zk(a, 1), zk(b, 2)}, false, "nc", []string{b, "2181"}, "srvr", 0, "\nMode: leader\n"},
		{"srvr of a follower", []fakeService{zk(a, 1), zk(b, 2)}, false, "nc", []string{a, "2181"}, "srvr", 0, "\nMode: follower\n"},
		{"srvr standalone", []fakeService{{Name: "zookeeper", IP: a, MyID: 1}}, false, "nc", []string{a, "2181"}, "srvr", 0, "\nMode: standalone\n"},
		{"wchc is off the whitelist", []fakeService{zk(a, 1), zk(b, 2)}, false, "nc", []string{a, "2181"}, "wchc", 0, "wchc is not executed because it is not in the whitelist."},
		{"no ZooKeeper: refused", nil, false, "nc", []string{a, "2181"}, "srvr", 1, ""},
		{"an unmodelled word", []fakeService{zk(a, 1)}, false, "nc", []string{a, "2181"}, "mntr", 2, "no model"},

		{"Mesos without a ZooKeeper quorum", []fakeService{zk(a, 1), mesos(a, 1)}, false, "curl", []string{"-sS", "-w", `\n%{http_code}`, "http://" + a + ":5050/redirect"}, "", 0, facts.MesosNoLeader + "\n503"},
		{"Mesos redirects to the earliest contender", []fakeService{zk(a, 1), zk(b, 2), mesos(b, 1), mesos(a, 2)}, false, "curl", []string{"-sS", "-w", `%{http_code}`, "http://" + a + ":5050/redirect"}, "", 0, "307"},
		{"the leader's state names it", []fakeService{zk(a, 1), zk(b, 2), mesos(b, 1), mesos(a, 2)}, false, "curl", []string{"-sSL", "http://" + a + ":5050/master/state"}, "", 0, `"leader":"master@` + b + `:5050"`},
		{"a first boot's log waits for every replica", []fakeService{zk(a, 1), zk(b, 2), mesos(b, 1), mesos(a, 2)}, false, "curl", append(api, "-L", "http://"+a+":5050/api/v1"), "", 0, facts.MesosNotRecovered},
		{"an initialised log recovers with a quorum", []fakeService{zk(a, 1), zk(b, 2), mesos(b, 1), mesos(a, 2)}, true, "curl", append(api, "-L", "http://"+a+":5050/api/v1"), "", 0, facts.MesosHealthy},
		{"the operator API is not followed without -L", []fakeService{zk(a, 1), zk(b, 2), mesos(b, 1), mesos(a, 2)}, true, "curl", append(api, "-w", `%{http_code}`, "http://"+a+":5050/api/v1"), "", 0, "307"},
		{"the operator API wants POST", []fakeService{zk(a, 1), zk(b, 2), mesos(a, 1), mesos(b, 2)}, true, "curl", []string{"-sS", "-w", `%{http_code}`, "http://" + a + ":5050/api/v1"}, "", 0, "405"},
		{"the operator API wants a Content-Type", []fakeService{zk(a, 1), zk(b, 2), mesos(a, 1), mesos(b, 2)}, true, "curl", []string{"-sS", "-d", facts.MesosHealthCall, "http://" + a + ":5050/api/v1"}, "", 0, "Expecting 'Content-Type' to be present"},
		{"curl -f on a 503", []fakeService{zk(a, 1), mesos(a, 1)}, false, "curl", []string{"-fsS", "http://" + a + ":5050/redirect"}, "", 22, "returned error: 503"},
		{"no Mesos master: refused", []fakeService{zk(a, 1), zk(b, 2)}, false, "curl", []string{"-sS", "http://" + a + ":5050/redirect"}, "", 7, "Connection refused"},

		{"Marathon names the earliest contender from any Marathon", []fakeService{zk(a, 1), zk(b, 2), marathon(b, 1), marathon(a, 2)}, false, "curl", []string{"-sS", "http://" + a + ":8080/v2/leader"}, "", 0, `{"leader":"` + b + `:8080"}`},
		{"Marathon without a leader answers 503 after its wait", []fakeService{zk(a, 1), marathon(a, 1)}, false, "curl", []string{"-sS", "--max-time", "5", "-w", `%{http_code}`, "http://" + a + ":8080/v2/leader"}, "", 0, "Error 503 " + facts.MarathonNoLeader},
		{"a probe shorter than Marathon's wait times out", []fakeService{zk(a, 1), marathon(a, 1)}, false, "curl", []string{"-fsS", "--max-time", "2", "http://" + a + ":8080/v2/leader"}, "", 28, "Operation timed out"},
		{"the leader probe of the fencer and the watch sees the 503", []fakeService{zk(a, 1), marathon(a, 1)}, false, "curl", []string{"-fsS", "--max-time", strconv.Itoa(int(facts.MarathonLeaderProbeTimeout / time.Second)), "http://" + a + ":8080/v2/leader"}, "", 22, "returned error: 503"},
		{"/ping goes through the leader filter too", []fakeService{zk(a, 1), marathon(a, 1)}, false, "curl", []string{"-fsS", "--max-time", "5", "http://" + a + ":8080/ping"}, "", 22, "returned error: 503"},
		{"an unmodelled curl option", nil, false, "curl", []string{"--retry", "3", "http://" + a + ":8080/ping"}, "", 2, "no model of option --retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, s := range tt.services {
				raw, _ := json.Marshal(s)
				if err := writeFile(filepath.Join(dir, s.IP, s.Name+".json"), string(raw)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.initLog {
				if err := writeFile(filepath.Join(dir, "mesos-log-initialised"), ""); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("FAKE_CLUSTER", dir)
			c, err := loadCluster()
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			var exit int
			if tt.tool == "nc" {
				exit = c.nc(tt.args, strings.NewReader(tt.stdin), &out, &out)
			} else {
				exit = c.curl(tt.args, &out, &out)
			}
			if exit != tt.exit || !strings.Contains(out.String(), tt.out) {
				t.Errorf("%s %s: exit %d, output %q; want exit %d and %q", tt.tool, strings.Join(tt.args, " "), exit, out.String(), tt.exit, tt.out)
			}
		})
	}
}
