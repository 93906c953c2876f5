package ec2ops

// Tests of waitGroups on a scripted DescribeInstances: what it samples and
// when, which the stand-in (partition_test.go) cannot hold still.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// scriptedEC2 answers DescribeInstances for one instance with what answer
// says for the n-th call (from 0), and records when each answer left.
type scriptedEC2 struct {
	EC2API // nil: any other call panics
	answer func(n int) (groups []string, state types.InstanceStateName, err error)
	// latency is how long each answer takes, as EC2's do.
	latency time.Duration

	mu      sync.Mutex
	answers []time.Time
}

func (s *scriptedEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	time.Sleep(s.latency)
	s.mu.Lock()
	defer s.mu.Unlock()
	groups, state, err := s.answer(len(s.answers))
	s.answers = append(s.answers, time.Now())
	if err != nil {
		return nil, err
	}
	i := types.Instance{InstanceId: aws.String(in.InstanceIds[0]), State: &types.InstanceState{Name: state}}
	for _, g := range groups {
		i.SecurityGroups = append(i.SecurityGroups, types.GroupIdentifier{GroupId: aws.String(g)})
	}
	return &ec2.DescribeInstancesOutput{Reservations: []types.Reservation{{Instances: []types.Instance{i}}}}, nil
}

func (s *scriptedEC2) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.answers...)
}

var (
	drillOnly = []string{"sg-drill"}
	original  = []string{"sg-agents", "sg-extra"}
)

// TestWaitGroupsReturnsTheFirstSampleThatShowsThem: three samples still
// show the old groups, the fourth shows the wanted ones (in another
// order): waitGroups takes exactly four samples, a poll interval apart,
// and returns the fourth's time.
func TestWaitGroupsReturnsTheFirstSampleThatShowsThem(t *testing.T) {
	const poll = 100 * time.Millisecond
	api := &scriptedEC2{answer: func(n int) ([]string, types.InstanceStateName, error) {
		if n < 3 {
			return drillOnly, types.InstanceStateNameRunning, nil
		}
		return []string{original[1], original[0]}, types.InstanceStateNameRunning, nil
	}}
	c := New(api, WithPollInterval(poll), WithWaitTimeout(10*time.Second))
	at, err := c.waitGroups(context.Background(), "i-0agent", original)
	returned := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	s := api.times()
	if len(s) != 4 {
		t.Fatalf("%d samples, want 4: the first to show the groups ends the wait", len(s))
	}
	if at.Before(s[3]) || at.After(returned) || at.Sub(s[3]) >= poll {
		t.Errorf("returned %v, want the time of the sample that showed the groups (%v)", at, s[3])
	}
	if spread := s[3].Sub(s[0]); spread < 3*poll || spread > 3*poll+time.Second {
		t.Errorf("4 samples over %v, want three intervals of %v", spread, poll)
	}
}

// TestWaitGroupsSamplesOnThePollClock: a slow DescribeInstances does not
// stretch the interval between samples (pollUntil's ticker): the times the
// partition drill reports are as fine as WaitState's, whatever the API's
// latency.
func TestWaitGroupsSamplesOnThePollClock(t *testing.T) {
	const poll, latency = 100 * time.Millisecond, 80 * time.Millisecond
	api := &scriptedEC2{latency: latency, answer: func(n int) ([]string, types.InstanceStateName, error) {
		if n < 4 {
			return drillOnly, types.InstanceStateNameRunning, nil
		}
		return original, types.InstanceStateNameRunning, nil
	}}
	if _, err := New(api, WithPollInterval(poll), WithWaitTimeout(10*time.Second)).waitGroups(context.Background(), "i-0agent", original); err != nil {
		t.Fatal(err)
	}
	s := api.times()
	// Sleeping a poll interval after each answer would take 4 × 180 ms.
	if spread := s[len(s)-1].Sub(s[0]); len(s) != 5 || spread > 4*poll+150*time.Millisecond {
		t.Errorf("%d samples over %v, want 5 over 4 × %v: one every poll interval, not every interval plus the call's latency", len(s), spread, poll)
	}
}

// TestWaitGroupsGivesUpAtItsBound: groups that never change end the wait
// at the Client's wait timeout, or the caller's earlier deadline, with the
// groups last seen, having sampled every poll interval until then.
func TestWaitGroupsGivesUpAtItsBound(t *testing.T) {
	const poll = 20 * time.Millisecond
	for _, c := range []struct {
		name             string
		waitTimeout, ctx time.Duration // ctx 0: no deadline of the caller's
		want             time.Duration
	}{
		{"wait timeout", 300 * time.Millisecond, 0, 300 * time.Millisecond},
		{"caller's deadline first", 10 * time.Second, 300 * time.Millisecond, 300 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			api := &scriptedEC2{answer: func(int) ([]string, types.InstanceStateName, error) {
				return drillOnly, types.InstanceStateNameRunning, nil
			}}
			ctx := context.Background()
			if c.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.ctx)
				defer cancel()
			}
			start := time.Now()
			_, err := New(api, WithPollInterval(poll), WithWaitTimeout(c.waitTimeout)).waitGroups(ctx, "i-0agent", original)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(fmt.Sprint(err), "instance i-0agent still shows groups [sg-drill], not [sg-agents sg-extra], after") {
				t.Errorf("error %v", err)
			}
			if took < c.want || took > c.want+500*time.Millisecond {
				t.Errorf("gave up after %v, want %v", took, c.want)
			}
			if n, most := len(api.times()), int(c.want/poll)+2; n < most/2 || n > most {
				t.Errorf("%d samples in %v, want one every %v (at most %d)", n, c.want, poll, most)
			}
		})
	}
}

// TestWaitGroupsStopsAtOnce: an instance shutting down or not found is
// gone (with the time it was seen so); another error ends the wait as it
// is. No sample follows.
func TestWaitGroupsStopsAtOnce(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}
	for _, c := range []struct {
		name  string
		state types.InstanceStateName
		err   error
		want  error
	}{
		{"shutting down", types.InstanceStateNameShuttingDown, nil, errInstanceGone},
		{"terminated", types.InstanceStateNameTerminated, nil, errInstanceGone},
		{"not found", "", &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound", Message: "The instance ID 'i-0agent' does not exist"}, errInstanceGone},
		{"denied", "", denied, denied},
	} {
		t.Run(c.name, func(t *testing.T) {
			api := &scriptedEC2{answer: func(n int) ([]string, types.InstanceStateName, error) {
				if n < 2 {
					return drillOnly, types.InstanceStateNameRunning, nil
				}
				return nil, c.state, c.err
			}}
			at, err := New(api, WithPollInterval(10*time.Millisecond), WithWaitTimeout(10*time.Second)).waitGroups(context.Background(), "i-0agent", original)
			if !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			s := api.times()
			if len(s) != 3 {
				t.Errorf("%d samples, want 3", len(s))
			}
			if c.want == errInstanceGone && (len(s) < 3 || at.Before(s[2])) {
				t.Errorf("gone at %v, want the time of the sample that said so", at)
			}
		})
	}
}
