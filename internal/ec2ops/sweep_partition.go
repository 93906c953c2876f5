package ec2ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// A partition drill that died before its restore (a killed process, a lost
// machine) leaves its drill group, and possibly the instance in it. The
// group is not in Pulumi's state, and it sits in the stack's VPC, whose
// deletion it blocks (DeleteVpc fails with DependencyViolation while a
// security group other than the default one is in it: API reference,
// DeleteVpc). The group's tags name the instance and its original groups
// (partition.go), so the sweep can undo the drill before `pulumi destroy`
// and after it.

// PartitionSweep is what SweepPartitions found and did, each group as
// "sg-... (instance i-..., original groups sg-...)".
type PartitionSweep struct {
	Groups        []string `json:"groups"`
	Restored      []string `json:"restored"` // instances put back in their original groups
	GroupsDeleted []string `json:"groupsDeleted"`
	Left          []string `json:"left"`
}

// SweepPartitions finds the partition drill groups of the scope by their
// tags, puts any live instance still in one back in the original groups
// the group records, and deletes the group, waiting (up to wait) while an
// instance that is going away still holds it (opts.Wait, polling every
// opts.Poll; defaults as for Sweep). Instances are restored only if they
// carry the scope's tags too.
func (s *Sweeper) SweepPartitions(ctx context.Context, scope SweepScope, opts SweepOptions) (PartitionSweep, error) {
	rep := PartitionSweep{Groups: []string{}, Restored: []string{}, GroupsDeleted: []string{}, Left: []string{}}
	if err := scope.validate(); err != nil {
		return rep, err
	}
	opts.defaults()
	progress, wait := opts.Progress, opts.Wait
	api, err := groupsOf(s.ec2)
	if err != nil {
		return rep, err
	}
	groups, err := drillGroups(ctx, api, scope.filters())
	if err != nil {
		return rep, err
	}
	c := &Client{api: s.ec2, poll: opts.Poll, waitTimeout: wait}
	var errs []error
	for _, g := range groups {
		tags := tagMap(g.Tags)
		if !scope.owns(tags) {
			continue
		}
		id, instance, orig := aws.ToString(g.GroupId), tags[facts.TagDrillInstance], originalGroups(tags)
		desc := fmt.Sprintf("%s (instance %s, original groups %s)", id, orUnknown(instance), strings.Join(orig, ","))
		rep.Groups = append(rep.Groups, desc)
		fmt.Fprintf(progress, "sweep: partition drill group %s left by a run that did not restore it\n", desc)
		port, _ := strconv.Atoi(tags[facts.TagDrillAppPort])
		iso := &Isolation{InstanceID: instance, GroupID: id, OriginalGroups: orig, ELBGroupID: tags[facts.TagDrillELBGroup], AppPort: port, c: c, progress: progress}
		if err := s.restoreSwept(ctx, scope, api, iso); err != nil {
			errs = append(errs, err)
			rep.Left = append(rep.Left, "security group "+desc)
			continue
		}
		if !iso.RestoredAt.IsZero() {
			rep.Restored = append(rep.Restored, instance)
		}
		dctx, cancel := context.WithTimeout(ctx, wait)
		err := revokeELBEgress(dctx, api, iso)
		if err == nil {
			err = c.deleteDrillGroup(dctx, api, id, progress)
		}
		cancel()
		if err != nil {
			errs = append(errs, err)
			rep.Left = append(rep.Left, "security group "+desc)
			continue
		}
		rep.GroupsDeleted = append(rep.GroupsDeleted, id)
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("sweeping the partition drill's groups of %s: %w", scope, errors.Join(errs...))
	}
	return rep, nil
}

// restoreSwept restores the instance a swept drill group records, if it is
// live, in the drill group and in scope.
func (s *Sweeper) restoreSwept(ctx context.Context, scope SweepScope, api GroupsAPI, iso *Isolation) error {
	if iso.InstanceID == "" {
		return nil
	}
	found, err := s.instances(ctx, scope, []string{iso.InstanceID})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return nil // terminated, or not the stack's: nothing of ours to put back
	}
	in := found[0]
	if in.State == string(types.InstanceStateNameShuttingDown) || !slices.Contains(in.SecurityGroups, iso.GroupID) {
		return nil
	}
	if len(iso.OriginalGroups) == 0 {
		return fmt.Errorf("instance %s is still in drill group %s, which lacks the tag %s: give the instance its groups back by hand (the stack's agents group)",
			iso.InstanceID, iso.GroupID, facts.TagDrillOriginalGroups)
	}
	rctx, cancel := context.WithTimeout(ctx, facts.PartitionRestoreTimeout)
	defer cancel()
	return iso.c.restoreGroups(rctx, api, iso)
}
