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
	TargetAppAgent      = "app-agent"      // the agent that runs the app (the default)
	TargetLeadingMaster = "leading-master" // the master whose Marathon leads
	TargetMaster        = "master"         // master N (1-based), leader or not
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
func (k KillTarget) IsMaster() bool { return k.Kind == TargetLeadingMaster || k.Kind == TargetMaster }

// ParseKillTarget reads --target: app-agent, leading-master, or master N
// ("master N", "master-N").
func ParseKillTarget(s string) (KillTarget, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", TargetAppAgent:
		return KillTarget{Kind: TargetAppAgent}, nil
	case TargetLeadingMaster:
		return KillTarget{Kind: TargetLeadingMaster}, nil
	}
	if rest, ok := strings.CutPrefix(s, TargetMaster); ok {
		n, err := strconv.Atoi(strings.TrimLeft(rest, " -"))
		if err == nil && n >= 1 {
			return KillTarget{Kind: TargetMaster, Master: n}, nil
		}
	}
	return KillTarget{}, fmt.Errorf("target %q: want %s (default), %s, or %s N (1-based)", s, TargetAppAgent, TargetLeadingMaster, TargetMaster)
}

// ErrSingleMaster refuses to kill the master of a one-master stack.
var ErrSingleMaster = errors.New("the stack has one master")

// MasterTarget is a master a failover kills: its place among the stack's
// masters, its EC2 instance and its Marathon.
type MasterTarget struct {
	Index       int    `json:"index"` // 1-based, as masterPrivateIps orders them
	InstanceID  string `json:"instanceId"`
	PrivateIP   string `json:"privateIp"`
	MarathonURL string `json:"marathonUrl"`
	// Leading is whether its Marathon led when it was found; Leader is
	// the leader /v2/leader named then (host:port).
	Leading bool   `json:"leading"`
	Leader  string `json:"leader"`
	AppID   string `json:"appId"`
	TaskID  string `json:"taskId"`  // the app's running task, which must keep running
	AppHost string `json:"appHost"` // the agent it runs on
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

// FindMaster finds the master k names: for TargetLeadingMaster, the one
// Marathon's /v2/leader names (its --hostname is the master's private IP,
// userdata/templates/run-marathon.tmpl), mapped to the stack's EC2
// instance by private IP and the stack's tags with the master role (any
// other instance is refused: ec2ops.ErrNotInScope). A stack of one master
// is refused (ErrSingleMaster). It also reads the app's running task,
// which the watch then expects to keep running.
func FindMaster(ctx context.Context, m *marathon.Client, e *ec2ops.Client, o stackoutputs.Outputs, k KillTarget) (MasterTarget, ec2ops.Instance, error) {
	if m == nil || e == nil {
		return MasterTarget{}, ec2ops.Instance{}, errors.New("finding the master to kill: a Marathon client and an EC2 client are required")
	}
	ips := o.MasterPrivateIPs
	if len(ips) <= 1 {
		return MasterTarget{}, ec2ops.Instance{}, singleMasterReason(o)
	}
	leader, err := m.Leader(ctx)
	if err != nil {
		return MasterTarget{}, ec2ops.Instance{}, fmt.Errorf("asking Marathon at %s which master leads (GET /v2/leader): %w", m.URL(), err)
	}
	li := masterOf(o, leader)
	idx := k.Master
	if k.Kind == TargetLeadingMaster {
		if li == 0 {
			return MasterTarget{}, ec2ops.Instance{}, fmt.Errorf("the leader Marathon names, %s, is none of the stack's masters (%s, Marathon at %s)",
				leader, strings.Join(ips, ", "), strings.Join(o.MarathonURLs, ", "))
		}
		idx = li
	}
	if idx < 1 || idx > len(ips) {
		return MasterTarget{}, ec2ops.Instance{}, fmt.Errorf("master %d: stack %q has masters 1 to %d", idx, o.Stack, len(ips))
	}
	tasks, err := m.AppTasks(ctx, o.AppID)
	if err != nil {
		return MasterTarget{}, ec2ops.Instance{}, marathonError(m.URL(), o.AppID, err)
	}
	task, err := runningTask(tasks, o.AppID, m.URL())
	if err != nil {
		return MasterTarget{}, ec2ops.Instance{}, err
	}
	in, err := e.FindByPrivateIP(ctx, MasterScope(o), ips[idx-1])
	if err != nil {
		return MasterTarget{}, ec2ops.Instance{}, fmt.Errorf("mapping master %d (%s) to an EC2 master of stack %q: %w", idx, ips[idx-1], o.Stack, err)
	}
	t := MasterTarget{Index: idx, InstanceID: in.ID, PrivateIP: in.PrivateIP, Leading: idx == li, Leader: leader,
		AppID: o.AppID, TaskID: task.ID, AppHost: task.Host}
	if idx <= len(o.MarathonURLs) {
		t.MarathonURL = o.MarathonURLs[idx-1]
	}
	return t, in, nil
}

// masterOf is the 1-based master whose Marathon is leader (host:port as
// /v2/leader names it): the master with that private IP, or else the one
// whose Marathon URL has that host and port; 0 when none.
func masterOf(o stackoutputs.Outputs, leader string) int {
	host, port, err := net.SplitHostPort(leader)
	if err != nil {
		host = leader
	}
	for i, ip := range o.MasterPrivateIPs {
		if ip == host {
			return i + 1
		}
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
