package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// waitingLine is the line a master's wait-ready logs every minute on a
// first boot of three masters of which one is not up (userdata's
// lib.sh.tmpl mha_wait_ready with ready.sh.tmpl's lines, as
// TestFirstHABootWaitsForEveryMaster sees them).
const waitingLine = "marathon-ha: not ready after 6 checks: ok: ZooKeeper serves as leader or follower (srvr on 2181) " +
	"ok: Mesos has a leader (/redirect on 5050) " +
	"not ready: Mesos leader has recovered its registry (/api/v1 on 5050) (HTTP 503: Master has not finished recovery; the first boot of 3 masters waits for all 3: an empty replicated log initialises only when every replica answers) " +
	"ok: Marathon has a leader (/v2/leader on 8080) ok: mha-fencer running\n"

// haEnv is consoleEnv with three more masters, master-N at haMasterID(N),
// and a Marathon that does not answer.
type haEnv struct {
	ec2 *ec2test.Server
	// three and one are the --instances of the three masters and of the
	// one master and its agent.
	three, one     string
	marathon, path string
}

func newHAEnv(t *testing.T) haEnv {
	t.Helper()
	s, one := consoleEnv(t)
	var inst []string
	for i := 1; i <= 3; i++ {
		s.AddInstance(ec2test.Instance{ID: haMasterID(i), PrivateIP: "10.0.1.1" + strconv.Itoa(i-1)})
		inst = append(inst, "master-"+strconv.Itoa(i)+"="+haMasterID(i))
	}
	m := marathontest.NewServer(fast)
	t.Cleanup(m.Close)
	m.Stop()
	path, _ := renderedFile(t)
	return haEnv{ec2: s, three: strings.Join(inst, ","), one: one, marathon: m.URL(), path: path}
}

func haMasterID(i int) string { return "i-0000000000000a00" + strconv.Itoa(i) }

// TestDeploySaysAFirstHABootWaitsForEveryMaster: while two masters of three
// wait to be ready and the third is still pulling its images, deploy-app
// says the first boot waits for all three, why, which master is not up and
// where it stands, and what the waiting masters' last check found; when it
// gives up, its account says so too.
func TestDeploySaysAFirstHABootWaitsForEveryMaster(t *testing.T) {
	e := newHAEnv(t)
	for i := 1; i <= 2; i++ {
		e.ec2.AppendConsole(haMasterID(i), lines("master-"+strconv.Itoa(i), step("boot", "start", 0), step("pull-images", "start", 40), step("pull-images", "done", 90),
			step("wait-ready", "start", 90))+waitingLine)
	}
	e.ec2.AppendConsole(haMasterID(3), lines("master-3", step("boot", "start", 0), step("pull-images", "start", 41)))
	r := runCmd(t, "", append([]string{"--marathon", e.marathon, "--manifest", e.path, "--timeout", "800ms", "--instances", e.three}, watchFlags...)...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 at the deadline\nstderr:\n%s", r.code, r.stderr)
	}
	want := "boot: master-1, master-2 wait for every master: the first boot of 3 masters needs all 3 up, as Mesos's empty replicated log initialises only when all 3 replicas (2·quorum−1) answer (apache/mesos 1.4.1 src/log/recover.cpp); " +
		"not up yet: master-3 (step pull-images since 41s, 41s into the boot); " +
		"master-1's last check: Mesos leader has recovered its registry (/api/v1 on 5050) (HTTP 503: Master has not finished recovery; the first boot of 3 masters waits for all 3: an empty replicated log initialises only when every replica answers)\n"
	if strings.Count(r.stderr, want) != 1 {
		t.Errorf("stderr should say once\n%s\nstderr:\n%s", want, r.stderr)
	}
	// The account at the deadline says it too.
	if !strings.Contains(r.stderr, "\n"+strings.TrimPrefix(want, "boot: ")) {
		t.Errorf("the deadline's account lacks the first-boot wait:\n%s", r.stderr)
	}
}

// TestDeployFirstBootWaitNeedsAMasterNotUp: no such line when every master
// waits (they wait for each other's services, not for a boot), or with one
// master.
func TestDeployFirstBootWaitNeedsAMasterNotUp(t *testing.T) {
	e := newHAEnv(t)
	for i := 1; i <= 3; i++ {
		e.ec2.AppendConsole(haMasterID(i), lines("master-"+strconv.Itoa(i), step("boot", "start", 0), step("wait-ready", "start", 90))+waitingLine)
	}
	e.ec2.AppendConsole(masterID, lines("master", step("boot", "start", 0), step("wait-ready", "start", 90)))
	for _, inst := range []string{e.three, e.one} {
		r := runCmd(t, "", append([]string{"--marathon", e.marathon, "--manifest", e.path, "--timeout", "300ms", "--instances", inst}, watchFlags...)...)
		if strings.Contains(r.stderr, "for every master") {
			t.Errorf("--instances %s: a first-boot wait with no master missing:\n%s", inst, r.stderr)
		}
		if !strings.Contains(r.stderr, "step wait-ready since 90s") {
			t.Errorf("--instances %s: the masters' wait is not shown:\n%s", inst, r.stderr)
		}
	}
}
