// Package workload writes through a failover, as a user of the app would:
// a Writer sends a uniquely marked click (mobycounter.Mark) through the ELB
// every 100-250 ms from before the kill until the end of the watch and
// records each answer; afterwards it reads everything back and Check judges
// what the failover kept (every acknowledged click, no click never sent)
// and measures what the client saw (the outage, the RTO, the RPO).
package workload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ctxsleep"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
)

// Defaults of a Config.
const (
	// DefaultMinGap and DefaultMaxGap bound the pause between two clicks,
	// drawn uniformly: about five clicks a second, a few hundred in a
	// recovery of a minute, each outage step resolved to a quarter second.
	DefaultMinGap = 100 * time.Millisecond
	DefaultMaxGap = 250 * time.Millisecond
	// DefaultRequestTimeout bounds each click, as the watch's samples are
	// (mobycounter.DefaultTimeout): a click with no answer by then is
	// unknown. Clicks do not wait for each other, so a hung one does not
	// delay the next.
	DefaultRequestTimeout = mobycounter.DefaultTimeout
	// limitSlack is what the writer's own limit (Config.Deadline) leaves
	// for the steps between its lead and the kill: the kill's checks and
	// the TerminateInstances call, each bounded by its own API timeout.
	limitSlack = time.Minute
	// readAttempts is how often Finish tries to read the clicks back, a
	// MaxGap apart, before it reports them unread.
	readAttempts = 3
	// maxDraws bounds the search for an unused writer id.
	maxDraws = 64
)

// Allowance is what a kill may lose. A crash may lose the clicks
// acknowledged less than Bound before the kill: the app never fsyncs, so
// an acknowledged click is in the page cache until the kernel writes it
// back (default facts.CrashLossBound, the agents' writeback bound). A
// graceful kill flushes the page cache at the OS shutdown and may lose
// none.
type Allowance struct {
	Crash bool
	Bound time.Duration
}

// Describe says what the allowance allows.
func (a Allowance) Describe() string {
	if !a.Crash {
		return "a graceful kill may lose no acknowledged click (the OS shutdown flushes the page cache)"
	}
	return fmt.Sprintf("a crash may lose the clicks acknowledged in the last %s before the kill (the agents' writeback bound)", a.Bound)
}

// Config is one writer.
type Config struct {
	// App is Moby Counter through the ELB (the stack output appUrl).
	App *mobycounter.Client
	// Writer is the id in every mark. The volume keeps earlier runs'
	// clicks, which must never count, so Start refuses an id the volume
	// already holds. Draw, if set, draws ids until one is new (Writer is
	// then ignored); a seeded run that replays draws the same ids, and takes
	// the next where an earlier run on the same volume took them.
	Writer uint32
	Draw   func() uint32
	// Seed seeds the pauses between clicks: the same seed sends at the
	// same offsets, so a run replays.
	Seed uint64
	// MinGap and MaxGap bound the pause between two clicks (default
	// DefaultMinGap, DefaultMaxGap); RequestTimeout bounds each click
	// (default DefaultRequestTimeout).
	MinGap, MaxGap, RequestTimeout time.Duration
	// Loss is what the kill may lose (Bound default facts.CrashLossBound).
	Loss Allowance
	// Lead is how long the writer runs before the kill (WaitLead): default
	// twice the loss bound, so that at a crash some acknowledged clicks are
	// older than the bound and a loss beyond it shows as an RPO over it. A
	// lead shorter than the bound is refused: it could not show that.
	Lead time.Duration
	// Deadline is the longest the watch may last after the kill (default
	// facts.FailoverWatchTimeout). The writer stops by itself Limit after
	// it started, whether or not Finish came: default Lead + Deadline + a
	// minute.
	Deadline, Limit time.Duration
	// Now is the clock of the recorded times (default time.Now).
	Now func() time.Time
}

func (c Config) normalize() (Config, error) {
	if c.App == nil {
		return c, errors.New("workload: no app client: pass Moby Counter's address through the ELB (the stack output appUrl)")
	}
	if c.MinGap == 0 && c.MaxGap == 0 {
		c.MinGap, c.MaxGap = DefaultMinGap, DefaultMaxGap
	}
	if c.MinGap <= 0 || c.MaxGap < c.MinGap {
		return c, fmt.Errorf("workload: gaps %s to %s: want 0 < min <= max", c.MinGap, c.MaxGap)
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Loss.Bound <= 0 {
		c.Loss.Bound = facts.CrashLossBound
	}
	if c.Lead == 0 {
		c.Lead = 2 * c.Loss.Bound
	}
	if c.Loss.Crash && c.Lead < c.Loss.Bound {
		return c, fmt.Errorf("workload: lead %s is shorter than the crash-loss bound %s: a crash that lost every click would still look within the bound", c.Lead, c.Loss.Bound)
	}
	if c.Deadline <= 0 {
		c.Deadline = facts.FailoverWatchTimeout
	}
	if c.Limit <= 0 {
		c.Limit = c.Lead + c.Deadline + limitSlack
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// Outcome is how a click was answered.
type Outcome string

const (
	// OK: the app answered "ok": the click is acknowledged.
	OK Outcome = "ok"
	// Failed: a definite answer other than "ok" (the ELB's 503 with no
	// instance in service, an error of the app), or the connection was
	// refused before anything was sent: the click was not stored.
	Failed Outcome = "failed"
	// Unknown: no answer (the request's timeout, a connection cut after
	// the click was sent, or the ELB's 502 and 504, which come after it
	// forwarded the click): it may or may not be stored.
	Unknown Outcome = "unknown"
)

// Classify tells the outcome of a click from Write's error. A classic ELB
// answers 503 without forwarding when no instance is in service, 502 when
// the instance's answer was malformed or its connection reset, and 504
// when the instance did not answer within the idle timeout
// (elasticloadbalancing/latest/classic/ts-elb-error-message.md): after a
// 502 or 504 the app may have stored the click.
func Classify(err error) Outcome {
	if err == nil {
		return OK
	}
	var se *mobycounter.StatusError
	if errors.As(err, &se) {
		if se.Status == http.StatusBadGateway || se.Status == http.StatusGatewayTimeout {
			return Unknown
		}
		return Failed
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return Failed
	}
	return Unknown
}

// Click is one click sent: its mark, when it was sent and answered (or
// given up on, for an unknown one), and how.
type Click struct {
	Seq        int       `json:"seq"`
	Value      string    `json:"value"`
	SentAt     time.Time `json:"sentAt"`
	AnsweredAt time.Time `json:"answeredAt"`
	Outcome    Outcome   `json:"outcome"`
	Error      string    `json:"error,omitempty"`
}

// Why the writer stopped.
const (
	StoppedByFinish = "finished after the watch"
	StoppedByLimit  = "its own limit"
)

var (
	errStopped = errors.New(StoppedByFinish)
	errLimit   = errors.New(StoppedByLimit)
)

// Writer sends the clicks. Start it before the kill, WaitLead, kill, watch,
// then Finish.
type Writer struct {
	cfg     Config
	started time.Time
	stop    context.CancelCauseFunc
	loop    chan struct{} // closed when the send loop has returned
	sends   sync.WaitGroup

	mu        sync.Mutex
	log       []Click
	stoppedAt time.Time
	stoppedBy string
}

// Start reads the app's clicks to find an unused writer id, then starts
// sending clicks; each click's request honours ctx and RequestTimeout, and
// the sending stops when ctx ends, at Finish, or at the writer's own limit.
func Start(ctx context.Context, cfg Config) (*Writer, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if cfg.Writer, err = unusedWriter(ctx, cfg); err != nil {
		return nil, err
	}
	lctx, cancelLimit := context.WithTimeoutCause(ctx, cfg.Limit, errLimit)
	lctx, stop := context.WithCancelCause(lctx)
	w := &Writer{cfg: cfg, started: cfg.Now(), loop: make(chan struct{}),
		stop: func(cause error) { stop(cause); cancelLimit() }}
	go w.run(ctx, lctx)
	return w, nil
}

// Gaps returns the pauses of a writer with seed, one a call, drawn
// uniformly from lo to hi: the seed alone decides them (PCG's second word
// is fixed), so a run replays.
func Gaps(seed uint64, lo, hi time.Duration) func() time.Duration {
	rng := rand.New(rand.NewPCG(seed, 0))
	span := int64(hi - lo)
	return func() time.Duration { return lo + time.Duration(rng.Int64N(span+1)) }
}

// unusedWriter is cfg.Writer, or Draw's first id, that no mark on the
// volume holds.
func unusedWriter(ctx context.Context, cfg Config) (uint32, error) {
	rctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	clicks, err := cfg.App.Read(rctx)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("workload: reading the clicks before writing, to pick an unused writer id: %w", err)
	}
	used := map[uint32]bool{0: true} // 0 is "unset"
	for _, c := range clicks {
		if m, ok := mobycounter.ParseMark(c); ok {
			used[m.Writer] = true
		}
	}
	if cfg.Draw == nil {
		if used[cfg.Writer] {
			return 0, fmt.Errorf("workload: writer id %08x: the volume already holds its clicks (or it is 0): take another", cfg.Writer)
		}
		return cfg.Writer, nil
	}
	for range maxDraws {
		if id := cfg.Draw(); !used[id] {
			return id, nil
		}
	}
	return 0, fmt.Errorf("workload: %d writer ids drawn, all already on the volume: is the generator stuck?", maxDraws)
}

// run sends a click, pauses a drawn gap, and again, until lctx ends. Each
// click goes in its own goroutine, so the pace holds while the ELB hangs.
func (w *Writer) run(ctx, lctx context.Context) {
	defer close(w.loop)
	gap := Gaps(w.cfg.Seed, w.cfg.MinGap, w.cfg.MaxGap)
	for seq := 1; ; seq++ {
		w.sends.Add(1)
		go w.send(ctx, seq)
		t := time.NewTimer(gap())
		select {
		case <-lctx.Done():
			t.Stop()
			w.mu.Lock()
			w.stoppedAt = w.cfg.Now()
			w.stoppedBy = context.Cause(lctx).Error()
			w.mu.Unlock()
			return
		case <-t.C:
		}
	}
}

func (w *Writer) send(ctx context.Context, seq int) {
	defer w.sends.Done()
	value := mobycounter.Mark{Writer: w.cfg.Writer, Seq: seq}.String()
	w.mu.Lock()
	i := len(w.log)
	w.log = append(w.log, Click{Seq: seq, Value: value, SentAt: w.cfg.Now()})
	w.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, w.cfg.RequestTimeout)
	err := w.cfg.App.Write(rctx, value)
	cancel()
	now := w.cfg.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	c := &w.log[i]
	c.AnsweredAt, c.Outcome = now, Classify(err)
	if err != nil {
		c.Error = err.Error()
	}
}

// Describe says what the writer does, for a progress line.
func (w *Writer) Describe() string {
	return fmt.Sprintf("writer %08x (seed %d): a marked click every %s to %s through the ELB, from %s before the kill to the end of the watch; %s",
		w.cfg.Writer, w.cfg.Seed, w.cfg.MinGap, w.cfg.MaxGap, w.cfg.Lead, w.cfg.Loss.Describe())
}

// WaitLead waits until the writer has run its lead, the time before the
// kill; it returns ctx's error if ctx ends first.
func (w *Writer) WaitLead(ctx context.Context) error {
	t := time.NewTimer(time.Until(w.started.Add(w.cfg.Lead)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting for the writer's lead of %s before the kill: %w", w.cfg.Lead, ctx.Err())
	case <-t.C:
		return nil
	}
}

// settle waits until a click sent after the call is answered, at most
// MaxGap + RequestTimeout.
func (w *Writer) settle(ctx context.Context) {
	from := w.cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, w.cfg.MaxGap+w.cfg.RequestTimeout)
	defer cancel()
	for {
		w.mu.Lock()
		answered := false
		for i := len(w.log) - 1; i >= 0 && !answered && !w.log[i].SentAt.Before(from); i-- {
			answered = w.log[i].Outcome != ""
		}
		w.mu.Unlock()
		if answered || ctxsleep.Sleep(ctx, w.cfg.MinGap) != nil {
			return
		}
	}
}

// Stop stops sending, waits for the answers of the clicks in flight (each
// bounded by RequestTimeout) and returns the log in the order the clicks
// were sent.
func (w *Writer) Stop() []Click {
	w.stop(errStopped)
	<-w.loop
	w.sends.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	log := append([]Click(nil), w.log...)
	sort.Slice(log, func(i, j int) bool { return log[i].Seq < log[j].Seq })
	return log
}

// Finish stops the writer, reads the app's clicks back through the ELB
// when read is true (after a recovery; a few tries, each bounded) and
// checks them (Check) against the kill at killedAt. After a recovery the
// writer first goes on until a click sent from now on is answered (at most
// MaxGap + RequestTimeout), so the client's view includes the recovery the
// watch saw however soon the watch ended.
func (w *Writer) Finish(ctx context.Context, killedAt time.Time, read bool) Summary {
	if read {
		w.settle(ctx)
	}
	log := w.Stop()
	w.mu.Lock()
	run := Run{Writer: w.cfg.Writer, Seed: w.cfg.Seed, Started: w.started, Stopped: w.stoppedAt, StoppedBy: w.stoppedBy,
		MinGap: w.cfg.MinGap, MaxGap: w.cfg.MaxGap, RequestTimeout: w.cfg.RequestTimeout, Lead: w.cfg.Lead, Loss: w.cfg.Loss}
	w.mu.Unlock()
	if !read {
		return Check(run, log, nil, errors.New("not read back: the app did not come back through the ELB"), killedAt)
	}
	var clicks []string
	var err error
	for attempt := range readAttempts {
		if attempt > 0 {
			t := time.NewTimer(w.cfg.MaxGap)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		rctx, cancel := context.WithTimeout(ctx, w.cfg.RequestTimeout)
		clicks, err = w.cfg.App.Read(rctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		err = fmt.Errorf("reading the clicks back (%d tries): %w", readAttempts, err)
	}
	return Check(run, log, clicks, err, killedAt)
}
