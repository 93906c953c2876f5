package main

import (
	"context"
	"fmt"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"io"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// killAndWatch starts the writer through the ELB, lets it run its lead,
// kills the target, watches the recovery with the writer still sending,
// then stops the writer, reads its clicks back (after a recovery) and
// judges the report as the rehearsal does (Report.Judge: the budget plus
// --margin, or --rto-limit). wc is the watch's config without the kill
// time.
func killAndWatch(ctx context.Context, o options, d deps, human io.Writer, consoles *ec2ops.ConsoleReader, wc failover.WatchConfig) (r failover.Report, drillErr, err error) {
	cfg := d.workload
	cfg.App = wc.App
	cfg.Loss = failover.LossAllowance(o.mode, cfg.Loss.Bound)
	cfg.Draw = d.rng.Uint32
	cfg.Seed = o.seed
	if cfg.Seed == 0 {
		cfg.Seed = uint64(d.rng.Uint32())<<32 | uint64(d.rng.Uint32())
	}
	cfg.Deadline = o.timeout
	w, err := workload.Start(ctx, cfg)
	if err != nil {
		return failover.Report{}, nil, fmt.Errorf("%w; instance %s was not terminated", err, wc.Target.InstanceID)
	}
	defer w.Stop() // at the latest; Finish stops it first
	fmt.Fprintln(human, w.Describe())
	if err := w.WaitLead(ctx); err != nil {
		return failover.Report{}, nil, fmt.Errorf("%w; instance %s was not terminated", err, wc.Target.InstanceID)
	}
	var faultAt time.Time
	if o.mode == failover.ModePartition {
		// The writer keeps clicking through the partition and its heal:
		// clicks acknowledged by either side are judged alike.
		r, drillErr = partition(ctx, o, wc.Outputs, wc.Target, wc)
		if drillErr != nil && r.Partition == nil {
			return failover.Report{}, nil, drillErr
		}
		faultAt = r.FaultAt()
	} else {
		faultAt, err = failover.Kill(ctx, wc.Marathon, wc.EC2, wc.ELB, wc.Outputs, wc.Target, o.mode)
		if err != nil {
			return failover.Report{}, nil, err
		}
		fmt.Fprintf(human, "terminate (%s) requested for %s at %s\n", o.mode, wc.Target.InstanceID, faultAt.UTC().Format(time.RFC3339Nano))
		wc.KilledAt = faultAt
		if r, err = failover.Watch(ctx, wc); err != nil {
			return failover.Report{}, nil, err
		}
	}
	r.AddWorkload(w.Finish(ctx, faultAt, r.Recovered))
	if consoles != nil {
		fences, err := failover.ReadFences(ctx, wc.EC2, consoles, wc.Outputs.ClusterID, wc.Target.InstanceID)
		if err != nil {
			fmt.Fprintf(human, "kill-node: the fences' console lines are incomplete: %v\n", err)
		}
		r.AddFences(fences)
	}
	r.Judge(o.rtoLimit, o.margin)
	return r, drillErr, nil
}
