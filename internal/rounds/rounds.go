// Package rounds runs a failover drill N times in a row on one cluster:
// each round picks a drill at random from a seed, kills, watches, judges,
// and brings the cluster back to full strength before the next. The same
// seed replays a run: the same drills in the same order. The rehearsal
// runs its rounds on AWS through it, and its tests on the stand-ins.
package rounds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Plan is the drills of n rounds drawn from seed: the same seed, drills
// and n always give the same plan (math/rand/v2's PCG, whose output is
// fixed by its seed).
func Plan(seed uint64, drills []string, n int) []string {
	if len(drills) == 0 || n <= 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(seed, seed^pcgStream))
	out := make([]string, n)
	for i := range out {
		out[i] = drills[r.IntN(len(drills))]
	}
	return out
}

// pcgStream is PCG's second seed word, fixed so that one number replays
// a run.
const pcgStream = 0x9e3779b97f4a7c15

// NewSeed is a fresh seed for a run that was given none; never 0, which
// callers take for "none given".
func NewSeed() uint64 {
	for {
		if s := rand.Uint64(); s != 0 {
			return s
		}
	}
}

// Outcome is what one round measured and how it was judged.
type Outcome struct {
	Recovered  bool    `json:"recovered"`
	RTOSeconds float64 `json:"rtoSeconds,omitempty"`
	// RPOSeconds is how far back the loss reaches (workload.Summary: the
	// age at the kill of the oldest acknowledged click lost), when
	// the round measured it (a workload through the fault); nil when it
	// did not, and then the summary says the RPO was not measured.
	RPOSeconds *float64 `json:"rpoSeconds,omitempty"`
	// Acknowledged clicks were acknowledged to the client; Lost are those
	// of them not read back after the recovery.
	Acknowledged int `json:"acknowledged"`
	Lost         int `json:"lost"`
	// Problems are why the round failed (over its limit, clicks lost, not
	// recovered); empty means it passed.
	Problems []string `json:"problems"`
}

// Round is one round of a run.
type Round struct {
	N     int    `json:"n"` // 1-based
	Drill string `json:"drill"`
	Outcome
	// Error is why the round could not be run or judged (the kill was
	// refused, the watch failed); the run stops there.
	Error string `json:"error,omitempty"`
	// RestoreError is why the cluster could not be brought back to full
	// strength after the round; the run stops there.
	RestoreError   string    `json:"restoreError,omitempty"`
	StartedAt      time.Time `json:"startedAt"`
	Seconds        float64   `json:"seconds"`
	RestoreSeconds float64   `json:"restoreSeconds,omitempty"`
	// FullStrengthSeconds is how long after the kill the agents' group was
	// back to its desired capacity, every agent InService (Config.FullStrength);
	// nil when not measured.
	FullStrengthSeconds *float64 `json:"fullStrengthSeconds,omitempty"`
}

// Config is one run of rounds.
type Config struct {
	Rounds int
	Seed   uint64
	// Drills are what a round can do, each chosen with equal chance: the
	// kill modes of the app's agent today (crash, graceful); partitions
	// and master kills join as their drills exist.
	Drills []string
	// Round runs round n (1-based) as drill: the kill, the watch, the
	// judgement. An error stops the run.
	Round func(ctx context.Context, n int, drill string) (Outcome, error)
	// Restore brings the cluster back to full strength after round n (the
	// lost agent replaced and registered, the app served) before the next
	// round; it is not called after the last. An error stops the run.
	Restore func(ctx context.Context, n int) error
	// FullStrength, when set, waits after each recovered round until the
	// agents' Auto Scaling group is back to its desired capacity, every
	// agent InService, and returns how long after the round's kill that
	// was. It runs before Restore, so the next kill finds the cluster
	// whole; an error stops the run.
	FullStrength func(ctx context.Context, n int) (time.Duration, error)
	// Progress gets a line per round.
	Progress io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Run runs the rounds and returns their summary. It stops early at a
// round that did not recover (there is nothing left to kill), at an error
// of Round or Restore, and when ctx ends; the summary says so.
func Run(ctx context.Context, cfg Config) Summary {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	plan := Plan(cfg.Seed, cfg.Drills, cfg.Rounds)
	s := Summary{Seed: cfg.Seed, Drills: cfg.Drills, Planned: cfg.Rounds, Rounds: []Round{}}
	fmt.Fprintf(cfg.Progress, "rounds: %d rounds of %v, seed %d (replay with --seed %d)\n", cfg.Rounds, cfg.Drills, cfg.Seed, cfg.Seed)
	for i, drill := range plan {
		n := i + 1
		if err := ctx.Err(); err != nil {
			s.Stopped = fmt.Sprintf("stopped before round %d: %v", n, context.Cause(ctx))
			break
		}
		start := cfg.Now()
		rd := Round{N: n, Drill: drill, StartedAt: start.UTC()}
		out, err := cfg.Round(ctx, n, drill)
		rd.Outcome, rd.Seconds = out, cfg.Now().Sub(start).Seconds()
		if rd.Problems == nil {
			rd.Problems = []string{}
		}
		if err != nil {
			rd.Error = err.Error()
		}
		fmt.Fprintf(cfg.Progress, "rounds: round %d/%d (%s): %s\n", n, cfg.Rounds, drill, rd.line())
		if err == nil && rd.Recovered && cfg.FullStrength != nil {
			took, ferr := cfg.FullStrength(ctx, n)
			if ferr != nil {
				rd.RestoreError = fmt.Sprintf("the agents' group was not back to full strength: %v", ferr)
			} else {
				secs := took.Seconds()
				rd.FullStrengthSeconds = &secs
				fmt.Fprintf(cfg.Progress, "rounds: round %d: the agents' group back to full strength %.3fs after the kill\n", n, secs)
			}
		}
		if err == nil && rd.Recovered && rd.RestoreError == "" && n < len(plan) {
			rstart := cfg.Now()
			if rerr := cfg.Restore(ctx, n); rerr != nil {
				rd.RestoreError = rerr.Error()
			}
			rd.RestoreSeconds = cfg.Now().Sub(rstart).Seconds()
		}
		s.Rounds = append(s.Rounds, rd)
		switch {
		case err != nil:
			s.Stopped = fmt.Sprintf("stopped after round %d: %v", n, err)
		case !rd.Recovered:
			s.Stopped = fmt.Sprintf("stopped after round %d: the app did not recover, so there is nothing left to kill", n)
		case rd.RestoreError != "":
			s.Stopped = fmt.Sprintf("stopped after round %d: the cluster was not brought back to full strength: %s", n, rd.RestoreError)
		}
		if s.Stopped != "" {
			break
		}
	}
	s.tally()
	return s
}

func (r Round) line() string {
	if r.Error != "" {
		return "error: " + r.Error
	}
	if !r.Recovered {
		return "NOT recovered"
	}
	l := fmt.Sprintf("RTO %.3fs, %d acknowledged, %d lost", r.RTOSeconds, r.Acknowledged, r.Lost)
	if r.RPOSeconds != nil {
		l += fmt.Sprintf(", RPO %.3fs", *r.RPOSeconds)
	}
	if len(r.Problems) > 0 {
		l += fmt.Sprintf("; %d problem(s)", len(r.Problems))
	}
	return l
}

// ErrNoRestore is the error of a run of several rounds on a cluster that
// cannot be brought back to full strength between them.
var ErrNoRestore = errors.New("the cluster cannot be brought back to full strength between rounds")
