package failover_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// killLeader finds the leading master of c, kills it and watches.
func killLeader(t *testing.T, c *failovertest.Cluster, deadline time.Duration) (failover.MasterReport, failover.MasterTarget, string) {
	return killMaster(t, c, failover.KillTarget{Kind: failover.TargetLeadingMaster}, deadline)
}

// killMaster finds the master k names in c (asking its Mesos masters and
// ZooKeepers), kills it and watches.
func killMaster(t *testing.T, c *failovertest.Cluster, k failover.KillTarget, deadline time.Duration) (failover.MasterReport, failover.MasterTarget, string) {
	t.Helper()
	ctx := context.Background()
	o := c.Outputs()
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	mesos, zk := failover.NewMesosProbe(o.MesosURLs, nil), failover.NewZooKeeperProbe(c.ZooKeeperAddrs(), 200*time.Millisecond)
	target, inst, err := failover.FindMasterWith(fctx, c.Marathon(), c.EC2(), o, k, mesos, zk)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Role != facts.RoleMaster {
		t.Fatalf("found instance %+v, want a master", inst)
	}
	at, err := failover.KillMaster(ctx, c.EC2(), o, target)
	if err != nil {
		t.Fatal(err)
	}
	var progress failovertest.Progress
	r, err := failover.WatchMaster(ctx, failover.MasterWatchConfig{Outputs: o, Target: target, KilledAt: at, Marathon: c.Marathon(),
		EC2: c.EC2(), App: c.App(), Mesos: mesos, ZooKeeper: zk, SessionTimeout: failovertest.DefaultSessionTimeout,
		LeaderTimeout: 50 * time.Millisecond, Interval: 5 * time.Millisecond, Deadline: deadline, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	return r, target, progress.String()
}

func TestWatchMasterThroughALeaderLoss(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Masters: 3})
	before := c.TaskHost()
	r, target, progress := killLeader(t, c, 10*time.Second)
	if target.Index != 1 || !target.Leading || target.PrivateIP != "10.42.1.10" {
		t.Errorf("target %+v: want master 1, the leader, at 10.42.1.10", target)
	}
	if p := r.Problems(0); len(p) > 0 || !r.Recovered {
		t.Fatalf("problems %v; report %+v\nprogress:\n%s", p, r, progress)
	}
	t.Logf("progress:\n%s%s", progress, r.Summary())
	var names []string
	pos := map[string]int{}
	for i, e := range r.Timeline {
		names = append(names, e.Name)
		pos[e.Name] = i
		if e.Source == "" {
			t.Errorf("event %q has no source lane", e.Name)
		}
	}
	for _, pair := range [][2]string{{failover.EventKill, failover.EventMarathonLeaderless}, {failover.EventMarathonLeaderless, failover.EventZooKeeperSession},
		{failover.EventZooKeeperSession, failover.EventMesosLeader}, {failover.EventZooKeeperSession, failover.EventMarathonLeader},
		{failover.EventMesosLeader, failover.EventAgentsReregistered}, {failover.EventMarathonLeader, failover.EventTaskKept},
		{failover.EventTaskKept, failover.EventAppServedThroughout}} {
		a, okA := pos[pair[0]]
		b, okB := pos[pair[1]]
		if !okA || !okB || a > b {
			t.Errorf("want %q before %q in the timeline %q", pair[0], pair[1], names)
		}
	}
	if got := failover.SourceOf(failover.EventMesosLeader); got != failover.SourceMasters {
		t.Errorf("Mesos leader event in lane %q, want %q", got, failover.SourceMasters)
	}
	// No leader until the lost master's session expired.
	if r.LeaderlessSeconds < failovertest.DefaultSessionTimeout.Seconds() {
		t.Errorf("time without a Marathon leader %.3fs, want at least the session timeout %s", r.LeaderlessSeconds, failovertest.DefaultSessionTimeout)
	}
	if want := c.Masters()[1]; !strings.HasSuffix(want.MarathonURL, r.NewMarathonLeader) || !strings.HasPrefix(r.NewMesosLeader, want.PrivateIP+":") {
		t.Errorf("new leaders Marathon %s, Mesos %s: want master 2 (%s, %s)", r.NewMarathonLeader, r.NewMesosLeader, want.MarathonURL, want.PrivateIP)
	}
	if r.AppFailures != 0 || r.AppAnswers == 0 || c.TaskHost() != before {
		t.Errorf("app answers %d, failures %d, host %s (was %s): it must serve throughout from the same agent", r.AppAnswers, r.AppFailures, c.TaskHost(), before)
	}
	if s := r.Summary(); !strings.Contains(s, "time without a Marathon leader") {
		t.Errorf("summary lacks the time without a leader:\n%s", s)
	}
}

func TestWatchMasterFailsWhenTheAppStopsAnswering(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Masters: 3, SessionTimeout: 150 * time.Millisecond})
	go func() {
		time.Sleep(20 * time.Millisecond)
		// Nothing listens on the app's port any more: the app no longer
		// answers through the ELB.
		if err := c.ELB().SetInstanceBackend(c.Agents()[0].InstanceID, ""); err != nil {
			t.Error(err)
		}
	}()
	r, _, progress := killLeader(t, c, 5*time.Second)
	if r.Recovered || r.AppFailures == 0 {
		t.Fatalf("recovered %v with %d app failures: a silent app must fail the watch\n%s", r.Recovered, r.AppFailures, progress)
	}
	if p := strings.Join(r.Problems(0), "; "); !strings.Contains(p, "stopped answering") {
		t.Errorf("problems %q do not say the app stopped answering", p)
	}
}

func TestFindMasterRefusesASingleMaster(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := failover.FindMaster(ctx, c.Marathon(), c.EC2(), c.Outputs(), failover.KillTarget{Kind: failover.TargetLeadingMaster})
	if !errors.Is(err, failover.ErrSingleMaster) {
		t.Fatalf("err %v, want ErrSingleMaster", err)
	}
	for _, want := range []string{"nothing would elect a new leader", "keeps running", "empty ZooKeeper"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if n := len(c.EC2Server().Calls("TerminateInstances")); n != 0 {
		t.Errorf("%d TerminateInstances calls, want none", n)
	}
}

func TestFindMasterRefusesUntaggedMasters(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{Masters: 3, UntaggedMasters: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := failover.FindMaster(ctx, c.Marathon(), c.EC2(), c.Outputs(), failover.KillTarget{Kind: failover.TargetLeadingMaster})
	if !errors.Is(err, ec2ops.ErrNotInScope) || !strings.Contains(err.Error(), "not a master of stack") {
		t.Fatalf("err %v, want a refusal of an instance that is not a master of the stack", err)
	}
}

func TestParseKillTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want failover.KillTarget
		bad  bool
	}{{"", failover.KillTarget{Kind: failover.TargetAppAgent}, false}, {"app-agent", failover.KillTarget{Kind: failover.TargetAppAgent}, false},
		{"leading-master", failover.KillTarget{Kind: failover.TargetLeadingMaster}, false},
		{"master 2", failover.KillTarget{Kind: failover.TargetMaster, Master: 2}, false}, {"master-3", failover.KillTarget{Kind: failover.TargetMaster, Master: 3}, false},
		{"marathon-leader", failover.KillTarget{Kind: failover.TargetMarathonLeader}, false},
		{"mesos-leader", failover.KillTarget{Kind: failover.TargetMesosLeader}, false},
		{"zookeeper-leader", failover.KillTarget{Kind: failover.TargetZooKeeperLeader}, false},
		{"master 0", failover.KillTarget{}, true}, {"master", failover.KillTarget{}, true}, {"agent", failover.KillTarget{}, true}} {
		got, err := failover.ParseKillTarget(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseKillTarget(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}
