package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
)

// Leftovers is what the teardown checked beyond `pulumi destroy`: the
// operations the state recorded as interrupted, and the sweeps of what the
// stack's tags still find in AWS.
type Leftovers struct {
	// StateRead says whether the state was exported before the destroy.
	StateRead bool `json:"stateRead"`
	// PendingOperations are the state's interrupted operations. A pending
	// CREATE is a resource that may exist with no id in the state, which
	// the destroy therefore leaves (pulumi/pulumi#4265).
	PendingOperations []PendingOperation `json:"pendingOperations"`
	// BeforeDestroy is the sweep of what the state does not know, run
	// before the destroy when a pending CREATE of an instance or ELB is
	// found: such a leftover sits in the stack's subnet and security
	// groups, whose deletion would otherwise fail on DependencyViolation
	// after retrying for 20 minutes (terraform-provider-aws v5.5.0
	// internal/service/ec2/vpc_subnet.go, resourceSubnetDelete).
	BeforeDestroy      *ec2ops.SweepReport `json:"beforeDestroy,omitempty"`
	BeforeDestroyError string              `json:"beforeDestroyError,omitempty"`
	// Partitions is the sweep of the partition drill's groups before the
	// destroy, run every time: a drill group a dead run left sits in the
	// stack's VPC, whose deletion it would block, and may still hold an
	// agent (ec2ops.SweepPartitions). PartitionsError says why it failed.
	Partitions      *ec2ops.PartitionSweep `json:"partitions,omitempty"`
	PartitionsError string                 `json:"partitionsError,omitempty"`
	// AfterDestroy is the sweep after a successful destroy: anything the
	// stack's tags still find is removed, and what cannot be is a problem.
	AfterDestroy *ec2ops.SweepReport `json:"afterDestroy,omitempty"`
	// AfterDestroyError says why that sweep failed: then its counts are
	// not a finding (nothing could be listed, or not all of it).
	AfterDestroyError string `json:"afterDestroyError,omitempty"`
	// Clean says the sweep after the destroy ran and left nothing.
	Clean bool `json:"clean"`
}

// Sweepers makes the sweeper of a region (ec2ops.ConnectSweeper for real).
type Sweepers func(ctx context.Context, region string) (*ec2ops.Sweeper, error)

// TeardownConfig is one teardown: the end of every rehearsal, and all of
// `rehearsal --destroy-run` (the CI safety net).
type TeardownConfig struct {
	Stack Stack
	Sweep Sweepers
	// Region is the stack's region when its state does not say.
	Region string

	InspectTimeout time.Duration // bound of the export (default DefaultInspectTimeout)
	DestroyTimeout time.Duration // bound of `pulumi destroy` (default DefaultDestroyTimeout)
	RemoveTimeout  time.Duration // bound of `pulumi stack rm` (default DefaultRemoveTimeout)
	SweepWait      time.Duration // a sweep's wait for terminations (default ec2ops.DefaultSweepWait)
	SweepPoll      time.Duration // a sweep's polling interval (default ec2ops.DefaultCleanupPoll)

	Progress io.Writer
	Now      func() time.Time
}

func (tc *TeardownConfig) defaults() {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&tc.InspectTimeout, DefaultInspectTimeout}, {&tc.DestroyTimeout, DefaultDestroyTimeout},
		{&tc.RemoveTimeout, DefaultRemoveTimeout}, {&tc.SweepWait, ec2ops.DefaultSweepWait},
		{&tc.SweepPoll, ec2ops.DefaultCleanupPoll},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if tc.Progress == nil {
		tc.Progress = io.Discard
	}
	if tc.Now == nil {
		tc.Now = time.Now
	}
}

// sweepTimeout bounds one sweep: its wait plus its API calls.
func sweepTimeout(wait time.Duration) time.Duration { return wait + sweepCallAllowance }

// Teardown reads the state, sweeps what an interrupted create left before
// the destroy, destroys the stack, sweeps what the stack's tags still find,
// and removes the stack only if nothing is left. Each phase runs on a
// context of its own that ignores parent's cancellation (the teardown is
// what an interrupt asks for) and has its own bound. Steps, problems and
// the leftovers go into r.
func Teardown(parent context.Context, tc TeardownConfig, r *Report) {
	tc.defaults()
	base := context.WithoutCancel(parent)
	within := func(d time.Duration, fn func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(base, d)
		defer cancel()
		// A phase that panics fails as an error: the phases after it
		// still run, or keep the stack for --destroy-run.
		return recovered("a teardown step", func() error { return fn(ctx) })
	}
	lo := &Leftovers{PendingOperations: []PendingOperation{}}
	r.Leftovers = lo
	name := tc.Stack.Name()
	region := tc.Region
	scope := ec2ops.SweepScope{Stack: name}
	var known []string

	if in, ok := tc.Stack.(Inspector); ok {
		var st StackState
		err := within(tc.InspectTimeout, func(ctx context.Context) (err error) { st, err = in.Inspect(ctx); return err })
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("reading the state of stack %s before the destroy failed, so its interrupted operations are unknown: %v", name, err))
		} else {
			lo.StateRead, lo.PendingOperations, known = true, append(lo.PendingOperations, st.Pending...), st.ResourceIDs
			region, scope.ClusterID = firstOf(st.Region, region), st.ClusterID
			if st.ClusterID != "" { // the app volume's selectors need it (ec2ops.VolumeSelector)
				scope.VolumeName, scope.FlockerClusterUUID = st.VolumeName, st.FlockerClusterUUID
			}
		}
	}
	var sweepable []string
	for _, op := range lo.PendingOperations {
		fmt.Fprintf(tc.Progress, "rehearsal: the state of stack %s has a pending operation: %s\n", name, op)
		switch {
		case !op.IsCreate() || createsNothingOutside(op.ResourceType):
		case sweptTypes[op.ResourceType]:
			sweepable = append(sweepable, op.Name())
		default:
			r.Problems = append(r.Problems, fmt.Sprintf("stack %s: %s may exist in AWS without the state knowing it, and the sweep does not remove a %s: look for it by hand (see manualCleanup) and delete it",
				name, op, op.ResourceType))
			r.ManualCleanup = tc.Stack.ManualCleanup()
		}
	}

	sweep := func(keep []string) (ec2ops.SweepReport, error) {
		var rep ec2ops.SweepReport
		err := within(sweepTimeout(tc.SweepWait), func(ctx context.Context) error {
			if tc.Sweep == nil {
				return errors.New("no sweeper configured")
			}
			if region == "" {
				return errors.New("the stack's region is unknown (no aws:region in its state and none given)")
			}
			sw, err := tc.Sweep(ctx, region)
			if err != nil {
				return err
			}
			rep, err = sw.Sweep(ctx, scope, ec2ops.SweepOptions{Keep: keep, Wait: tc.SweepWait, Poll: tc.SweepPoll, Progress: tc.Progress})
			return err
		})
		return rep, err
	}
	if len(sweepable) > 0 {
		fmt.Fprintf(tc.Progress, "rehearsal: sweeping what the pending creates of %s may have left, before the destroy\n", strings.Join(sweepable, ", "))
		rep, err := sweep(known)
		lo.BeforeDestroy = &rep
		if err != nil {
			lo.BeforeDestroyError = err.Error()
			fmt.Fprintf(tc.Progress, "rehearsal: the sweep before the destroy failed (the sweep after it decides): %v\n", err)
		}
	}

	if region != "" && tc.Sweep != nil {
		err := within(sweepTimeout(tc.SweepWait), func(ctx context.Context) error {
			sw, err := tc.Sweep(ctx, region)
			if err != nil {
				return err
			}
			p, err := sw.SweepPartitions(ctx, scope, ec2ops.SweepOptions{Wait: tc.SweepWait, Poll: tc.SweepPoll, Progress: tc.Progress})
			lo.Partitions = &p
			return err
		})
		if err != nil {
			lo.PartitionsError = err.Error()
			r.Problems = append(r.Problems, fmt.Sprintf("stack %s: the partition drill's groups could not all be undone before the destroy: %v", name, err))
		}
	}

	fmt.Fprintf(tc.Progress, "rehearsal: destroying stack %s (up to %s)\n", name, tc.DestroyTimeout)
	err := timedStep(tc.Now, r, StepDestroy, func() error {
		return within(tc.DestroyTimeout, tc.Stack.Destroy)
	})
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("the destroy of stack %s failed: %v; finish it by hand (see manualCleanup)", name, err))
		r.ManualCleanup = tc.Stack.ManualCleanup()
		return
	}
	r.Destroyed = true

	fmt.Fprintf(tc.Progress, "rehearsal: sweeping what the tags of stack %s still find (%s)\n", name, tc.SweepWait)
	rep, err := sweep(nil)
	lo.AfterDestroy = &rep
	if err != nil {
		lo.AfterDestroyError = err.Error()
		r.Problems = append(r.Problems, fmt.Sprintf("the sweep after the destroy of stack %s: %v; the stack is kept so that `rehearsal --destroy-run` can sweep again", name, err))
		r.ManualCleanup = tc.Stack.ManualCleanup()
		return
	}
	lo.Clean = true

	err = timedStep(tc.Now, r, StepRemove, func() error { return within(tc.RemoveTimeout, tc.Stack.Remove) })
	r.Removed = err == nil
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("the removal of stack %s failed: %v; finish it by hand (see manualCleanup)", name, err))
		r.ManualCleanup = tc.Stack.ManualCleanup()
	}
}

// timedStep runs one step and records its timing in r.
func timedStep(now func() time.Time, r *Report, name string, fn func() error) error {
	start := now()
	err := fn()
	t := StepTiming{Name: name, StartedAt: start.UTC(), Seconds: now().Sub(start).Seconds()}
	if err != nil {
		t.Error = err.Error()
	}
	r.Steps = append(r.Steps, t)
	return err
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// Summary writes the leftovers' lines of Report.Summary: the pending
// operations and each sweep's outcome. A nil Leftovers writes nothing.
func (lo *Leftovers) Summary(w io.Writer) {
	if lo == nil {
		return
	}
	for _, op := range lo.PendingOperations {
		fmt.Fprintf(w, "  pending operation in the state: %s\n", op)
	}
	if p := lo.Partitions; p != nil && len(p.Groups) > 0 {
		fmt.Fprintf(w, "  partition drill groups left by a dead run: %d found, %d instances restored, %d deleted, %d left\n",
			len(p.Groups), len(p.Restored), len(p.GroupsDeleted), len(p.Left))
	}
	for _, s := range []struct {
		when, err string
		rep       *ec2ops.SweepReport
	}{{"before the destroy", lo.BeforeDestroyError, lo.BeforeDestroy}, {"after the destroy", lo.AfterDestroyError, lo.AfterDestroy}} {
		if s.rep == nil {
			continue
		}
		if s.err != "" { // its counts are what it did before it failed, not what is left
			fmt.Fprintf(w, "  sweep %s (%s) FAILED, what is left is unknown: %s; it had terminated %d instances and deleted %d volumes and %d load balancers\n",
				s.when, s.rep.Scope, firstLine(s.err), len(s.rep.Terminated), len(s.rep.VolumesDeleted), len(s.rep.LoadBalancersDeleted))
		} else {
			fmt.Fprintf(w, "  sweep %s (%s): %d instances terminated, %d volumes and %d load balancers deleted, %d left\n", s.when, s.rep.Scope,
				len(s.rep.Terminated), len(s.rep.VolumesDeleted), len(s.rep.LoadBalancersDeleted), len(s.rep.Left))
		}
		for _, l := range s.rep.Left {
			fmt.Fprintf(w, "    left: %s\n", l)
		}
	}
}
