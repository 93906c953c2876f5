package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// checkPartitionFlags refuses --heal-after without --mode partition, a
// negative one, and a partition without the watch: only a running
// kill-node heals the partition.
func checkPartitionFlags(o options) error {
	switch {
	case o.healAfter != 0 && o.mode != failover.ModePartition:
		return fmt.Errorf("--heal-after is for --mode %s", failover.ModePartition)
	case o.healAfter < 0:
		return fmt.Errorf("--heal-after %s is negative", o.healAfter)
	case o.mode == failover.ModePartition && o.noWatch:
		return fmt.Errorf("--mode %s with --no-watch: the partition is healed by kill-node while it watches, so it cannot exit first", failover.ModePartition)
	case o.mode == failover.ModePartition && o.target.IsMaster():
		return fmt.Errorf("--mode %s cuts off the app's agent, not a master", failover.ModePartition)
	}
	return nil
}

// partition runs the partition drill (failover.RunPartition) for
// --heal-after, or the stack's default. Its security groups are restored
// on every exit: ctx ends on SIGINT and SIGTERM (main), and RunPartition
// restores on a cancelled context, an error or a panic.
func partition(ctx context.Context, o options, outs stackoutputs.Outputs, target failover.Target, cfg failover.WatchConfig) (failover.Report, error) {
	if outs.ELBSecurityGroupID == "" || outs.AppPort == 0 {
		return failover.Report{}, errors.New("--mode partition needs the stack outputs elbSecurityGroupId and appPort, which this stack lacks: run `pulumi up` with this version of marathon-ha first; nothing was changed")
	}
	heal, basis := o.healAfter, "--heal-after"
	if heal == 0 {
		heal, basis = failover.DefaultHealAfter(outs.Failover), "the default: the stack's latest detection + the fence + Marathon's relaunch + margin"
	}
	fmt.Fprintf(cfg.Progress, "partition: cutting instance %s (%s) off from the masters for %s (%s); the ELB's group %s keeps port %d\n",
		target.InstanceID, target.Host, heal, basis, outs.ELBSecurityGroupID, outs.AppPort)
	return failover.RunPartition(ctx, cfg, heal)
}
