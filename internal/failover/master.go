package failover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// What kill-node and the rehearsal can kill (--target).
const (
	TargetAppAgent = "app-agent" // the agent that runs the app (the default)
	// TargetLeadingMaster is the master whose Marathon leads: the name the
	// rehearsal's drill and earlier tools use for TargetMarathonLeader.
	TargetLeadingMaster   = "leading-master"
	TargetMarathonLeader  = "marathon-leader"  // the master whose Marathon leads
	TargetMesosLeader     = "mesos-leader"     // the master whose Mesos master leads
	TargetZooKeeperLeader = "zookeeper-leader" // the master whose ZooKeeper leads the ensemble
	TargetMaster          = "master"           // master N (1-based), leader or not
)

// KillTarget is a parsed --target: Kind is one of the Target* names, Master the
// 1-based master of TargetMaster.
type KillTarget struct {
	Kind   string
	Master int
}

// String is the target as --target spells it.
func (k KillTarget) String() string {
	if k.Kind == TargetMaster {
		return fmt.Sprintf("master %d", k.Master)
	}
	return k.Kind
}

// IsMaster reports whether the target is a master.
func (k KillTarget) IsMaster() bool { return k.Kind != TargetAppAgent && k.Kind != "" }

// ParseKillTarget reads --target: app-agent, marathon-leader (or
// leading-master), mesos-leader, zookeeper-leader, or master N ("master
// N", "master-N").
func ParseKillTarget(s string) (KillTarget, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", TargetAppAgent:
		return KillTarget{Kind: TargetAppAgent}, nil
	case TargetLeadingMaster, TargetMarathonLeader, TargetMesosLeader, TargetZooKeeperLeader:
		return KillTarget{Kind: s}, nil
	}
	if rest, ok := strings.CutPrefix(s, TargetMaster); ok {
		n, err := strconv.Atoi(strings.TrimLeft(rest, " -"))
		if err == nil && n >= 1 {
			return KillTarget{Kind: TargetMaster, Master: n}, nil
		}
	}
	return KillTarget{}, fmt.Errorf("target %q: want %s (default), %s (or %s), %s, %s, or %s N (1-based)", s, TargetAppAgent,
		TargetMarathonLeader, TargetLeadingMaster, TargetMesosLeader, TargetZooKeeperLeader, TargetMaster)
}

// ErrSingleMaster refuses to kill the master of a one-master stack.
var ErrSingleMaster = errors.New("the stack has one master")

// Leaders are the three leaders before a kill, each as the 1-based master
// it runs on (0: none found) and as its service names it.
type Leaders struct {
	Marathon       string `json:"marathon"` // host:port, as /v2/leader names it
	MarathonMaster int    `json:"marathonMaster"`
	Mesos          string `json:"mesos"` // host:port, from the leader's /master/state
	MesosMaster    int    `json:"mesosMaster"`
	// ZooKeeperMaster is the master whose ZooKeeper says "Mode: leader" to
	// srvr; 0 when none could be asked (ZooKeeperError says why).
	ZooKeeperMaster int    `json:"zookeeperMaster"`
	ZooKeeperError  string `json:"zookeeperError,omitempty"`
}

// HeldBy is what master idx is known to lead.
func (l Leaders) HeldBy(idx int) Held {
	return Held{ZooKeeper: l.ZooKeeperMaster == idx, Mesos: l.MesosMaster == idx, Marathon: l.MarathonMaster == idx}
}

// String names the leaders for a progress line.
func (l Leaders) String() string {
	zk := fmt.Sprintf("master %d", l.ZooKeeperMaster)
	if l.ZooKeeperMaster == 0 {
		zk = "unknown (" + l.ZooKeeperError + ")"
	}
	return fmt.Sprintf("Marathon master %d (%s), Mesos master %d (%s), ZooKeeper %s", l.MarathonMaster, l.Marathon, l.MesosMaster, l.Mesos, zk)
}

// MasterTarget is a master a failover kills: its place among the stack's
// masters, its EC2 instance and its Marathon, what it led, and what the
// watch then checks.
type MasterTarget struct {
	Index       int    `json:"index"` // 1-based, as masterPrivateIps orders them
	InstanceID  string `json:"instanceId"`
	PrivateIP   string `json:"privateIp"`
	MarathonURL string `json:"marathonUrl"`
	// Leading is whether its Marathon led when it was found; Leader is
	// the leader /v2/leader named then (host:port).
	Leading bool   `json:"leading"`
	Leader  string `json:"leader"`
	// Leaders are the three leaders found, Held what this master is known
	// to have led; ZooKeeperUnknown is set when no ZooKeeper said who
	// leads (its port closed to this machine): the budget then counts the
	// ZooKeeper leadership as held (BudgetCase), the watch expects no
	// election for it but records one that comes.
	Leaders          Leaders `json:"leaders"`
	Held             Held    `json:"held"`
	ZooKeeperUnknown bool    `json:"zookeeperUnknown,omitempty"`
	// FrameworkID is Marathon's Mesos framework (/v2/info), which must be
	// active on the Mesos leader again.
	FrameworkID string `json:"frameworkId"`
	AppID       string `json:"appId"`
	TaskID      string `json:"taskId"`  // the app's running task, which must keep running
	AppHost     string `json:"appHost"` // the agent it runs on
}

// MasterScope is the stack's masters: Scope with the master role.
func MasterScope(o stackoutputs.Outputs) ec2ops.Scope {
	s := Scope(o)
	s.Role = facts.RoleMaster
	return s
}

// singleMasterReason says why a one-master stack's master is not killed.
func singleMasterReason(o stackoutputs.Outputs) error {
	return fmt.Errorf("refusing to kill the master of stack %q: %w (masterCount 1): nothing would elect a new leader, so the app keeps running but nothing can be rescheduled, and the replacement master starts with an empty ZooKeeper (Marathon forgets the app); deploy with masterCount 3 to rehearse a master failover",
		o.Stack, ErrSingleMaster)
}

// FindMaster finds the master k names (FindMasterWith), asking the Mesos
// masters at the stack output mesosUrls and the ZooKeepers at the
// masters' public addresses.
func FindMaster(ctx context.Context, m *marathon.Client, e *ec2ops.Client, o stackoutputs.Outputs, k KillTarget) (MasterTarget, ec2ops.Instance, error) {
	return FindMasterWith(ctx, m, e, o, k, NewMesosProbe(o.MesosURLs, nil), NewZooKeeperProbe(ZooKeeperAddrs(o), 0))
}

// FindMasterWith finds every leader first: Marathon's (GET /v2/leader;
// its --hostname is the master's private IP, run-marathon.tmpl), Mesos's
// (mesos: the leading master's /master/state) and ZooKeeper's (zk: srvr's
// "Mode:" on each master; unknown if none answers, which counts as held
// by the target). Then the master k names: the one leading what k names,
// or master N, mapped to the stack's EC2 instance by private IP and the
// stack's tags with the master role (any other instance is refused:
// ec2ops.ErrNotInScope). A stack of one master is refused
// (ErrSingleMaster). It also reads Marathon's framework id and the app's
// running task, which the watch then expects to keep running.
func FindMasterWith(ctx context.Context, m *marathon.Client, e *ec2ops.Client, o stackoutputs.Outputs, k KillTarget, mesos MesosProbe, zk ZooKeeperProbe) (MasterTarget, ec2ops.Instance, error) {
	fail := func(err error) (MasterTarget, ec2ops.Instance, error) { return MasterTarget{}, ec2ops.Instance{}, err }
	if m == nil || e == nil || mesos == nil {
		return fail(errors.New("finding the master to kill: a Marathon client, an EC2 client and a Mesos probe are required"))
	}
	ips := o.MasterPrivateIPs
	if len(ips) <= 1 {
		return fail(singleMasterReason(o))
	}
	l, err := findLeaders(ctx, m, o, mesos, zk)
	if err != nil {
		return fail(err)
	}
	idx := k.Master
	switch k.Kind {
	case TargetLeadingMaster, TargetMarathonLeader:
		idx = l.MarathonMaster
	case TargetMesosLeader:
		idx = l.MesosMaster
	case TargetZooKeeperLeader:
		if l.ZooKeeperMaster == 0 {
			return fail(fmt.Errorf("no ZooKeeper of stack %q says it leads (srvr on port %d of each master): %s", o.Stack, facts.ZooKeeperClientPort, l.ZooKeeperError))
		}
		idx = l.ZooKeeperMaster
	}
	if k.Kind != TargetMaster && idx == 0 {
		return fail(fmt.Errorf("the %s is none of the stack's masters (%s): leaders %s", k.Kind, strings.Join(ips, ", "), l))
	}
	if idx < 1 || idx > len(ips) {
		return fail(fmt.Errorf("master %d: stack %q has masters 1 to %d", idx, o.Stack, len(ips)))
	}
	info, err := m.Info(ctx)
	if err != nil {
		return fail(fmt.Errorf("asking Marathon for its framework id (GET /v2/info): %w", err))
	}
	tasks, err := m.AppTasks(ctx, o.AppID)
	if err != nil {
		return fail(marathonError(m.URL(), o.AppID, err))
	}
	task, err := runningTask(tasks, o.AppID, m.URL())
	if err != nil {
		return fail(err)
	}
	in, err := e.FindByPrivateIP(ctx, MasterScope(o), ips[idx-1])
	if err != nil {
		return fail(fmt.Errorf("mapping master %d (%s) to an EC2 master of stack %q: %w", idx, ips[idx-1], o.Stack, err))
	}
	t := MasterTarget{Index: idx, InstanceID: in.ID, PrivateIP: in.PrivateIP, Leading: idx == l.MarathonMaster, Leader: l.Marathon,
		Leaders: l, Held: l.HeldBy(idx), ZooKeeperUnknown: l.ZooKeeperMaster == 0, FrameworkID: info.FrameworkID, AppID: o.AppID, TaskID: task.ID, AppHost: task.Host}
	if idx <= len(o.MarathonURLs) {
		t.MarathonURL = o.MarathonURLs[idx-1]
	}
	return t, in, nil
}

// findLeaders asks each service who leads.
func findLeaders(ctx context.Context, m *marathon.Client, o stackoutputs.Outputs, mesos MesosProbe, zk ZooKeeperProbe) (Leaders, error) {
	var l Leaders
	leader, err := m.Leader(ctx)
	if err != nil {
		return l, fmt.Errorf("asking Marathon at %s which master leads (GET /v2/leader): %w", m.URL(), err)
	}
	l.Marathon, l.MarathonMaster = leader, masterOf(o, leader)
	st, err := mesos(ctx)
	if err != nil {
		return l, fmt.Errorf("asking the Mesos masters which leads (GET /master/state): %w", err)
	}
	l.Mesos, l.MesosMaster = st.Leader, masterOfHost(o, st.Leader)
	if zk == nil {
		l.ZooKeeperError = "no ZooKeeper probe"
		return l, nil
	}
	zs, err := zk(ctx)
	l.ZooKeeperMaster = zs.Leader
	if err != nil {
		l.ZooKeeperError = err.Error()
	}
	return l, nil
}

// BudgetCase is the master case the budget counts: what the target held,
// with ZooKeeper's leadership counted as held when it is unknown (the
// worst case).
func (t MasterTarget) BudgetCase() Held {
	h := t.Held
	h.ZooKeeper = h.ZooKeeper || t.ZooKeeperUnknown
	return h
}

// masterOfHost is the 1-based master whose private IP is the host of
// hostport; 0 when none.
func masterOfHost(o stackoutputs.Outputs, hostport string) int {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	for i, ip := range o.MasterPrivateIPs {
		if ip == host {
			return i + 1
		}
	}
	return 0
}

// masterOf is the 1-based master whose Marathon is leader (host:port as
// /v2/leader names it): the master with that private IP, or else the one
// whose Marathon URL has that host and port; 0 when none.
func masterOf(o stackoutputs.Outputs, leader string) int {
	if i := masterOfHost(o, leader); i > 0 {
		return i
	}
	host, port, err := net.SplitHostPort(leader)
	if err != nil {
		host = leader
	}
	for i, raw := range o.MarathonURLs {
		if u, err := url.Parse(raw); err == nil && u.Hostname() == host && u.Port() == port {
			return i + 1
		}
	}
	return 0
}

// KillMaster terminates t's instance as a crash (SkipOsShutdown), checking
// the stack's tags with the master role again; it returns the time taken
// just before the request.
func KillMaster(ctx context.Context, e *ec2ops.Client, o stackoutputs.Outputs, t MasterTarget) (time.Time, error) {
	if e == nil || t.InstanceID == "" {
		return time.Time{}, errors.New("killing the master: an EC2 client and a target instance id are required (use FindMaster)")
	}
	if len(o.MasterPrivateIPs) <= 1 {
		return time.Time{}, singleMasterReason(o)
	}
	at, err := e.TerminateWith(ctx, MasterScope(o), t.InstanceID, ec2ops.TerminateOptions{SkipOSShutdown: true})
	if err != nil {
		return time.Time{}, fmt.Errorf("killing master %d (%s): %w", t.Index, t.PrivateIP, err)
	}
	if at.IsZero() {
		return time.Time{}, fmt.Errorf("killing master %d: instance %s is already shutting down or terminated; nothing was sent", t.Index, t.InstanceID)
	}
	return at, nil
}

// MasterMode checks the kill mode of a master: a crash only. A graceful
// stop closes the master's ZooKeeper sessions at once, which skips the
// session expiry a lost master costs, the case the master budget covers.
func MasterMode(m Mode) error {
	if m != "" && m != ModeCrash {
		return fmt.Errorf("mode %s applies to the app's agent: a master is killed as a crash (SkipOsShutdown), so its ZooKeeper session must expire, as when a master is lost", m)
	}
	return nil
}
