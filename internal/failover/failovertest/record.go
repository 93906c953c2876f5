package failovertest

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// The stand-in's own record: what really happened in the cluster, with the
// time each stand-in gives it, to judge a failover against (not what a
// watch saw from outside).

// Event kinds of the record.
const (
	EventPartitionCut    = "partition cut"    // SetPartitioned(id, true)
	EventPartitionHealed = "partition healed" // SetPartitioned(id, false)
	// EventTaskUnreachable is Mesos's verdict on the task's agent, at the
	// time Mesos gave it (marathontest's TaskStatus.UnreachableAt).
	EventTaskUnreachable = "task unreachable"
	EventSelfFenced      = "self-fenced" // the agent fenced itself (Detail: the sync's outcome)
	EventFenceLost       = "fencer: lost"
	EventFenceRequested  = "fencer: terminate requested" // the fencer's TerminateInstances, as EC2 logged it
	EventFenceConfirmed  = "fencer: fenced"              // the fencer saw EC2 report the instance terminated
	EventFenceFailed     = "fencer: failed"              // Detail: the reason
	// EventTerminateRequested is any TerminateInstances that took effect
	// (Detail: with or without OS shutdown); EventInstanceTerminated is
	// EC2's time of the instance reaching terminated.
	EventTerminateRequested = "terminate requested"
	EventInstanceTerminated = "instance terminated"
	EventVolumeDetached     = "volume detached" // EC2's time; Instance: the one it left
	EventVolumeForceDetach  = "volume force-detach requested"
	EventVolumeAttached     = "volume attached"     // EC2's time; Instance: the one it reached
	EventMountFailed        = "volume mount failed" // the replacement's task failed (Detail: why)
	EventAppStarted         = "app started"
	EventAppStopped         = "app stopped"    // Detail: why (self-fence, crash, shutdown)
	EventWritebackLost      = "writeback lost" // the page cache's writeback was refused (EIO): Detail says what was lost
	EventInService          = "ELB in service"
	EventOutOfService       = "ELB out of service"
)

// Event is one thing that happened.
type Event struct {
	At       time.Time
	Kind     string
	Instance string
	Host     string
	Detail   string
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s %s", e.At.Format("15:04:05.000000"), e.Kind, e.Instance)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Ack is one click an app server acknowledged.
type Ack struct {
	At     time.Time
	Click  string
	Server int // ServerLife.ID
}

// ServerLife is one app server: where and when it ran.
type ServerLife struct {
	ID             int
	Instance, Host string
	Started        time.Time
	Stopped        time.Time // zero while it runs
	StopReason     string
}

// Record is the stand-in's record of a run.
type Record struct {
	Events  []Event
	Acks    []Ack
	Servers []ServerLife
}

// recorder keeps the record; its lock is a leaf: nothing is called under it.
type recorder struct {
	mu      sync.Mutex
	events  []Event
	acks    []Ack
	servers []ServerLife
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) startServer(inst, host string, at time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := len(r.servers) + 1
	r.servers = append(r.servers, ServerLife{ID: id, Instance: inst, Host: host, Started: at})
	r.events = append(r.events, Event{At: at, Kind: EventAppStarted, Instance: inst, Host: host, Detail: fmt.Sprintf("server %d", id)})
	return id
}

func (r *recorder) stopServer(id int, at time.Time, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.servers[id-1]
	if !s.Stopped.IsZero() {
		return
	}
	s.Stopped, s.StopReason = at, reason
	r.events = append(r.events, Event{At: at, Kind: EventAppStopped, Instance: s.Instance, Host: s.Host, Detail: fmt.Sprintf("server %d: %s", id, reason)})
}

func (r *recorder) ack(server int, click string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acks = append(r.acks, Ack{At: time.Now(), Click: click, Server: server})
}

// Record returns the record so far, events in time order.
func (c *Cluster) Record() Record {
	r := c.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Record{Events: slices.Clone(r.events), Acks: slices.Clone(r.acks), Servers: slices.Clone(r.servers)}
	sort.SliceStable(out.Events, func(i, j int) bool { return out.Events[i].At.Before(out.Events[j].At) })
	return out
}

// First returns the first event of kind (on instance, unless it is ""),
// and whether there is one.
func (r Record) First(kind, instance string) (Event, bool) {
	for _, e := range r.Events {
		if e.Kind == kind && (instance == "" || e.Instance == instance) {
			return e, true
		}
	}
	return Event{}, false
}

// Overlap is a time when two app servers served at once.
type Overlap struct {
	// How: "in service" (the ELB routed to both servers' instances while
	// both servers ran) or "acknowledging" (each acknowledged a click
	// between the other's first and last).
	How      string
	A, B     int // ServerLife.ID
	From, To time.Time
}

// Overlaps lists every time two different app servers served at once, in
// either sense:
//   - in service: server A's instance was in service at the ELB while A
//     ran, and so was B's, at the same moment (the ELB could send a click
//     to either);
//   - acknowledging: the spans from each server's first to its last
//     acknowledged click intersect (both took writes in the same period).
//
// A server that still runs at the end is taken to serve until now.
func (r Record) Overlaps() []Overlap {
	now := time.Now()
	type span struct{ from, to time.Time }
	serving := map[int][]span{}
	for _, s := range r.Servers {
		stop := s.Stopped
		if stop.IsZero() {
			stop = now
		}
		var in time.Time
		inService := false
		for _, e := range r.Events {
			if e.Instance != s.Instance || (e.Kind != EventInService && e.Kind != EventOutOfService) {
				continue
			}
			switch {
			case e.Kind == EventInService && !inService:
				in, inService = e.At, true
			case e.Kind == EventOutOfService && inService:
				serving[s.ID] = append(serving[s.ID], clip(in, e.At, s.Started, stop))
				inService = false
			}
		}
		if inService {
			serving[s.ID] = append(serving[s.ID], clip(in, now, s.Started, stop))
		}
	}
	acking := map[int]span{}
	for _, a := range r.Acks {
		sp, ok := acking[a.Server]
		if !ok || a.At.Before(sp.from) {
			sp.from = a.At
		}
		if !ok || a.At.After(sp.to) {
			sp.to = a.At
		}
		acking[a.Server] = sp
	}
	var out []Overlap
	for i, a := range r.Servers {
		for _, b := range r.Servers[i+1:] {
			for _, x := range serving[a.ID] {
				for _, y := range serving[b.ID] {
					if from, to := later(x.from, y.from), earlier(x.to, y.to); from.Before(to) {
						out = append(out, Overlap{How: "in service", A: a.ID, B: b.ID, From: from, To: to})
					}
				}
			}
			x, okx := acking[a.ID]
			y, oky := acking[b.ID]
			if from, to := later(x.from, y.from), earlier(x.to, y.to); okx && oky && !to.Before(from) {
				out = append(out, Overlap{How: "acknowledging", A: a.ID, B: b.ID, From: from, To: to})
			}
		}
	}
	return out
}

// TwoServing reports whether two app servers ever served at once
// (Overlaps).
func (r Record) TwoServing() bool { return len(r.Overlaps()) > 0 }

// clip cuts [from, to] to [lo, hi]; an empty result has from >= to.
func clip(from, to, lo, hi time.Time) struct{ from, to time.Time } {
	return struct{ from, to time.Time }{later(from, lo), earlier(to, hi)}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Lost returns the acknowledged clicks that are not in final (what the
// volume, or the app, holds at the end), in the order acknowledged.
func (r Record) Lost(final []string) []Ack {
	have := map[string]int{}
	for _, c := range final {
		have[c]++
	}
	var lost []Ack
	for _, a := range r.Acks {
		if have[a.Click] > 0 {
			have[a.Click]--
			continue
		}
		lost = append(lost, a)
	}
	return lost
}
