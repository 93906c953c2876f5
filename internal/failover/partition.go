package failover

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// PartitionRecord is what the partition drill did to the agent's security
// groups, for the report.
type PartitionRecord struct {
	DrillGroupID     string   `json:"drillGroupId"`
	OriginalGroups   []string `json:"originalGroups"`
	ELBGroupID       string   `json:"elbGroupId"`
	AppPort          int      `json:"appPort"`
	HealAfterSeconds float64  `json:"healAfterSeconds"`
	// Restored says DescribeInstances showed the original groups again;
	// InstanceGone that the instance was gone (fenced) by the heal, so
	// there was nothing to restore. GroupDeleted: the drill group is gone.
	Restored     bool   `json:"restored"`
	InstanceGone bool   `json:"instanceGone"`
	GroupDeleted bool   `json:"groupDeleted"`
	RestoreError string `json:"restoreError,omitempty"`
}

// DefaultHealAfter is how long the partition drill keeps the agent cut
// off when not told: long enough for the whole fence to show, so the
// masters' latest verdict (agent_ping_timeout x (max_agent_ping_timeouts +
// 1): a ping lost just after one answered, facts.FenceMargin's note), the
// fence itself (facts.FenceEstimate) and Marathon's relaunch
// (facts.MarathonRelaunchEstimate) all fall inside it, with
// facts.FenceMargin to spare: 30 s with the default settings. A heal after
// the fence finds the instance terminated and has nothing to restore; a
// shorter --heal-after shows an agent coming back mid-fence, which must
// stay fenced.
func DefaultHealAfter(s stackoutputs.FailoverSettings) time.Duration {
	return s.AgentPingTimeout()*time.Duration(s.MaxAgentPingTimeouts+1) + facts.FenceEstimate + facts.MarathonRelaunchEstimate + facts.FenceMargin
}

// PartitionSpec is what the stack's drill group lets in: the ELB's group
// on the app port (the stack outputs elbSecurityGroupId and appPort).
func PartitionSpec(o stackoutputs.Outputs) ec2ops.PartitionSpec {
	return ec2ops.PartitionSpec{AppPort: o.AppPort, ELBGroupID: o.ELBSecurityGroupID}
}

// RunPartition cuts cfg.Target's instance off from the masters
// (ec2ops.Isolate), watches the failover that must follow (Watch, with
// Mode ModePartition and KilledAt the swap request), heals the partition
// after heal or once the watch ended, whichever comes first, and restores
// the original groups on every path: an error, ctx's end (a signal), a
// panic. The report's timeline gains the EC2 events of the partition
// (EventGroupsSwapped, EventGroupsRestored, EventDrillGroupDeleted), each
// at the time the DescribeInstances or DeleteSecurityGroup call that saw
// it answered. The error is non-nil when the isolation could not start or
// the restore failed; the report then says what is known.
func RunPartition(ctx context.Context, cfg WatchConfig, heal time.Duration) (Report, error) {
	if cfg.EC2 == nil || cfg.Target.InstanceID == "" {
		return Report{}, errors.New("partitioning the agent: an EC2 client and a target instance id are required (use FindTarget)")
	}
	if heal <= 0 {
		return Report{}, fmt.Errorf("partitioning the agent: heal after %s: must be positive", heal)
	}
	cfg.Mode = ModePartition
	if _, _, err := cfg.withKillTime(time.Now()).normalize(); err != nil {
		return Report{}, err
	}
	// The same check as Kill's, just before the cut: the app must still
	// run on the target, the only instance in service.
	if cfg.Marathon == nil || cfg.ELB == nil {
		return Report{}, errors.New("partitioning the agent: a Marathon client and the ELB are required to check the target first")
	}
	if err := checkTarget(ctx, cfg.Marathon, cfg.ELB, cfg.Target); err != nil {
		return Report{}, fmt.Errorf("not partitioning the agent %s (instance %s): %w: nothing changed", cfg.Target.Host, cfg.Target.InstanceID, err)
	}
	spec := PartitionSpec(cfg.Outputs)
	var rep Report
	var healErr error
	iso, err := cfg.EC2.Partition(ctx, Scope(cfg.Outputs), cfg.Target.InstanceID, spec, cfg.Progress, func(ctx context.Context, iso *ec2ops.Isolation) error {
		watchDone := make(chan struct{})
		healed := make(chan error, 1)
		go func() {
			t := time.NewTimer(heal)
			defer t.Stop()
			select {
			case <-t.C:
			case <-watchDone:
			case <-ctx.Done():
			}
			healed <- iso.Restore(ctx)
		}()
		var werr error
		rep, werr = Watch(ctx, cfg.withKillTime(iso.SwapRequestedAt))
		close(watchDone)
		healErr = <-healed
		return werr
	})
	if iso == nil {
		return Report{}, fmt.Errorf("partitioning the agent %s: %w", cfg.Target.Host, err)
	}
	rec := &PartitionRecord{DrillGroupID: iso.GroupID, OriginalGroups: iso.OriginalGroups, ELBGroupID: iso.ELBGroupID, AppPort: iso.AppPort,
		HealAfterSeconds: heal.Seconds(), Restored: !iso.RestoredAt.IsZero(), InstanceGone: iso.Gone, GroupDeleted: !iso.GroupDeletedAt.IsZero()}
	if err := errors.Join(healErr, err); err != nil {
		rec.RestoreError = err.Error()
	}
	rep.Partition = rec
	add := func(name string, at time.Time, detail string) {
		if at.IsZero() {
			return
		}
		rep.Timeline = append(rep.Timeline, Event{Name: name, Source: SourceOf(name), At: at, SinceKillSeconds: at.Sub(iso.SwapRequestedAt).Seconds(), Detail: detail})
	}
	add(EventGroupsSwapped, iso.SwappedAt, fmt.Sprintf("instance %s in %s alone (was %v): only the ELB's %s on port %d gets in, nothing gets out", iso.InstanceID, iso.GroupID, iso.OriginalGroups, iso.ELBGroupID, iso.AppPort))
	add(EventGroupsRestored, iso.RestoredAt, fmt.Sprintf("instance %s back in %v", iso.InstanceID, iso.OriginalGroups))
	add(EventGroupsRestored, iso.GoneAt, fmt.Sprintf("nothing to restore: instance %s is shutting down or terminated (fenced)", iso.InstanceID))
	add(EventDrillGroupDeleted, iso.GroupDeletedAt, "security group "+iso.GroupID)
	sortTimeline(rep.Timeline)
	if rec.RestoreError != "" {
		return rep, fmt.Errorf("the partition of %s: %s", cfg.Target.InstanceID, rec.RestoreError)
	}
	return rep, nil
}

// withKillTime is c with KilledAt set.
func (c WatchConfig) withKillTime(t time.Time) WatchConfig {
	c.KilledAt = t
	return c
}
