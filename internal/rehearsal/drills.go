package rehearsal

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// The drills a rehearsal can run, in the order they run: the leading
// master first (the app keeps running on its agent), then the app's agent
// (the app moves), in one stack.
const (
	DrillLeadingMaster = failover.TargetLeadingMaster
	DrillAppAgent      = failover.TargetAppAgent
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

// DrillMasterCount is the masterCount the rehearsal sets when it runs the
// leading-master drill: the smallest count that survives a master's loss.
const DrillMasterCount = 3

// Steps of the leading-master drill.
const (
	StepFindMaster  = "find leading master"
	StepKillMaster  = "kill leading master"
	StepWatchMaster = "watch masters"
)

// ParseDrills reads --drills: a comma-separated list of leading-master and
// app-agent or partition, each at most once; leading-master runs first
// whatever the order given.
func ParseDrills(s string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(s, ",") {
		d = strings.TrimSpace(d)
		switch {
		case d != DrillLeadingMaster && d != DrillAppAgent && d != DrillPartition:
			return nil, fmt.Errorf("drill %q: want %s and/or %s or %s, comma-separated", d, DrillLeadingMaster, DrillAppAgent, DrillPartition)
		case slices.Contains(out, d):
			return nil, fmt.Errorf("drill %s is listed twice", d)
		}
		out = append(out, d)
	}
	if slices.Contains(out, DrillAppAgent) && slices.Contains(out, DrillPartition) {
		return nil, fmt.Errorf("drills %s and %s both move the app off its agent, and the first leaves the stack one agent: run them in separate rehearsals", DrillAppAgent, DrillPartition)
	}
	slices.SortFunc(out, func(a, b string) int { return drillOrder(a) - drillOrder(b) })
	return out, nil
}

func drillOrder(d string) int {
	if d == DrillLeadingMaster {
		return 0
	}
	return 1
}

// HasMasterDrill reports whether drills include the leading master.
func HasMasterDrill(drills []string) bool { return slices.Contains(drills, DrillLeadingMaster) }

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

// MasterDrill is the report of the leading-master drill.
type MasterDrill struct {
	Target   *failover.MasterTarget `json:"target,omitempty"`
	KilledAt string                 `json:"killedAt,omitempty"`
	Failover *failover.MasterReport `json:"failover,omitempty"`
	// LimitSeconds is the recovery time the drill was judged against: the
	// master budget plus the run's margin.
	LimitSeconds float64 `json:"limitSeconds"`
}

// masterDrill kills the leading master and watches the elections; the
// app must answer throughout and its task keep running. Its problems go
// to the report; an error stops the rehearsal.
func masterDrill(ctx context.Context, cfg Config, r *Report, outs stackoutputs.Outputs, m *marathon.Client, e *ec2ops.Client, app *mobycounter.Client) error {
	if n := len(outs.MasterPrivateIPs); n < DrillMasterCount {
		return fmt.Errorf("the %s drill needs masterCount %d or more, and stack %s has %d master(s): a single master is not replaced (nothing would elect a new leader)",
			DrillLeadingMaster, DrillMasterCount, outs.Stack, n)
	}
	d := &MasterDrill{}
	r.MasterDrill = d
	var target failover.MasterTarget
	if err := timed(cfg, r, StepFindMaster, func() (err error) {
		fctx, cancel := context.WithTimeout(ctx, cfg.TargetTimeout)
		defer cancel()
		target, _, err = failover.FindMaster(fctx, m, e, outs, failover.KillTarget{Kind: failover.TargetLeadingMaster})
		return err
	}); err != nil {
		return err
	}
	d.Target = &target
	var killedAt time.Time
	if err := timed(cfg, r, StepKillMaster, func() (err error) {
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
	return timed(cfg, r, StepWatchMaster, func() error {
		mesos := failover.NewMesosProbe(outs.MesosURLs, nil)
		if cfg.Clients.Mesos != nil {
			mesos = cfg.Clients.Mesos(outs)
		}
		rep, err := failover.WatchMaster(ctx, failover.MasterWatchConfig{Outputs: outs, Target: target, KilledAt: killedAt,
			Marathon: m, EC2: e, App: app, Mesos: mesos, SessionTimeout: cfg.SessionTimeout,
			Interval: cfg.WatchInterval, Deadline: cfg.WatchDeadline, Progress: cfg.Progress, Now: cfg.Now})
		if err != nil {
			return fmt.Errorf("watching the masters: %w", err)
		}
		d.Failover = &rep
		limit := rep.Budget.Total + cfg.BudgetMargin
		d.LimitSeconds = limit.Seconds()
		for _, p := range rep.Problems(limit) {
			r.Problems = append(r.Problems, DrillLeadingMaster+" drill: "+p)
		}
		return nil
	})
}
