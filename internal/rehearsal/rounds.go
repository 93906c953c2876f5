package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ctxsleep"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/rounds"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// Steps of the rounds (Config.Rounds), besides each round's clicks, find
// target, kill and watch.
const (
	// StepRestore brings the cluster back to full strength after a round:
	// the stack's Restore, then the wait until every agent is registered
	// with Mesos and the app runs and answers.
	StepRestore = "restore"
)

// RoundDrills are the drills a round of the app's agent draws from by
// default: its kill modes. A partition (failover.ModePartition) may join
// them (--round-drills crash,graceful,partition): the stack then needs the
// outputs elbSecurityGroupId and appPort. Master kills are not a round
// drill yet.
var RoundDrills = []string{string(failover.ModeCrash), string(failover.ModeGraceful)}

// Restorer is a Stack that can be brought back to full strength after a
// kill, so that rounds of kills can run on it. The AutoStack runs `pulumi
// up --refresh`: the refresh finds the terminated agent gone, and the up
// creates it again.
type Restorer interface {
	Restore(ctx context.Context) (stackoutputs.Outputs, error)
}

// RoundFailover is one round's kill as the report keeps it.
type RoundFailover struct {
	Round           int              `json:"round"`
	Target          *failover.Target `json:"target,omitempty"`
	KilledAt        string           `json:"killedAt,omitempty"`
	Failover        *failover.Report `json:"failover,omitempty"`
	RTOLimitSeconds float64          `json:"rtoLimitSeconds"`
}

// CheckRoundDrills refuses drills a round cannot run (none, a repeat, or
// an unknown one); today a round's drill is a kill mode of the app's
// agent (failover.Modes).
func CheckRoundDrills(drills []string) error {
	if len(drills) == 0 {
		return errors.New("no drill for the rounds: want some of " + strings.Join(RoundDrills, ", "))
	}
	for i, d := range drills {
		if _, err := failover.ParseMode(d); err != nil {
			return fmt.Errorf("round drill %q: %w", d, err)
		}
		if slices.Contains(drills[:i], d) {
			return fmt.Errorf("round drill %s is listed twice", d)
		}
	}
	return nil
}

// rounds kills the app's agent cfg.Rounds times (rounds.Run): round 1
// with the clicks written after up, each later round with clicks of its
// own, and the cluster restored to full strength between rounds.
func (a *agentRun) rounds(ctx context.Context) error {
	cfg, r := a.cfg, a.r
	restorer, ok := cfg.Stack.(Restorer)
	// REX-Ray's agents are an Auto Scaling group's, which replaces a lost
	// agent by itself: no `pulumi up` between rounds, only the wait for
	// the group (rounds.Config.FullStrength).
	group := false
	if a.e != nil {
		switch err := a.groupErr(ctx); {
		case err == nil:
			group = true
		case !errors.Is(err, ec2ops.ErrNoGroup):
			// Not knowing would run pulumi up between rounds on a group.
			return fmt.Errorf("rounds on stack %s: %w", cfg.Stack.Name(), err)
		}
	}
	if group {
		restorer, ok = groupRestorer{a}, true
	}
	if !ok && cfg.Rounds > 1 {
		return fmt.Errorf("%d rounds on stack %s: %w (its Stack has no Restore)", cfg.Rounds, cfg.Stack.Name(), rounds.ErrNoRestore)
	}
	if err := CheckRoundDrills(cfg.RoundDrills); err != nil {
		return err
	}
	inRound := func(n int, from int) {
		for i := from; i < len(r.Steps); i++ {
			r.Steps[i].Round = n
		}
	}
	var full func(ctx context.Context, n int) (time.Duration, error)
	if group {
		full = a.groupFullStrength
		if row, ok := failover.FullStrength(a.outs.VolumeDriver); ok {
			fmt.Fprintf(cfg.Progress, "rehearsal: the agents are an Auto Scaling group's; time-to-full-strength budget %s (%s)\n", row.Duration, row.Basis)
		}
	}
	sum := rounds.Run(ctx, rounds.Config{Rounds: cfg.Rounds, Seed: cfg.Seed, Drills: cfg.RoundDrills, Progress: cfg.Progress, Now: cfg.Now, FullStrength: full,
		Round: func(ctx context.Context, n int, drill string) (rounds.Outcome, error) {
			from := len(r.Steps)
			defer inRound(n, from)
			written := r.ClicksWritten
			if n > 1 {
				before := len(r.ClicksWritten)
				if err := writeClicks(ctx, cfg, r, a.app, a.clicker, a.outs.AppURL); err != nil {
					return rounds.Outcome{}, err
				}
				written = r.ClicksWritten[before:]
			}
			// A kill mode of the app's agent is the only kind of round
			// today; a partition or a master kill adds its case here and
			// in CheckRoundDrills.
			rep, limit, err := a.drill(ctx, failover.Mode(drill), written)
			if err != nil {
				return rounds.Outcome{}, err
			}
			r.RoundFailovers = append(r.RoundFailovers, RoundFailover{Round: n, Target: r.Target, KilledAt: r.KilledAt, Failover: &rep, RTOLimitSeconds: limit.Seconds()})
			return rounds.OutcomeOf(rep, limit), nil
		},
		Restore: func(ctx context.Context, n int) error {
			from := len(r.Steps)
			defer inRound(n, from)
			return timed(cfg, r, StepRestore, func() error {
				uctx, cancel := context.WithTimeout(ctx, cfg.UpTimeout)
				outs, err := restorer.Restore(uctx)
				cancel()
				if err != nil {
					return fmt.Errorf("bringing stack %s back to full strength after round %d: %w", cfg.Stack.Name(), n, err)
				}
				a.outs = outs
				return a.waitFullStrength(ctx)
			})
		},
	})
	r.Rounds = &sum
	r.Problems = append(r.Problems, sum.Problems()...)
	return nil
}

// waitFullStrength polls until every agent the outputs name is registered
// and active with the Mesos leader, Marathon runs the app on one of them,
// and the app answers through the ELB; at most cfg.AppReadyTimeout.
func (a *agentRun) waitFullStrength(ctx context.Context) error {
	cfg := a.cfg
	probe := failover.NewMesosProbe(a.outs.MesosURLs, nil)
	if cfg.Clients.Mesos != nil {
		probe = cfg.Clients.Mesos(a.outs)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.AppReadyTimeout)
	defer cancel()
	start := cfg.Now()
	for {
		missing := a.strength(ctx, probe)
		if missing == nil {
			fmt.Fprintf(cfg.Progress, "rehearsal: every agent registered and the app served %s after the restore began\n", cfg.Now().Sub(start).Round(time.Millisecond))
			return nil
		}
		if err := ctxsleep.Sleep(ctx, cfg.PollInterval); err != nil {
			return fmt.Errorf("the cluster was not back to full strength within %s: %w", cfg.AppReadyTimeout, missing)
		}
	}
}

// strength says what the cluster still lacks, nil when nothing.
func (a *agentRun) strength(ctx context.Context, probe failover.MesosProbe) error {
	st, err := probe(ctx)
	if err != nil {
		return fmt.Errorf("reading the Mesos leader's agents: %w", err)
	}
	ips, err := a.agentIPs(ctx)
	if err != nil {
		return err
	}
	var absent []string
	for _, ip := range ips {
		if !slices.Contains(st.Agents, ip) {
			absent = append(absent, ip)
		}
	}
	if len(absent) > 0 {
		return fmt.Errorf("agents %s are not active with the Mesos leader %s (it lists %v)", strings.Join(absent, ", "), st.Leader, st.Agents)
	}
	tctx, cancel := context.WithTimeout(ctx, a.cfg.PollInterval+time.Second)
	tasks, err := a.m.AppTasks(tctx, a.outs.AppID)
	cancel()
	if err != nil {
		return fmt.Errorf("listing the app's tasks: %w", err)
	}
	if !slices.ContainsFunc(tasks, func(t marathon.Task) bool {
		return t.State == "TASK_RUNNING" && slices.Contains(ips, t.Host)
	}) {
		return errors.New("no agent runs the app, as Marathon lists its tasks")
	}
	if err := a.app.Ping(ctx); err != nil {
		return fmt.Errorf("the app does not answer through the ELB: %w", err)
	}
	return nil
}
