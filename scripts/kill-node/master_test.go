package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

func TestKillLeadingMasterReportsTheElections(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Masters: 3})
	svg := filepath.Join(t.TempDir(), "masters.svg")
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--json", "--target", "leading-master", "--svg", svg)...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"master failover budget 20s", "master 1 of 3 is the Marathon leader", "tag marathon-ha:role = master",
		failover.EventMarathonLeaderless, failover.EventZooKeeperSession, failover.EventMesosLeader, failover.EventMarathonLeader,
		failover.EventAgentsReregistered, failover.EventTaskKept, failover.EventAppServedThroughout, "time without a Marathon leader"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the human output lacks %q:\n%s", want, r.stderr)
		}
	}
	var rep failover.MasterReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, r.stdout)
	}
	if !rep.Recovered || rep.AppFailures != 0 || rep.LeaderlessSeconds < failovertest.DefaultSessionTimeout.Seconds() || rep.Killed.Index != 1 {
		t.Errorf("report %+v: want recovered, no app failure, a leaderless time of at least the session timeout, master 1 killed", rep)
	}
	if got := c.EC2Server().Calls("TerminateInstances"); len(got) != 1 || !strings.Contains(got[0].Params.Get("InstanceId.1"), c.Masters()[0].InstanceID) {
		t.Errorf("TerminateInstances calls %+v, want one of master 1's instance %s", got, c.Masters()[0].InstanceID)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), failover.SourceMasters) {
		t.Errorf("the SVG timeline lacks the masters lane (%v)", err)
	}
	if agents := c.Agents(); c.TaskHost() != agents[0].Host {
		t.Errorf("the app moved to %s: it must keep running on %s", c.TaskHost(), agents[0].Host)
	}
}

func TestKillMasterRefusedWithOneMaster(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--target", "leading-master")...)
	if r.code != 1 || terminations(c) != 0 {
		t.Fatalf("exit %d with %d terminations, want 1 and none\n%s", r.code, terminations(c), r.stderr)
	}
	for _, want := range []string{"masterCount 1", "nothing would elect a new leader", "keeps running", "empty ZooKeeper"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestKillMasterNDryRunAndBadTargets(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Masters: 3})
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--dry-run", "--target", "master 2")...)
	if r.code != 0 || terminations(c) != 0 || !strings.Contains(r.stdout, "master 2 of 3 is not the Marathon leader and holds no leader") ||
		!strings.Contains(r.stdout, c.Masters()[1].InstanceID) {
		t.Fatalf("exit %d, %d terminations\n%s%s", r.code, terminations(c), r.stdout, r.stderr)
	}
	for _, bad := range [][]string{{"--target", "master 9"}, {"--target", "leading-master", "--mode", "graceful"}, {"--target", "queen"}} {
		r := runWith(t, testDeps(c, ""), args(append([]string{"--outputs", outputsFile(t, c), "--yes"}, bad...)...)...)
		if r.code == 0 || terminations(c) != 0 {
			t.Errorf("%v: exit %d with %d terminations, want a refusal\n%s", bad, r.code, terminations(c), r.stderr)
		}
	}
}

// Mesos leads on master 2, ZooKeeper on 3, Marathon on 1: --target
// mesos-leader kills master 2, and the watch expects Mesos's election
// (and Marathon's, whose driver loses its master), ZooKeeper unchanged.
func TestKillMesosLeaderOnAnotherMaster(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Masters: 3, MesosLeader: 2, ZooKeeperLeader: 3})
	r := runWith(t, testDeps(c, ""), args("--outputs", outputsFile(t, c), "--yes", "--target", "mesos-leader")...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"master 2 of 3 is not the Marathon leader and holds the Mesos leader", "master failover budget 17s",
		failover.EventZooKeeperUnchanged, failover.EventMesosLeader, failover.EventAgentsReregistered, failover.EventMarathonLeader,
		failover.EventCanaryRemoved} {
		if !strings.Contains(r.stderr+r.stdout, want) {
			t.Errorf("the output lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, failover.EventZooKeeperLeader) {
		t.Errorf("ZooKeeper elected a leader, but master 2 did not lead it:\n%s", r.stderr)
	}
	if got := c.EC2Server().Calls("TerminateInstances"); len(got) != 1 || !strings.Contains(got[0].Params.Get("InstanceId.1"), c.Masters()[1].InstanceID) {
		t.Errorf("TerminateInstances calls %+v, want one of master 2's instance", got)
	}
}
