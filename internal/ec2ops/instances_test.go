package ec2ops_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

const (
	stack   = "dev"
	cluster = "c0ffee12"
)

var scope = ec2ops.Scope{Stack: stack, ClusterID: cluster}

func tags(stack, cluster, role string) map[string]string {
	t := map[string]string{facts.TagProject: facts.Project}
	if stack != "" {
		t[facts.TagStack] = stack
	}
	if cluster != "" {
		t[facts.TagClusterID] = cluster
	}
	if role != "" {
		t[facts.TagRole] = role
	}
	return t
}

// setup starts a stand-in and a Client over the real SDK pointed at it.
func setup(t *testing.T, opts ...ec2test.Option) (*ec2test.Server, *ec2ops.Client) {
	t.Helper()
	srv := ec2test.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv, ec2ops.New(srv.Client(), ec2ops.WithPollInterval(2*time.Millisecond))
}

func TestFindByPrivateIP(t *testing.T) {
	tests := []struct {
		name     string
		tags     map[string]string
		state    string
		wantErr  error
		wantText []string
	}{
		{name: "agent of the stack", tags: tags(stack, cluster, facts.RoleAgent)},
		{name: "no tags", tags: nil, wantErr: ec2ops.ErrNotInScope,
			wantText: []string{"i-0target", "tag " + facts.TagStack + " is missing", "tag " + facts.TagClusterID + " is missing", "tag " + facts.TagRole + " is missing"}},
		{name: "another stack", tags: tags("prod", cluster, facts.RoleAgent), wantErr: ec2ops.ErrNotInScope,
			wantText: []string{"i-0target", `tag ` + facts.TagStack + ` is "prod" (want "dev")`}},
		{name: "another cluster", tags: tags(stack, "deadbeef", facts.RoleAgent), wantErr: ec2ops.ErrNotInScope,
			wantText: []string{`tag ` + facts.TagClusterID + ` is "deadbeef" (want "c0ffee12")`}},
		{name: "the master", tags: tags(stack, cluster, facts.RoleMaster), wantErr: ec2ops.ErrNotInScope,
			wantText: []string{`tag ` + facts.TagRole + ` is "master" (want "agent")`}},
		{name: "terminated", tags: tags(stack, cluster, facts.RoleAgent), state: ec2test.StateTerminated,
			wantErr: ec2ops.ErrNoInstance, wantText: []string{"10.42.1.11", "already be terminated"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := setup(t)
			launch := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
			srv.AddInstance(ec2test.Instance{ID: "i-0target", PrivateIP: "10.42.1.11", State: tc.state, Tags: tc.tags, LaunchTime: launch})
			srv.AddInstance(ec2test.Instance{ID: "i-0other", PrivateIP: "10.42.1.12", Tags: tags(stack, cluster, facts.RoleAgent)})

			got, err := c.FindByPrivateIP(context.Background(), scope, "10.42.1.11")
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got.ID != "i-0target" || got.PrivateIP != "10.42.1.11" || got.State != "running" ||
					got.Role != facts.RoleAgent || !got.LaunchTime.Equal(launch) || got.Tags[facts.TagStack] != stack {
					t.Errorf("found %+v", got)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want one matching %v", err, tc.wantErr)
			}
			for _, want := range tc.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if tc.wantErr == ec2ops.ErrNotInScope {
				var se *ec2ops.ScopeError
				if !errors.As(err, &se) || se.InstanceID != "i-0target" {
					t.Errorf("error %v does not carry a *ScopeError for i-0target", err)
				}
			}
		})
	}
}

func TestFindByPrivateIPSendsExactFilters(t *testing.T) {
	srv, c := setup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-1", PrivateIP: "10.42.1.11", Tags: tags(stack, cluster, facts.RoleAgent)})
	if _, err := c.FindByPrivateIP(context.Background(), scope, "10.42.1.11"); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls("DescribeInstances")
	if len(calls) != 1 {
		t.Fatalf("%d DescribeInstances calls, want 1", len(calls))
	}
	p := calls[0].Params
	if p.Get("Filter.1.Name") != "private-ip-address" || p.Get("Filter.1.Value.1") != "10.42.1.11" ||
		p.Get("Filter.2.Name") != "instance-state-name" || p.Get("Filter.2.Value.1") != "pending" || p.Get("Filter.2.Value.2") != "running" {
		t.Errorf("filters sent: %v", p)
	}
}

func TestFindByPrivateIPRefusesWildcardsWithoutCalling(t *testing.T) {
	srv, c := setup(t)
	for _, ip := range []string{"10.42.1.*", "", "10.42.1.1?"} {
		if _, err := c.FindByPrivateIP(context.Background(), scope, ip); err == nil {
			t.Errorf("address %q accepted", ip)
		}
	}
	if _, err := c.FindByPrivateIP(context.Background(), ec2ops.Scope{Stack: stack}, "10.42.1.11"); err == nil || !strings.Contains(err.Error(), "cluster id") {
		t.Errorf("scope without a cluster id: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d API calls for invalid input, want none", n)
	}
}

func TestFindByPrivateIPPicksTheStacksInstanceAmongVPCs(t *testing.T) {
	srv, c := setup(t)
	// Another VPC of the account may reuse the address.
	srv.AddInstance(ec2test.Instance{ID: "i-0foreign", PrivateIP: "10.42.1.11", Tags: map[string]string{"Name": "web"}})
	srv.AddInstance(ec2test.Instance{ID: "i-0ours", PrivateIP: "10.42.1.11", Tags: tags(stack, cluster, facts.RoleAgent)})
	got, err := c.FindByPrivateIP(context.Background(), scope, "10.42.1.11")
	if err != nil || got.ID != "i-0ours" {
		t.Errorf("got %q, %v; want i-0ours", got.ID, err)
	}
	srv.AddInstance(ec2test.Instance{ID: "i-0twin", PrivateIP: "10.42.1.11", Tags: tags(stack, cluster, facts.RoleAgent)})
	if _, err := c.FindByPrivateIP(context.Background(), scope, "10.42.1.11"); err == nil || !strings.Contains(err.Error(), "i-0twin") {
		t.Errorf("two in-scope instances at one address: %v, want a refusal naming both", err)
	}
}

func TestTerminateRechecksTags(t *testing.T) {
	srv, c := setup(t)
	srv.AddInstance(ec2test.Instance{ID: "i-0master", PrivateIP: "10.42.1.10", Tags: tags(stack, cluster, facts.RoleMaster)})
	srv.AddInstance(ec2test.Instance{ID: "i-0foreign", Tags: tags(stack, "deadbeef", facts.RoleAgent)})
	for _, id := range []string{"i-0master", "i-0foreign"} {
		err := c.Terminate(context.Background(), scope, id)
		if !errors.Is(err, ec2ops.ErrNotInScope) || !strings.Contains(err.Error(), id) {
			t.Errorf("terminating %s: %v, want a refusal naming it", id, err)
		}
		if in, _ := srv.Instance(id); in.State != ec2test.StateRunning {
			t.Errorf("%s is %s after a refused terminate", id, in.State)
		}
	}
	if n := len(srv.Calls("TerminateInstances")); n != 0 {
		t.Errorf("%d TerminateInstances calls for refused instances", n)
	}
}

func TestTerminateAndWait(t *testing.T) {
	srv, c := setup(t, ec2test.WithShutdownDelay(30*time.Millisecond))
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", PrivateIP: "10.42.1.11", Tags: tags(stack, cluster, facts.RoleAgent)})
	ctx := context.Background()
	if err := c.Terminate(ctx, scope, "i-0agent"); err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls("TerminateInstances")
	if len(calls) != 1 || calls[0].Params.Get("InstanceId.1") != "i-0agent" {
		t.Fatalf("TerminateInstances calls: %v", calls)
	}
	if st, err := c.InstanceState(ctx, "i-0agent"); err != nil || st != "shutting-down" {
		t.Errorf("state right after terminate: %q, %v", st, err)
	}
	var progress bytes.Buffer
	if err := c.WaitState(ctx, "i-0agent", "terminated", &progress); err != nil {
		t.Fatal(err)
	}
	if out := progress.String(); !strings.Contains(out, "i-0agent: shutting-down") || !strings.Contains(out, "i-0agent: terminated") {
		t.Errorf("progress:\n%s", out)
	}
	// Terminating again is a no-op, not a second call.
	if err := c.Terminate(ctx, scope, "i-0agent"); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Calls("TerminateInstances")); n != 1 {
		t.Errorf("%d TerminateInstances calls, want 1", n)
	}
}

func TestWaitStateGivesUp(t *testing.T) {
	srv := ec2test.NewServer(ec2test.WithShutdownDelay(time.Hour))
	defer srv.Close()
	srv.AddInstance(ec2test.Instance{ID: "i-0stuck", State: ec2test.StateShuttingDown})
	api := &firstSampleKept{EC2API: srv.Client()}
	c := ec2ops.New(api, ec2ops.WithPollInterval(2*time.Millisecond), ec2ops.WithWaitTimeout(20*time.Millisecond))
	err := c.WaitState(context.Background(), "i-0stuck", "terminated", nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "still shutting-down") {
		t.Errorf("error %v, want a deadline naming the state it is stuck in", err)
	}
	if api.answered.Load() == 0 {
		t.Error("no DescribeInstances was answered: the wait never saw the state")
	}
}

// firstSampleKept passes calls to the stand-in, and lets the first
// DescribeInstances finish whatever the caller's deadline: a wait that
// gives up must name the state it saw, and on a loaded machine the first
// answer may take longer than the 20 ms the wait is given, so without this
// the test would sometimes check a wait that saw nothing. Later samples keep
// the deadline, so the wait still ends by its own timeout.
type firstSampleKept struct {
	ec2ops.EC2API
	answered atomic.Int32
}

func (a *firstSampleKept) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if a.answered.Load() == 0 {
		ctx = context.WithoutCancel(ctx)
	}
	out, err := a.EC2API.DescribeInstances(ctx, in, optFns...)
	if err == nil {
		a.answered.Add(1)
	}
	return out, err
}

func TestInstanceErrorsNameCallAndFix(t *testing.T) {
	srv, c := setup(t)
	_, err := c.InstanceState(context.Background(), "i-0gone")
	for _, want := range []string{"i-0gone", "DescribeInstances", "InvalidInstanceID.NotFound", "check the region"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", Tags: tags(stack, cluster, facts.RoleAgent)})
	srv.Fail("TerminateInstances", 1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	err = c.Terminate(context.Background(), scope, "i-0agent")
	for _, want := range []string{"terminating instance i-0agent", "UnauthorizedOperation", "ec2:TerminateInstances"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}
