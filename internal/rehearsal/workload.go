package rehearsal

import (
	"context"
	"fmt"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// startWorkload starts the app-agent drill's writer through the ELB and
// waits its lead; its clicks go on through the kill and the watch. The
// writer's id (one the volume does not hold yet) and its seed are drawn
// from cfg.Rand unless set, and printed, so a run can be replayed.
func startWorkload(ctx context.Context, cfg Config, app *mobycounter.Client) (*workload.Writer, error) {
	wc := cfg.Workload
	wc.App = app
	wc.Loss = failover.LossAllowance(cfg.Mode, wc.Loss.Bound)
	if wc.Writer == 0 {
		wc.Draw = cfg.Rand.Uint32
	}
	if wc.Seed == 0 {
		wc.Seed = uint64(cfg.Rand.Uint32())<<32 | uint64(cfg.Rand.Uint32())
	}
	if wc.Deadline == 0 {
		wc.Deadline = cfg.WatchDeadline
	}
	if wc.Now == nil {
		wc.Now = cfg.Now
	}
	w, err := workload.Start(ctx, wc)
	if err != nil {
		return nil, fmt.Errorf("starting the writer: %w", err)
	}
	fmt.Fprintf(cfg.Progress, "rehearsal: %s\n", w.Describe())
	return w, w.WaitLead(ctx)
}
