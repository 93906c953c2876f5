// Package rehearsal runs a failover rehearsal end to end: bring a fresh
// stack up, wait for the app, write clicks, let them reach the disk, kill
// the app's node, watch the recovery, verify it, and always destroy and
// remove the stack, on success, on failure and on interruption. The stack
// and the clients are interfaces and factories, so the whole sequence runs
// in tests against in-process stand-ins.
package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// Defaults of a Config.
const (
	// DefaultClicks is how many clicks are written before the kill.
	DefaultClicks = 20
	// DefaultRTOLimit is the recovery goal, facts.RecoveryBudgetGoal
	// (45 s), not the computed budget (37 s with the default settings):
	// the budget's steps are partly estimates, and failing a rehearsal for
	// a few seconds of EBS attach jitter would make it cry wolf, while the
	// goal is what the project promises. The report shows both.
	DefaultRTOLimit = facts.RecoveryBudgetGoal
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
)

// Clients makes the clients a rehearsal needs from the stack's outputs.
type Clients struct {
	Marathon func(o stackoutputs.Outputs) (*marathon.Client, error)
	EC2      func(ctx context.Context, o stackoutputs.Outputs) (*ec2ops.Client, error)
	App      func(o stackoutputs.Outputs) *mobycounter.Client
}

// DefaultClients are the real clients: Marathon at the marathonUrl output,
// EC2 in the stack's region with the default AWS credentials chain, and
// Moby Counter through the ELB at appUrl.
func DefaultClients(progress io.Writer) Clients {
	return Clients{
		Marathon: func(o stackoutputs.Outputs) (*marathon.Client, error) {
			return marathon.New(o.MarathonURL, marathon.WithProgress(progress))
		},
		EC2: func(ctx context.Context, o stackoutputs.Outputs) (*ec2ops.Client, error) {
			api, err := ec2ops.Connect(ctx, o.Region)
			if err != nil {
				return nil, err
			}
			return ec2ops.New(api), nil
		},
		App: func(o stackoutputs.Outputs) *mobycounter.Client {
			return mobycounter.New(o.AppURL, mobycounter.WithHTTPClient(&http.Client{}))
		},
	}
}

// Config is one rehearsal.
type Config struct {
	Stack   Stack
	Clients Clients

	Clicks          int
	FlushWait       time.Duration // wait after the last click; 0 waits none (tests)
	RTOLimit        time.Duration
	AppReadyTimeout time.Duration
	PollInterval    time.Duration
	WatchInterval   time.Duration
	WatchDeadline   time.Duration
	TargetTimeout   time.Duration
	DestroyTimeout  time.Duration

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
	if c.Clients.Marathon == nil || c.Clients.EC2 == nil || c.Clients.App == nil {
		return errors.New("rehearsal: the Marathon, EC2 and app clients must all be set")
	}
	if c.Clicks <= 0 {
		return fmt.Errorf("rehearsal: %d clicks: write at least one, or nothing can be lost", c.Clicks)
	}
	for _, d := range []*struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.RTOLimit, DefaultRTOLimit}, {&c.AppReadyTimeout, DefaultAppReadyTimeout},
		{&c.PollInterval, DefaultPollInterval}, {&c.WatchInterval, DefaultWatchInterval},
		{&c.WatchDeadline, DefaultWatchDeadline}, {&c.TargetTimeout, DefaultTargetTimeout},
		{&c.DestroyTimeout, DefaultDestroyTimeout},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = globalRand{}
	}
	return nil
}

// Run runs the rehearsal and returns its report; report.Passed says
// whether it passed. Whatever happens, including ctx being cancelled (an
// interrupt), the stack is destroyed and removed before Run returns, on a
// context of its own bounded by cfg.DestroyTimeout.
func Run(ctx context.Context, cfg Config) *Report {
	if err := cfg.defaults(); err != nil {
		return &Report{Problems: []string{err.Error()}}
	}
	r := &Report{Stack: cfg.Stack.Name(), Backend: cfg.Stack.Backend(), StartedAt: cfg.Now().UTC(),
		RTOLimitSeconds: cfg.RTOLimit.Seconds(), ClicksWritten: []string{}, Problems: []string{}}
	fmt.Fprintf(cfg.Progress, "rehearsal: stack %s, backend %s\n", r.Stack, r.Backend)

	if err := rehearse(ctx, cfg, r); err != nil {
		r.Problems = append(r.Problems, err.Error())
	}
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
		outs, err = cfg.Stack.Up(ctx)
		return err
	}); err != nil {
		return err
	}
	r.AppURL = outs.AppURL
	app := cfg.Clients.App(outs)

	if err := timed(cfg, r, StepAppReady, func() error { return waitApp(ctx, cfg, app, outs.AppURL) }); err != nil {
		return err
	}

	clicker := mobycounter.NewClicker(cfg.Rand)
	if err := timed(cfg, r, StepWriteClicks, func() error {
		for range cfg.Clicks {
			c := clicker.Next()
			if err := app.Write(ctx, c); err != nil {
				return err
			}
			r.ClicksWritten = append(r.ClicksWritten, c)
		}
		read, err := app.Read(ctx)
		if err != nil {
			return err
		}
		if lost := mobycounter.Missing(r.ClicksWritten, read); len(lost) > 0 {
			return fmt.Errorf("%d of %d clicks were not read back before any failure (%v): the app at %s does not keep what it acknowledges", len(lost), cfg.Clicks, lost, outs.AppURL)
		}
		return nil
	}); err != nil {
		return err
	}

	if err := timed(cfg, r, StepFlushWait, func() error {
		r.FlushWaitSeconds = cfg.FlushWait.Seconds()
		fmt.Fprintf(cfg.Progress, "rehearsal: waiting %s for the clicks to be written back from the page cache to the volume\n", cfg.FlushWait)
		return sleep(ctx, cfg.FlushWait)
	}); err != nil {
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
	var target failover.Target
	if err := timed(cfg, r, StepFindTarget, func() (err error) {
		fctx, cancel := context.WithTimeout(ctx, cfg.TargetTimeout)
		defer cancel()
		target, err = failover.FindTarget(fctx, m, e, outs)
		return err
	}); err != nil {
		return err
	}
	r.Target = &target

	var killedAt time.Time
	if err := timed(cfg, r, StepKill, func() (err error) {
		killedAt, err = failover.Kill(ctx, e, outs, target)
		return err
	}); err != nil {
		return err
	}
	r.KilledAt = killedAt.UTC().Format(time.RFC3339Nano)

	return timed(cfg, r, StepWatch, func() error {
		rep, err := failover.Watch(ctx, failover.WatchConfig{
			Outputs: outs, Target: target, KilledAt: killedAt, Written: r.ClicksWritten,
			Marathon: m, EC2: e, App: app,
			Interval: cfg.WatchInterval, Deadline: cfg.WatchDeadline,
			Progress: cfg.Progress, Now: cfg.Now,
		})
		if err != nil {
			return fmt.Errorf("watching the recovery: %w", err)
		}
		r.Failover = &rep
		if p := rep.Problems(cfg.RTOLimit); len(p) > 0 {
			r.Problems = append(r.Problems, p...)
		}
		return nil
	})
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
		if serr := sleep(ctx, cfg.PollInterval); serr != nil {
			return fmt.Errorf("the app never answered through the ELB at %s within %s (%w); last answer: %w; look at the ELB's instance health in the EC2 console and at Marathon's app page", url, cfg.AppReadyTimeout, serr, err)
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// teardown destroys then removes the stack, on a context that ignores the
// rehearsal's cancellation but has its own timeout. A stack that could not
// be destroyed is kept (removing it would orphan its resources) and the
// report says how to finish by hand.
func teardown(parent context.Context, cfg Config, r *Report) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), cfg.DestroyTimeout)
	defer cancel()
	fmt.Fprintf(cfg.Progress, "rehearsal: destroying stack %s (up to %s)\n", r.Stack, cfg.DestroyTimeout)
	err := timed(cfg, r, StepDestroy, func() error { return cfg.Stack.Destroy(ctx) })
	if err == nil {
		r.Destroyed = true
		err = timed(cfg, r, StepRemove, func() error { return cfg.Stack.Remove(ctx) })
		r.Removed = err == nil
	}
	if err != nil {
		what := "destroy"
		if r.Destroyed {
			what = "removal"
		}
		r.Problems = append(r.Problems, fmt.Sprintf("the %s of stack %s failed: %v; finish it by hand (see manualCleanup)", what, r.Stack, err))
		r.ManualCleanup = cfg.Stack.ManualCleanup()
	}
}
