// Package rehearsal runs a failover rehearsal end to end: bring a fresh
// stack up, wait for the app, write clicks (optionally let them reach the
// disk), start a writer that clicks through the failover, kill the app's
// node, watch the recovery, verify it, and always destroy and
// remove the stack, on success, on failure and on interruption. The stack
// and the clients are interfaces and factories, so the whole sequence runs
// in tests against in-process stand-ins.
package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"github.com/marathon-ha/marathon-ha/internal/fencelog"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/ctxsleep"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/rounds"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// Defaults of a Config.
const (
	// DefaultClicks is how many clicks are written before the kill.
	DefaultClicks = 20
	// DefaultBudgetMargin is what a run's RTO may exceed the budget of its
	// own volume driver and kill mode by (facts.RecoveryBudgetMargin, with
	// its reason): a rehearsal is judged against budget + margin unless
	// Config.RTOLimit overrides it.
	DefaultBudgetMargin = facts.RecoveryBudgetMargin
	// DefaultAppReadyTimeout bounds the wait for the app through the ELB
	// after up. Up already waited for the task to run (deploy-app); the ELB
	// then needs its healthy threshold of checks (2 x 5 s), and a new ELB's
	// DNS name can take a few minutes to resolve.
	DefaultAppReadyTimeout = 10 * time.Minute
	// DefaultWatchDeadline bounds the watch of the recovery, as kill-node's
	// (facts.FailoverWatchTimeout): it ends a rehearsal whose app never
	// comes back with a report.
	DefaultWatchDeadline = facts.FailoverWatchTimeout
	// DefaultTargetTimeout bounds the search for the app's node. Marathon
	// answered moments before (up deployed the app through it), so its
	// calls are retried only through a blip such as a leader election;
	// a Marathon that stays unreachable fails the rehearsal with the
	// reason instead of retrying until the watch deadline.
	DefaultTargetTimeout = 2 * time.Minute
	// DefaultWatchInterval samples the recovery once a second, the
	// resolution the RTO is reported with.
	DefaultWatchInterval = time.Second
	// DefaultPollInterval is how often the app is pinged while waiting for
	// it after up.
	DefaultPollInterval = 5 * time.Second
	// DefaultDestroyTimeout bounds the destroy that always runs. The
	// destroy deletes the app (bounded by facts.AppDeleteTimeout), the
	// run-time volumes (facts.VolumeCleanupWait) and the instances.
	DefaultDestroyTimeout = 45 * time.Minute
	// DefaultUpTimeout, DefaultInspectTimeout and DefaultRemoveTimeout are
	// in bounds.go.
)

// Clients makes the clients a rehearsal needs from the stack's outputs.
type Clients struct {
	Marathon func(o stackoutputs.Outputs) (*marathon.Client, error)
	EC2      func(ctx context.Context, o stackoutputs.Outputs) (*ec2ops.Client, error)
	App      func(o stackoutputs.Outputs) *mobycounter.Client
	// ELB reads the instance health of the ELB at o.AppURL: which agent
	// answers.
	ELB func(ctx context.Context, o stackoutputs.Outputs) (*mobycounter.LoadBalancer, error)
	// Sweep makes the sweeper the teardown removes leftovers with.
	Sweep Sweepers
	// Mesos reads the Mesos masters' state in the leading-master drill
	// (nil: failover.NewMesosProbe of the stack output mesosUrls).
	Mesos func(o stackoutputs.Outputs) failover.MesosProbe
	// ZooKeeper asks the masters' ZooKeepers who leads in the master
	// drills (nil: failover.NewZooKeeperProbe of their public addresses).
	ZooKeeper func(o stackoutputs.Outputs) failover.ZooKeeperProbe
	// Consoles reads the nodes' serial consoles for the report's boot
	// timeline (nil: the report says the boot was not read).
	Consoles func(ctx context.Context, o stackoutputs.Outputs) (ec2ops.ConsoleAPI, error)
}

// DefaultClients are the real clients: Marathon at the marathonUrl output,
// EC2 in the stack's region with the default AWS credentials chain, and
// Moby Counter through the ELB at appUrl.
func DefaultClients(progress io.Writer) Clients {
	return Clients{
		Marathon: func(o stackoutputs.Outputs) (*marathon.Client, error) {
			// Every master's Marathon: the client fails over between them.
			urls := o.MarathonURL
			if len(o.MarathonURLs) > 0 {
				urls = strings.Join(o.MarathonURLs, ",")
			}
			return marathon.New(urls, marathon.WithProgress(progress))
		},
		EC2: func(ctx context.Context, o stackoutputs.Outputs) (*ec2ops.Client, error) {
			api, err := ec2ops.Connect(ctx, o.Region)
			if err != nil {
				return nil, err
			}
			// The agents' group, when they are one (REX-Ray).
			asg, err := ec2ops.ConnectAutoScaling(ctx, o.Region, "")
			if err != nil {
				return nil, err
			}
			return ec2ops.New(api, ec2ops.WithAutoScaling(asg)), nil
		},
		App: func(o stackoutputs.Outputs) *mobycounter.Client {
			return mobycounter.New(o.AppURL, mobycounter.WithHTTPClient(&http.Client{}))
		},
		ELB: func(ctx context.Context, o stackoutputs.Outputs) (*mobycounter.LoadBalancer, error) {
			return mobycounter.ConnectLoadBalancer(ctx, o.Region, o.AppURL)
		},
		Sweep: func(ctx context.Context, region string) (*ec2ops.Sweeper, error) {
			return ec2ops.ConnectSweeper(ctx, region)
		},
		Consoles: func(ctx context.Context, o stackoutputs.Outputs) (ec2ops.ConsoleAPI, error) {
			return ec2ops.ConnectConsoles(ctx, o.Region, "")
		},
	}
}

// Config is one rehearsal.
type Config struct {
	Stack   Stack
	Clients Clients

	// Mode is how the agent is killed (default failover.ModeCrash).
	// RTOLimit, when set, is the RTO the run must not exceed (the
	// --rto-limit override); 0 judges the run against the budget of the
	// stack's volume driver and Mode plus BudgetMargin (default
	// DefaultBudgetMargin).
	Mode         failover.Mode
	BudgetMargin time.Duration
	// Drills are what the rehearsal kills, in order (ParseDrills):
	// DrillLeadingMaster and/or DrillAppAgent (default: the app's agent
	// alone). The leading-master drill needs a stack of masterCount
	// DrillMasterCount or more, and is judged against the master budget
	// plus BudgetMargin. SessionTimeout is the ZooKeeper session timeout
	// the watch expects (default facts.ZooKeeperSessionTimeout).
	Drills         []string
	SessionTimeout time.Duration
	// HealAfter is how long the partition drill keeps the agent cut off
	// (default failover.DefaultHealAfter of the stack's settings).
	HealAfter time.Duration

	// Rounds, when above 0, kills the app's agent that many times in a
	// row (internal/rounds): each round's kill mode drawn from RoundDrills
	// (default RoundDrills: crash and graceful) by Seed (0: a new seed,
	// printed, which replays the run), the cluster restored to full
	// strength between rounds (the Stack must be a Restorer). Mode is then
	// unused. 0 kills the app's agent once, in Mode.
	Rounds      int
	Seed        uint64
	RoundDrills []string

	Clicks int
	// FlushWait is the 2015 demo's wait after the last click for the page
	// cache to reach the volume; 0 (the default) waits none, and the
	// workload judges what a crash loses against its bound instead.
	FlushWait time.Duration
	// Workload shapes the writer that sends clicks through the ELB from
	// before the kill of the app's agent to the end of the watch (zero
	// fields take workload's defaults; App, Loss.Crash and, when unset,
	// Writer, Seed, Deadline and Now come from this Config).
	Workload        workload.Config
	RTOLimit        time.Duration // see Mode
	AppReadyTimeout time.Duration
	PollInterval    time.Duration
	WatchInterval   time.Duration
	WatchDeadline   time.Duration
	TargetTimeout   time.Duration
	DestroyTimeout  time.Duration
	UpTimeout       time.Duration // bound of pulumi up (default DefaultUpTimeout)
	// ServingLimit is the longest the path from the start of `pulumi up`
	// to the app serving may take (default bootbudget.Goal, 6 minutes); a
	// run over it fails, naming the steps over their budget.
	ServingLimit time.Duration
	// BootTimelineTimeout bounds the reading of the nodes' consoles for the
	// report's boot timeline (default DefaultBootTimelineTimeout).
	BootTimelineTimeout time.Duration
	// SweepWait and SweepPoll tune the teardown's sweeps (defaults
	// ec2ops.DefaultSweepWait and ec2ops.DefaultCleanupPoll).
	SweepWait time.Duration
	SweepPoll time.Duration
	// Region is the stack's AWS region, for the sweep when the stack's
	// state does not say (it does once the AWS provider is registered).
	Region string

	// Progress receives progress lines (stderr).
	Progress io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand draws the run id of the clicks (default math/rand/v2).
	Rand interface{ Uint32() uint32 }
}

type globalRand struct{}

func (globalRand) Uint32() uint32 { return rand.Uint32() }

func (c *Config) defaults() error {
	if c.Stack == nil {
		return errors.New("rehearsal: no stack")
	}
	if c.Clients.Marathon == nil || c.Clients.EC2 == nil || c.Clients.App == nil || c.Clients.Sweep == nil {
		return errors.New("rehearsal: the Marathon, EC2, app and sweep clients must all be set")
	}
	if c.Clicks <= 0 {
		return fmt.Errorf("rehearsal: %d clicks: write at least one, or nothing can be lost", c.Clicks)
	}
	if c.Clients.ELB == nil {
		return errors.New("rehearsal: the ELB client must be set: recovery counts only from the replacement the ELB serves")
	}
	if c.Mode == "" {
		c.Mode = failover.ModeCrash
	}
	if _, err := failover.ParseMode(string(c.Mode)); err != nil {
		return fmt.Errorf("rehearsal: %w", err)
	}
	if c.Mode == failover.ModePartition {
		return fmt.Errorf("rehearsal: mode %s is a drill of its own: use --drills %s", c.Mode, DrillPartition)
	}
	c.fillDurations()
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = globalRand{}
	}
	if c.Rounds < 0 {
		return fmt.Errorf("rehearsal: %d rounds: want 1 or more, or 0 for a single kill", c.Rounds)
	}
	if c.Rounds > 0 {
		if len(c.RoundDrills) == 0 {
			c.RoundDrills = RoundDrills
		}
		if c.Seed == 0 {
			c.Seed = rounds.NewSeed()
		}
	}
	return nil
}

// fillDurations gives every unset duration its default.
func (c *Config) fillDurations() {
	for _, d := range []*struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.BudgetMargin, DefaultBudgetMargin}, {&c.AppReadyTimeout, DefaultAppReadyTimeout},
		{&c.PollInterval, DefaultPollInterval}, {&c.WatchInterval, DefaultWatchInterval},
		{&c.WatchDeadline, DefaultWatchDeadline}, {&c.TargetTimeout, DefaultTargetTimeout},
		{&c.DestroyTimeout, DefaultDestroyTimeout}, {&c.UpTimeout, DefaultUpTimeout},
		{&c.SweepWait, ec2ops.DefaultSweepWait}, {&c.SweepPoll, ec2ops.DefaultCleanupPoll},
		{&c.BootTimelineTimeout, DefaultBootTimelineTimeout}, {&c.ServingLimit, bootbudget.Goal},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
}

// teardownConfig is the teardown of a rehearsal with c's settings.
func (c Config) teardownConfig() TeardownConfig {
	return TeardownConfig{Stack: c.Stack, Sweep: c.Clients.Sweep, Region: c.Region, DestroyTimeout: c.DestroyTimeout,
		SweepWait: c.SweepWait, SweepPoll: c.SweepPoll, Progress: c.Progress, Now: c.Now}
}

// Run runs the rehearsal and returns its report; report.Passed says
// whether it passed. Whatever happens, including ctx being cancelled (an
// interrupt) and a panic in a step or in a watch's loop (a problem in the
// report, with its stack), the stack is destroyed and removed before Run
// returns, on a context of its own bounded by cfg.DestroyTimeout.
func Run(ctx context.Context, cfg Config) *Report {
	if err := cfg.defaults(); err != nil {
		return &Report{Problems: []string{err.Error()}}
	}
	r := &Report{Stack: cfg.Stack.Name(), Backend: cfg.Stack.Backend(), StartedAt: cfg.Now().UTC(), Drills: cfg.Drills,
		Mode: cfg.Mode, RTOLimitSeconds: cfg.RTOLimit.Seconds(), ClicksWritten: []string{}, Problems: []string{}}
	fmt.Fprintf(cfg.Progress, "rehearsal: stack %s, backend %s\n", r.Stack, r.Backend)

	// The steps before the teardown have a bound of their own, so the
	// teardown starts in time even if a step without one hangs.
	bound, _ := cfg.Bounds()
	rctx, cancel := context.WithTimeout(ctx, bound)
	if err := recovered("the rehearsal", func() error { return rehearse(rctx, cfg, r) }); err != nil {
		r.Problems = append(r.Problems, err.Error())
	}
	if errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		r.Problems = append(r.Problems, fmt.Sprintf("the rehearsal's steps took longer than their bound %s (the sum of each step's own); stopped them to leave the teardown its time", bound))
	}
	cancel()
	if ctx.Err() != nil {
		r.Interrupted = true
		r.Problems = append(r.Problems, fmt.Sprintf("the rehearsal was interrupted (%v) before it finished", context.Cause(ctx)))
	}
	teardown(ctx, cfg, r)
	r.FinishedAt = cfg.Now().UTC()
	r.Passed = len(r.Problems) == 0
	return r
}

// timed runs one step and records its timing.
func timed(cfg Config, r *Report, name string, fn func() error) error {
	start := cfg.Now()
	err := fn()
	t := StepTiming{Name: name, StartedAt: start.UTC(), Seconds: cfg.Now().Sub(start).Seconds()}
	if err != nil {
		t.Error = err.Error()
	}
	r.Steps = append(r.Steps, t)
	return err
}

// rehearse is every step before the teardown; it stops at the first error.
func rehearse(ctx context.Context, cfg Config, r *Report) error {
	var outs stackoutputs.Outputs
	if err := timed(cfg, r, StepUp, func() (err error) {
		uctx, cancel := context.WithTimeout(ctx, cfg.UpTimeout)
		defer cancel()
		outs, err = cfg.Stack.Up(uctx)
		return err
	}); err != nil {
		return err
	}
	r.AppURL = outs.AppURL
	app := cfg.Clients.App(outs)

	// The boot timeline is read whether or not the app serves: a boot that
	// failed is what a failed wait needs explained.
	upStart := r.Steps[len(r.Steps)-1].StartedAt
	err := timed(cfg, r, StepAppReady, func() error { return waitApp(ctx, cfg, app, outs.AppURL) })
	var servedAt time.Time
	if err == nil {
		servedAt = cfg.Now()
	}
	readBootTimeline(ctx, cfg, r, outs, upStart, servedAt)
	if err != nil {
		return err
	}

	clicker := mobycounter.NewClicker(cfg.Rand)
	if err := writeClicks(ctx, cfg, r, app, clicker, outs.AppURL); err != nil {
		return err
	}

	m, err := cfg.Clients.Marathon(outs)
	if err != nil {
		return fmt.Errorf("connecting to Marathon at %s: %w", outs.MarathonURL, err)
	}
	e, err := cfg.Clients.EC2(ctx, outs)
	if err != nil {
		return err
	}
	if HasMasterDrill(cfg.Drills) {
		if err := runMasterDrills(ctx, cfg, r, outs, m, e, app); err != nil {
			return err
		}
	}
	if !hasAgentDrill(cfg.Drills) {
		return nil
	}
	lb, err := cfg.Clients.ELB(ctx, outs)
	if err != nil {
		return err
	}
	a := agentRun{cfg: cfg, r: r, outs: outs, m: m, e: e, app: app, lb: lb, clicker: clicker}
	if cfg.Rounds > 0 {
		return a.rounds(ctx)
	}
	rep, limit, err := a.drill(ctx, cfg.Mode, r.ClicksWritten)
	if err != nil {
		return err
	}
	r.Problems = append(r.Problems, rep.Problems(limit)...)
	return nil
}

// writeClicks writes cfg.Clicks clicks through the ELB, reads them back,
// and waits cfg.FlushWait for them to reach the volume; the clicks go to
// r.ClicksWritten.
func writeClicks(ctx context.Context, cfg Config, r *Report, app *mobycounter.Client, clicker *mobycounter.Clicker, url string) error {
	var written []string
	if err := timed(cfg, r, StepWriteClicks, func() error {
		for range cfg.Clicks {
			c := clicker.Next()
			if err := app.Write(ctx, c); err != nil {
				return err
			}
			written = append(written, c)
			r.ClicksWritten = append(r.ClicksWritten, c)
		}
		read, err := app.Read(ctx)
		if err != nil {
			return err
		}
		if lost := mobycounter.Missing(written, read); len(lost) > 0 {
			return fmt.Errorf("%d of %d clicks were not read back before any failure (%v): the app at %s does not keep what it acknowledges", len(lost), cfg.Clicks, lost, url)
		}
		return nil
	}); err != nil {
		return err
	}
	return timed(cfg, r, StepFlushWait, func() error {
		r.FlushWaitSeconds = cfg.FlushWait.Seconds()
		fmt.Fprintf(cfg.Progress, "rehearsal: waiting %s for the clicks to be written back from the page cache to the volume\n", cfg.FlushWait)
		return ctxsleep.Sleep(ctx, cfg.FlushWait)
	})
}

// agentRun is the app's agent drill of one stack: once, or in rounds.
type agentRun struct {
	cfg     Config
	r       *Report
	outs    stackoutputs.Outputs
	m       *marathon.Client
	e       *ec2ops.Client
	app     *mobycounter.Client
	lb      *mobycounter.LoadBalancer
	clicker *mobycounter.Clicker
}

// drill finds the app's agent, kills it in mode and watches the recovery
// with written as the clicks to read back; the report's target, kill time,
// failover and limit are this drill's. It returns the watch's report and
// the limit to judge it against.
func (a *agentRun) drill(ctx context.Context, mode failover.Mode, written []string) (failover.Report, time.Duration, error) {
	cfg, r := a.cfg, a.r
	var target failover.Target
	if err := timed(cfg, r, StepFindTarget, func() (err error) {
		fctx, cancel := context.WithTimeout(ctx, cfg.TargetTimeout)
		defer cancel()
		target, err = failover.FindTarget(fctx, a.m, a.e, a.outs)
		return err
	}); err != nil {
		return failover.Report{}, 0, err
	}
	r.Target = &target
	if slices.Contains(cfg.Drills, DrillPartition) {
		mode = failover.ModePartition
	}

	// The writer's clicks go through the fault and the watch; it stops at
	// the latest here, whatever happens.
	var w *workload.Writer
	defer func() {
		if w != nil {
			w.Stop()
		}
	}()
	if err := timed(cfg, r, StepWorkloadLead, func() (err error) {
		w, err = startWorkload(ctx, cfg, a.app)
		return err
	}); err != nil {
		return failover.Report{}, 0, err
	}

	wcfg := failover.WatchConfig{
		Outputs: a.outs, Target: target, Mode: mode, Written: written,
		Marathon: a.m, EC2: a.e, App: a.app, ELB: a.lb,
		Interval: cfg.WatchInterval, Deadline: cfg.WatchDeadline,
		Progress: cfg.Progress, Now: cfg.Now,
	}
	var rep failover.Report
	if mode == failover.ModePartition {
		var err error
		if rep, err = partitionDrill(ctx, cfg, r, wcfg); err != nil {
			return failover.Report{}, 0, err
		}
	} else {
		if err := timed(cfg, r, StepKill, func() (err error) {
			wcfg.KilledAt, err = failover.Kill(ctx, a.m, a.e, a.lb, a.outs, target, mode)
			return err
		}); err != nil {
			return failover.Report{}, 0, err
		}
		if err := timed(cfg, r, StepWatch, func() (err error) {
			if rep, err = failover.Watch(ctx, wcfg); err != nil {
				return fmt.Errorf("watching the recovery: %w", err)
			}
			return nil
		}); err != nil {
			return failover.Report{}, 0, err
		}
	}
	faultAt := rep.FaultAt()
	r.KilledAt = faultAt.UTC().Format(time.RFC3339Nano)
	rep.AddWorkload(w.Finish(ctx, faultAt, rep.Recovered))
	a.addFences(ctx, &rep, target)
	j := rep.Judge(cfg.RTOLimit, cfg.BudgetMargin)
	r.Failover = &rep
	// The caller adds rep.Problems(limit), which Judge recorded in
	// rep.Judgement too.
	limit, _ := failover.RTOLimit(rep.Budget, cfg.RTOLimit, cfg.BudgetMargin)
	r.RTOLimitSeconds, r.RTOLimitFrom, r.BudgetMarginSeconds = j.RTOLimitSeconds, j.RTOLimitFrom, cfg.BudgetMargin.Seconds()
	return rep, limit, nil
}

// addFences puts the fence lines of the masters' and the agent's consoles
// in rep (failover.ReadFences), when the run can read consoles; what it
// could not read is said in the progress, not judged.
func (a *agentRun) addFences(ctx context.Context, rep *failover.Report, target failover.Target) {
	if a.cfg.Clients.Consoles == nil {
		return
	}
	api, err := a.cfg.Clients.Consoles(ctx, a.outs)
	if err == nil {
		var fences []fencelog.Event
		fences, err = failover.ReadFences(ctx, a.e, ec2ops.NewConsoleReader(api, 0), a.outs.ClusterID, target.InstanceID)
		rep.AddFences(fences)
	}
	if err != nil {
		fmt.Fprintf(a.cfg.Progress, "rehearsal: the fences' console lines are incomplete: %v\n", err)
	}
}

// RTOLimit is the RTO a run is judged against (failover.RTOLimit, the judge
// kill-node shares).
func RTOLimit(b failover.Budget, override, margin time.Duration) (limit time.Duration, from string) {
	return failover.RTOLimit(b, override, margin)
}

// waitApp pings the app through the ELB until it answers.
func waitApp(ctx context.Context, cfg Config, app *mobycounter.Client, url string) error {
	start := cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.AppReadyTimeout)
	defer cancel()
	for {
		err := app.Ping(ctx)
		if err == nil {
			fmt.Fprintf(cfg.Progress, "rehearsal: the app answers at %s (%s)\n", url, cfg.Now().Sub(start).Round(time.Second))
			return nil
		}
		fmt.Fprintf(cfg.Progress, "rehearsal: waiting for the app at %s (%s of %s): %v\n", url, cfg.Now().Sub(start).Round(time.Second), cfg.AppReadyTimeout, err)
		if serr := ctxsleep.Sleep(ctx, cfg.PollInterval); serr != nil {
			return fmt.Errorf("the app never answered through the ELB at %s within %s (%w); last answer: %w; look at the ELB's instance health in the EC2 console and at Marathon's app page", url, cfg.AppReadyTimeout, serr, err)
		}
	}
}

// teardown destroys the stack and sweeps what its tags still find (see
// Teardown), on contexts that ignore the rehearsal's cancellation but have
// their own timeouts. A stack that could not be destroyed or swept clean
// is kept and the report says how to finish by hand.
func teardown(parent context.Context, cfg Config, r *Report) {
	Teardown(parent, cfg.teardownConfig(), r)
}
