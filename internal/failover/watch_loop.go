package failover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
)

// watchLoop is the part of a watch both drills share: one goroutine per
// source samples it every interval until the watch is done or its
// deadline passes; each event is recorded once (repeatable ones each
// time), with a progress line; what each source said last completes an
// error. The agent watch (Watch) and the master watch (WatchMaster) each
// add their own samples and expectations.
type watchLoop struct {
	killedAt time.Time
	interval time.Duration
	progress io.Writer
	now      func() time.Time
	sources  []string // the order of lastSeen
	// ctx ends with the watch: a sample it cut short says nothing about
	// the sources, so none records what it met (cut).
	ctx context.Context

	mu       sync.Mutex
	timeline []Event
	seen     map[string]bool
	at       map[string]time.Time
	last     map[string]string
	done     chan struct{}
	doneOnce sync.Once
}

func newWatchLoop(killedAt time.Time, interval time.Duration, progress io.Writer, now func() time.Time, sources ...string) *watchLoop {
	return &watchLoop{killedAt: killedAt, interval: interval, progress: progress, now: now, sources: sources,
		seen: map[string]bool{}, at: map[string]time.Time{}, last: map[string]string{}, done: make(chan struct{})}
}

// run samples with each of samples in its own loop until finish or the
// deadline (since the kill) or ctx's end.
func (l *watchLoop) run(ctx context.Context, deadline time.Duration, samples ...func(context.Context)) {
	dctx, cancel := context.WithTimeout(ctx, l.killedAt.Add(deadline).Sub(l.now()))
	defer cancel()
	l.ctx = dctx
	wg := loops{cancel: cancel} // a loop's panic reaches the caller (loops.go)
	for _, sample := range samples {
		wg.Go(func() { l.every(dctx, sample) })
	}
	select {
	case <-l.done:
	case <-dctx.Done():
	}
	cancel()
	wg.Wait()
}

// every runs sample now and then every interval until ctx ends or the
// watch is done. A sample slower than the interval delays the next one.
func (l *watchLoop) every(ctx context.Context, sample func(context.Context)) {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-l.done:
			return
		case <-t.C:
		}
	}
}

func (l *watchLoop) since(t time.Time) time.Duration { return t.Sub(l.killedAt) }

// repeatable are the events recorded each time they happen, not once.
var repeatable = map[string]bool{EventRecoveryBroken: true, EventReplacementLost: true}

// record adds an event unless it was seen already; the caller must not
// hold l.mu.
func (l *watchLoop) record(name string, at time.Time, detail string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recordLocked(name, at, detail)
}

func (l *watchLoop) recordLocked(name string, at time.Time, detail string) {
	if l.seen[name] && !repeatable[name] {
		return
	}
	l.seen[name], l.at[name] = true, at
	l.timeline = append(l.timeline, l.event(name, at, detail))
}

// event makes a timeline event and writes its progress line.
func (l *watchLoop) event(name string, at time.Time, detail string) Event {
	d := l.since(at)
	if detail != "" {
		fmt.Fprintf(l.progress, "%s  %s: %s\n", stamp(d), name, detail)
	} else {
		fmt.Fprintf(l.progress, "%s  %s\n", stamp(d), name)
	}
	return Event{Name: name, Source: SourceOf(name), At: at, SinceKillSeconds: d.Seconds(), Detail: detail}
}

// stamp formats a time since the kill for a progress line.
func stamp(d time.Duration) string { return fmt.Sprintf("%+9.2fs", d.Seconds()) }

// cut reports whether the watch has ended, cutting the samples under way.
func (l *watchLoop) cut() bool { return l.ctx != nil && l.ctx.Err() != nil }

func (l *watchLoop) setLast(source, what string) {
	if l.cut() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last[source] = what
}

// lastSeen is what each source said last; the caller holds l.mu.
func (l *watchLoop) lastSeen() string {
	var parts []string
	for _, s := range l.sources {
		if v := l.last[s]; v != "" {
			parts = append(parts, s+": "+v)
		}
	}
	return strings.Join(parts, "; ")
}

func (l *watchLoop) finish() { l.doneOnce.Do(func() { close(l.done) }) }

// sampleInstance reads the killed instance's state: shutting down, then
// terminated (or gone from the API).
func (l *watchLoop) sampleInstance(ctx context.Context, e *ec2ops.Client, id string) {
	state, err := e.InstanceState(ctx, id)
	now := l.now()
	var ae smithy.APIError
	switch {
	case err != nil && errors.As(err, &ae) && ae.ErrorCode() == "InvalidInstanceID.NotFound":
		l.record(EventShuttingDown, now, fmt.Sprintf("implied: instance %s is gone from the EC2 API", id))
		l.record(EventInstanceDown, now, fmt.Sprintf("instance %s is gone from the EC2 API", id))
	case err != nil:
		l.setLast("EC2", err.Error())
	case state == "shutting-down":
		l.setLast("EC2", "instance "+id+" "+state)
		l.record(EventShuttingDown, now, fmt.Sprintf("instance %s is %s", id, state))
	case state == "terminated" || state == "":
		l.setLast("EC2", "instance "+id+" "+orGone(state))
		l.record(EventShuttingDown, now, fmt.Sprintf("implied: instance %s is %s", id, orGone(state)))
		l.record(EventInstanceDown, now, fmt.Sprintf("instance %s is %s", id, orGone(state)))
	default:
		l.setLast("EC2", "instance "+id+" "+state)
	}
}
