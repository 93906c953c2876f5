package ec2ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/ctxsleep"
)

// The bounded wait of a sweep: for the instances it terminated to be
// terminated, and for the volumes to detach and be deleted.

// settle waits for the instances in waitFor to be terminated and deletes
// each volume as soon as it is available, until nothing is pending or
// opts.Wait has passed. A volume attached to an instance that is not
// going away never detaches: it is not waited for, and ends up in Left.
func (s *Sweeper) settle(ctx context.Context, scope SweepScope, opts SweepOptions, keep func(string) bool, waitFor []string, rep *SweepReport, out io.Writer) error {
	start := time.Now()
	deadline := start.Add(opts.Wait)
	seen := map[string]bool{}
	var lastState string
	var lastPrint time.Time
	c := &Client{api: s.ec2}
	for {
		var pending []string
		if len(waitFor) > 0 {
			ins, err := s.instances(ctx, scope, waitFor)
			if err != nil {
				return err
			}
			for _, in := range ins {
				pending = append(pending, "instance "+describeInstance(in))
			}
		}
		vols, err := s.volumes(ctx, scope, keep)
		if err != nil {
			return err
		}
		going, err := s.goingInstances(ctx, vols, waitFor)
		if err != nil {
			return err
		}
		var errs []error
		for _, v := range vols {
			id := aws.ToString(v.VolumeId)
			if !seen[id] {
				seen[id] = true
				rep.Volumes = append(rep.Volumes, describeVolume(v))
			}
			var cr CleanupReport
			done, err := c.settle(ctx, v, false, &cr, io.Discard)
			if err != nil {
				errs = append(errs, err)
			}
			if len(cr.Deleted) > 0 {
				fmt.Fprintf(out, "sweep: deleted volume %s\n", describeVolume(v))
				rep.VolumesDeleted = append(rep.VolumesDeleted, id)
			}
			if !done && willFree(v, going) {
				pending = append(pending, "volume "+describeVolume(v))
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if len(pending) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("still waiting after %s for: %s", opts.Wait, strings.Join(pending, "; "))
		}
		if state := strings.Join(pending, "; "); state != lastState || time.Since(lastPrint) >= progressEvery {
			fmt.Fprintf(out, "sweep: waiting (%s of %s) for %s\n", time.Since(start).Round(time.Second), opts.Wait, state)
			lastState, lastPrint = state, time.Now()
		}
		if err := ctxsleep.Sleep(ctx, min(opts.Poll, time.Until(deadline))); err != nil {
			return fmt.Errorf("waiting for the swept resources to go: %w", err)
		}
	}
}

// goingInstances returns the instances the volumes are attached to that
// are going away: those in waitFor, and any other that is shutting down or
// terminated (right after a destroy, a root volume can still show its
// terminated instance's attachment for a moment before EC2 deletes it). An
// instance EC2 no longer lists ended long ago, so an attachment to it is
// not going to clear by waiting.
func (s *Sweeper) goingInstances(ctx context.Context, vols []types.Volume, waitFor []string) ([]string, error) {
	going := slices.Clone(waitFor)
	var other []string
	for _, v := range vols {
		for _, a := range v.Attachments {
			if id := aws.ToString(a.InstanceId); id != "" && !slices.Contains(going, id) && !slices.Contains(other, id) {
				other = append(other, id)
			}
		}
	}
	if len(other) == 0 {
		return going, nil
	}
	c := &Client{api: s.ec2}
	found, err := c.describeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-id"), Values: other}}},
		"reading the instances volumes are attached to")
	if err != nil {
		return nil, err
	}
	for _, in := range found {
		if in.State == string(types.InstanceStateNameShuttingDown) || in.State == string(types.InstanceStateNameTerminated) {
			going = append(going, in.ID)
		}
	}
	return going, nil
}

// willFree reports whether a volume not yet deletable will become so by
// waiting: it is being created, or it is attached only to instances that
// are going away (an instance's volumes detach once it is terminated, or
// go with it: EC2 User Guide, "Terminate Amazon EC2 instances").
func willFree(v types.Volume, terminating []string) bool {
	if v.State == types.VolumeStateCreating {
		return true
	}
	if v.State != types.VolumeStateInUse || len(v.Attachments) == 0 {
		return false
	}
	for _, a := range v.Attachments {
		if !slices.Contains(terminating, aws.ToString(a.InstanceId)) {
			return false
		}
	}
	return true
}
