package rehearsal

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// The drills a rehearsal can run, in the order they run: the masters
// first (the app keeps running on its agent): the one whose Marathon leads,
// the one whose Mesos master leads, the one whose ZooKeeper leads; then the
// app's agent (the app moves), in one stack.
const (
	DrillLeadingMaster = failover.TargetLeadingMaster
	// DrillMesosLeader kills the master whose Mesos master leads, and
	// DrillZooKeeperLeader the one whose ZooKeeper leads the ensemble,
	// found as kill-node finds them (failover.FindMasterWith). When that
	// master also leads Marathon (or anything else) it is killed anyway,
	// and the progress says so: the drill is about this leader's loss,
	// which skipping would leave unmeasured, and the budget it is judged
	// by counts every leadership the master held (MasterTarget.Held).
	DrillMesosLeader     = failover.TargetMesosLeader
	DrillZooKeeperLeader = failover.TargetZooKeeperLeader
	DrillAppAgent        = failover.TargetAppAgent
	// DrillPartition cuts the app's agent off from the masters through its
	// security groups instead of killing it (failover.RunPartition): the
	// fence must end it and the app move. It takes the app-agent drill's
	// place: after either, the stack has one agent left, nowhere to move
	// the app again.
	DrillPartition = string(failover.ModePartition)
)

// StepPartition is the partition drill's step: the isolation, the watch
// and the heal.
const StepPartition = "partition"

// DrillMasterCount is the masterCount the rehearsal sets when it runs one
// master drill: the smallest count that survives a master's loss.
const DrillMasterCount = 3

// masterDrills are the drills that kill a master, in the order they run.
var masterDrills = []string{DrillLeadingMaster, DrillMesosLeader, DrillZooKeeperLeader}

// MasterCountFor is the masterCount a rehearsal of drills needs: none (0,
// the program's default) without a master drill, else the smallest count
// whose ZooKeeper and Mesos quorums survive that many masters lost. A
// killed master is not replaced (components/masters.go: fixed instances),
// so each master drill costs the stack a master for good: 3 masters
// survive one, 5 survive two (facts.MasterQuorum, facts.MasterCounts).
func MasterCountFor(drills []string) int {
	k := len(MasterDrillsOf(drills))
	if k == 0 {
		return 0
	}
	return 2*k + 1
}

// MasterDrillsOf is the master drills among drills, in their order.
func MasterDrillsOf(drills []string) []string {
	var out []string
	for _, d := range drills {
		if slices.Contains(masterDrills, d) {
			out = append(out, d)
		}
	}
	return out
}

// Steps of the leading-master drill; the other master drills' steps carry
// their drill's name (masterSteps).
const (
	StepFindMaster  = "find leading master"
	StepKillMaster  = "kill leading master"
	StepWatchMaster = "watch masters"
)

// masterSteps are the find, kill and watch steps of master drill d.
func masterSteps(d string) (find, kill, watch string) {
	if d == DrillLeadingMaster {
		return StepFindMaster, StepKillMaster, StepWatchMaster
	}
	return "find " + d, "kill " + d, "watch masters (" + d + ")"
}

// ParseDrills reads --drills: a comma-separated list of master drills
// (leading-master, mesos-leader, zookeeper-leader) and app-agent or
// partition, each at most once; the master drills run first, in that
// order, whatever the order given. At most two master drills: the stack
// would need more than the largest masterCount (MasterCountFor).
func ParseDrills(s string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(s, ",") {
		d = strings.TrimSpace(d)
		switch {
		case !slices.Contains(masterDrills, d) && d != DrillAppAgent && d != DrillPartition:
			return nil, fmt.Errorf("drill %q: want any of %s, and %s or %s, comma-separated", d, strings.Join(masterDrills, ", "), DrillAppAgent, DrillPartition)
		case slices.Contains(out, d):
			return nil, fmt.Errorf("drill %s is listed twice", d)
		}
		out = append(out, d)
	}
	if slices.Contains(out, DrillAppAgent) && slices.Contains(out, DrillPartition) {
		return nil, fmt.Errorf("drills %s and %s both move the app off its agent, and the first leaves the stack one agent: run them in separate rehearsals", DrillAppAgent, DrillPartition)
	}
	if n := MasterCountFor(out); n > slices.Max(facts.MasterCounts) {
		return nil, fmt.Errorf("%d master drills would need %d masters to keep a quorum after them (a killed master is not replaced), more than the largest masterCount %d: run at most %d in one rehearsal",
			len(MasterDrillsOf(out)), n, slices.Max(facts.MasterCounts), (slices.Max(facts.MasterCounts)-1)/2)
	}
	slices.SortFunc(out, func(a, b string) int { return drillOrder(a) - drillOrder(b) })
	return out, nil
}

func drillOrder(d string) int {
	if i := slices.Index(masterDrills, d); i >= 0 {
		return i
	}
	return len(masterDrills)
}

// HasMasterDrill reports whether drills include a master drill.
func HasMasterDrill(drills []string) bool { return len(MasterDrillsOf(drills)) > 0 }

// hasAgentDrill reports whether drills include the app's agent, killed
// (the default when none is given) or partitioned.
func hasAgentDrill(drills []string) bool {
	return len(drills) == 0 || slices.Contains(drills, DrillAppAgent) || slices.Contains(drills, DrillPartition)
}

// partitionDrill cuts the target off from the masters for cfg.HealAfter
// (or the stack's default) and watches (failover.RunPartition); a failure
// of the drill itself (a restore that did not finish) goes to the report's
// problems. It returns the watch's report, with its Partition record, or
// the error that stopped the drill before the cut.
func partitionDrill(ctx context.Context, cfg Config, r *Report, wcfg failover.WatchConfig) (failover.Report, error) {
	var rep failover.Report
	err := timed(cfg, r, StepPartition, func() error {
		heal := cfg.HealAfter
		if heal <= 0 {
			heal = failover.DefaultHealAfter(wcfg.Outputs.Failover)
		}
		fmt.Fprintf(cfg.Progress, "rehearsal: cutting %s (%s) off from the masters for %s\n", wcfg.Target.InstanceID, wcfg.Target.Host, heal)
		var err error
		rep, err = failover.RunPartition(ctx, wcfg, heal)
		if rep.Partition == nil {
			return err
		}
		if err != nil {
			r.Problems = append(r.Problems, DrillPartition+" drill: "+err.Error())
		}
		return nil
	})
	return rep, err
}

// MasterDrill is the report of a master drill.
type MasterDrill struct {
	Drill    string                 `json:"drill"` // DrillLeadingMaster, DrillMesosLeader or DrillZooKeeperLeader
	Target   *failover.MasterTarget `json:"target,omitempty"`
	KilledAt string                 `json:"killedAt,omitempty"`
	Failover *failover.MasterReport `json:"failover,omitempty"`
	// LimitSeconds is the recovery time the drill was judged against: the
	// master budget plus the run's margin.
	LimitSeconds float64 `json:"limitSeconds"`
}

// runMasterDrills runs the master drills among cfg.Drills in order, each
// on the masters the earlier ones left.
func runMasterDrills(ctx context.Context, cfg Config, r *Report, outs stackoutputs.Outputs, m *marathon.Client, e *ec2ops.Client, app *mobycounter.Client) error {
	drills := MasterDrillsOf(cfg.Drills)
	if need, n := MasterCountFor(drills), len(outs.MasterPrivateIPs); n < need {
		return fmt.Errorf("master drills %s: the stack needs masterCount %d or more, and stack %s has %d master(s): a killed master is not replaced, and the masters left must keep a quorum (a single master: nothing would elect a new leader)",
			strings.Join(drills, ", "), need, outs.Stack, n)
	}
	for _, d := range drills {
		if err := masterDrill(ctx, cfg, r, outs, m, e, app, d); err != nil {
			return err
		}
	}
	return nil
}

// masterDrill kills the master that drill names (failover.FindMasterWith,
// as kill-node) and watches the elections; the app must answer throughout
// and its task keep running. Its problems go to the report; an error stops
// the rehearsal.
func masterDrill(ctx context.Context, cfg Config, r *Report, outs stackoutputs.Outputs, m *marathon.Client, e *ec2ops.Client, app *mobycounter.Client, drill string) error {
	d := &MasterDrill{Drill: drill}
	if r.MasterDrill == nil {
		r.MasterDrill = d
	} else {
		r.MoreMasterDrills = append(r.MoreMasterDrills, d)
	}
	stepFind, stepKill, stepWatch := masterSteps(drill)
	mesos := failover.NewMesosProbe(outs.MesosURLs, nil)
	if cfg.Clients.Mesos != nil {
		mesos = cfg.Clients.Mesos(outs)
	}
	zk := failover.NewZooKeeperProbe(failover.ZooKeeperAddrs(outs), 0)
	if cfg.Clients.ZooKeeper != nil {
		zk = cfg.Clients.ZooKeeper(outs)
	}
	var target failover.MasterTarget
	if err := timed(cfg, r, stepFind, func() (err error) {
		fctx, cancel := context.WithTimeout(ctx, cfg.TargetTimeout)
		defer cancel()
		target, _, err = failover.FindMasterWith(fctx, m, e, outs, failover.KillTarget{Kind: drill}, mesos, zk)
		return err
	}); err != nil {
		return err
	}
	d.Target = &target
	if also := alsoLed(drill, target); also != "" {
		fmt.Fprintf(cfg.Progress, "rehearsal: %s drill: master %d also leads %s; killing it anyway (skipping it would leave this loss unmeasured), judged by the budget of all it led\n",
			drill, target.Index, also)
	}
	var killedAt time.Time
	if err := timed(cfg, r, stepKill, func() (err error) {
		if len(outs.AgentPrivateIPs) == 0 { // a group's agents, found by tag (kill-node master.go)
			if outs.AgentPrivateIPs, err = e.LiveAgentAddresses(ctx, outs.ClusterID); err != nil {
				return err
			}
		}
		killedAt, err = failover.KillMaster(ctx, e, outs, target)
		return err
	}); err != nil {
		return err
	}
	d.KilledAt = killedAt.UTC().Format(time.RFC3339Nano)
	return timed(cfg, r, stepWatch, func() error {
		rep, err := failover.WatchMaster(ctx, failover.MasterWatchConfig{Outputs: outs, Target: target, KilledAt: killedAt,
			Marathon: m, EC2: e, App: app, Mesos: mesos, ZooKeeper: zk, SessionTimeout: cfg.SessionTimeout,
			Interval: cfg.WatchInterval, Deadline: cfg.WatchDeadline, Progress: cfg.Progress, Now: cfg.Now})
		if err != nil {
			return fmt.Errorf("watching the masters: %w", err)
		}
		d.Failover = &rep
		limit := rep.Budget.Total + cfg.BudgetMargin
		d.LimitSeconds = limit.Seconds()
		for _, p := range rep.Problems(limit) {
			r.Problems = append(r.Problems, drill+" drill: "+p)
		}
		return nil
	})
}

// alsoLed names the leaderships target held besides the one drill is
// about ("" when none).
func alsoLed(drill string, target failover.MasterTarget) string {
	var also []string
	if target.Held.Marathon && drill != DrillLeadingMaster {
		also = append(also, "Marathon")
	}
	if target.Held.Mesos && drill != DrillMesosLeader {
		also = append(also, "Mesos")
	}
	if target.Held.ZooKeeper && drill != DrillZooKeeperLeader {
		also = append(also, "ZooKeeper")
	}
	return strings.Join(also, " and ")
}
