package rehearsal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// fakeStack stands in for the Automation API: Up starts a failovertest
// cluster and returns its outputs, Destroy closes it.
type fakeStack struct {
	t       *testing.T
	opts    failovertest.Options
	onUp    func(*failovertest.Cluster) // e.g. stop Marathon
	upErr   error                       // Up fails after starting the cluster
	destErr error

	mu                  sync.Mutex
	cluster             *failovertest.Cluster
	ups, destroys, rems int
	destroyCtxErr       error // ctx.Err() when Destroy was called
	terminatesAtDestroy int
}

func (f *fakeStack) Name() string    { return "rehearsal-fake" }
func (f *fakeStack) Backend() string { return "file:///nowhere/state" }

func (f *fakeStack) Up(ctx context.Context) (stackoutputs.Outputs, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ups++
	c, err := failovertest.Start(f.opts)
	if err != nil {
		f.t.Fatalf("starting the stand-in cluster: %v", err)
	}
	f.cluster = c
	if f.onUp != nil {
		f.onUp(c)
	}
	if f.upErr != nil {
		return stackoutputs.Outputs{}, f.upErr
	}
	return c.Outputs(), nil
}

func (f *fakeStack) Destroy(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.destroys++
	f.destroyCtxErr = ctx.Err()
	if f.cluster != nil {
		f.terminatesAtDestroy = len(f.cluster.EC2Server().Calls("TerminateInstances"))
		if err := f.cluster.Err(); err != nil {
			f.t.Errorf("stand-in harness: %v", err)
		}
		f.cluster.Close()
	}
	return f.destErr
}

func (f *fakeStack) Remove(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rems++
	return nil
}

func (f *fakeStack) ManualCleanup() []string {
	return []string{"pulumi destroy --yes --stack rehearsal-fake"}
}

func (f *fakeStack) c() *failovertest.Cluster {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cluster
}

// config is a rehearsal of f at test speed, with clients of the stand-ins.
func testConfig(f *fakeStack, progress *failovertest.Progress) rehearsal.Config {
	return rehearsal.Config{
		Stack: f,
		Clients: rehearsal.Clients{
			Marathon: func(stackoutputs.Outputs) (*marathon.Client, error) { return f.c().Marathon(), nil },
			EC2:      func(context.Context, stackoutputs.Outputs) (*ec2ops.Client, error) { return f.c().EC2(), nil },
			App:      func(stackoutputs.Outputs) *mobycounter.Client { return f.c().App() },
			ELB: func(context.Context, stackoutputs.Outputs) (*mobycounter.LoadBalancer, error) {
				return f.c().LoadBalancer(), nil
			},
			Sweep: cleanSweepers(f.t), // teardown_test.go
		},
		Clicks:          5,
		Region:          "us-east-1", // for the teardown's sweep
		PollInterval:    5 * time.Millisecond,
		AppReadyTimeout: 5 * time.Second,
		WatchInterval:   5 * time.Millisecond,
		WatchDeadline:   10 * time.Second,
		TargetTimeout:   5 * time.Second,
		DestroyTimeout:  5 * time.Second,
		Progress:        progress,
		Rand:            rand.New(rand.NewPCG(1, 2)),
		Workload:        testWorkload,
	}
}

// testWorkload is the writer at the stand-ins' speed: a failover of a
// fraction of a second resolved in milliseconds.
var testWorkload = workload.Config{MinGap: 2 * time.Millisecond, MaxGap: 5 * time.Millisecond, RequestTimeout: time.Second,
	Lead: 60 * time.Millisecond, Loss: workload.Allowance{Bound: 30 * time.Millisecond}}

func stepNames(r *rehearsal.Report) []string {
	var names []string
	for _, s := range r.Steps {
		names = append(names, s.Name)
	}
	return names
}

// assertTornDown checks that the stack was destroyed and removed exactly
// once, whatever happened before.
func assertTornDown(t *testing.T, f *fakeStack, r *rehearsal.Report) {
	t.Helper()
	if f.destroys != 1 || f.rems != 1 {
		t.Errorf("destroy called %d times, remove %d times; want once each", f.destroys, f.rems)
	}
	if f.destroyCtxErr != nil {
		t.Errorf("destroy ran on a dead context: %v", f.destroyCtxErr)
	}
	if !r.Destroyed || !r.Removed {
		t.Errorf("report says destroyed=%v removed=%v", r.Destroyed, r.Removed)
	}
	names := stepNames(r)
	if len(names) < 2 || names[len(names)-2] != rehearsal.StepDestroy || names[len(names)-1] != rehearsal.StepRemove {
		t.Errorf("steps %q do not end with destroy and remove", names)
	}
}

func hasProblem(r *rehearsal.Report, sub string) bool {
	return slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, sub) })
}

func TestNormalFailover(t *testing.T) {
	f := &fakeStack{t: t}
	var progress failovertest.Progress
	r := rehearsal.Run(context.Background(), testConfig(f, &progress))
	if !r.Passed || len(r.Problems) != 0 {
		t.Fatalf("rehearsal failed: %q\nprogress:\n%s", r.Problems, progress.String())
	}
	want := []string{rehearsal.StepUp, rehearsal.StepAppReady, rehearsal.StepWriteClicks, rehearsal.StepFlushWait,
		rehearsal.StepFindTarget, rehearsal.StepWorkloadLead, rehearsal.StepKill, rehearsal.StepWatch, rehearsal.StepDestroy, rehearsal.StepRemove}
	if got := stepNames(r); !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
	fo := r.Failover
	if fo == nil || !fo.Recovered || fo.RTOSeconds <= 0 || len(fo.ClicksLost) != 0 || fo.ClicksWritten != 5 {
		t.Fatalf("failover report %+v, want recovered with an RTO and no lost click", fo)
	}
	if len(r.ClicksWritten) != 5 || r.Target == nil || r.Target.InstanceID != f.c().Agents()[0].InstanceID || r.KilledAt == "" {
		t.Errorf("clicks %v, target %+v, killed at %q", r.ClicksWritten, r.Target, r.KilledAt)
	}
	if f.terminatesAtDestroy != 1 {
		t.Errorf("TerminateInstances called %d times, want 1", f.terminatesAtDestroy)
	}
	assertTornDown(t, f, r)
	// Judged against its own budget (the stand-in's driver, a crash) plus
	// the margin, not a single limit.
	if want := fo.Budget.Total + rehearsal.DefaultBudgetMargin; r.RTOLimitSeconds != want.Seconds() || r.Mode != failover.ModeCrash ||
		fo.Budget.Driver != facts.VolumeDriverRexRay || fo.Budget.Mode != failover.ModeCrash || !strings.Contains(r.RTOLimitFrom, "budget") {
		t.Errorf("limit %vs (%s), mode %q, budget %s/%s; want %vs from the rexray crash budget + margin",
			r.RTOLimitSeconds, r.RTOLimitFrom, r.Mode, fo.Budget.Driver, fo.Budget.Mode, want.Seconds())
	}
	if r.Stack != "rehearsal-fake" || r.Backend != "file:///nowhere/state" {
		t.Errorf("report header: stack %q, backend %q", r.Stack, r.Backend)
	}

	// The JSON report carries every timing and the failover's report.
	path := filepath.Join(t.TempDir(), "report.json")
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"stack", "backend", "steps", "failover", "rtoLimitSeconds", "flushWaitSeconds", "destroyed", "removed", "problems", "passed"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("report JSON lacks %q", k)
		}
	}
	fj := doc["failover"].(map[string]any)
	for _, k := range []string{"timeline", "rtoSeconds", "budget", "clicksLost"} {
		if _, ok := fj[k]; !ok {
			t.Errorf("failover report JSON lacks %q", k)
		}
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	if !strings.Contains(sum.String(), "rehearsal PASSED") || !strings.Contains(sum.String(), "RTO ") {
		t.Errorf("summary:\n%s", sum.String())
	}
}

func TestLostClicksFail(t *testing.T) {
	// Writes sit in the page cache and the kill comes before any flush.
	f := &fakeStack{t: t, opts: failovertest.Options{Buffered: true}}
	var progress failovertest.Progress
	r := rehearsal.Run(context.Background(), testConfig(f, &progress))
	if r.Passed {
		t.Fatalf("rehearsal passed with buffered clicks lost: %+v", r.Failover)
	}
	if r.Failover == nil || !r.Failover.Recovered || len(r.Failover.ClicksLost) != 5 {
		t.Fatalf("failover %+v, want recovered with the 5 clicks lost", r.Failover)
	}
	if !hasProblem(r, "5 of 5 clicks lost") {
		t.Errorf("problems %q do not report the lost clicks", r.Problems)
	}
	assertTornDown(t, f, r)
}

func TestAppNeverComesBack(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{NeverRelaunch: true}}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.WatchDeadline = 300 * time.Millisecond
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed || r.Failover == nil || r.Failover.Recovered {
		t.Fatalf("passed %v, failover %+v", r.Passed, r.Failover)
	}
	if !hasProblem(r, "did not come back") || !hasProblem(r, "deadline") {
		t.Errorf("problems %q do not say the app never came back by the deadline", r.Problems)
	}
	assertTornDown(t, f, r)
}

func TestUntaggedInstanceIsRefused(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{UntaggedAgents: true}}
	var progress failovertest.Progress
	r := rehearsal.Run(context.Background(), testConfig(f, &progress))
	if r.Passed || r.Target != nil || r.Failover != nil {
		t.Fatalf("passed %v, target %+v, failover %+v", r.Passed, r.Target, r.Failover)
	}
	if !hasProblem(r, f.c().Agents()[0].InstanceID) || !hasProblem(r, "stack") {
		t.Errorf("problems %q do not name the refused instance", r.Problems)
	}
	if s := r.Steps[len(r.Steps)-3]; s.Name != rehearsal.StepFindTarget || s.Error == "" {
		t.Errorf("step before the teardown: %+v, want a failed find target", s)
	}
	if f.terminatesAtDestroy != 0 {
		t.Errorf("TerminateInstances called %d times on an untagged instance", f.terminatesAtDestroy)
	}
	assertTornDown(t, f, r)
}

func TestMarathonUnreachable(t *testing.T) {
	f := &fakeStack{t: t, onUp: (*failovertest.Cluster).StopMarathon}
	var progress failovertest.Progress
	cfg := testConfig(f, &progress)
	cfg.TargetTimeout = 200 * time.Millisecond
	r := rehearsal.Run(context.Background(), cfg)
	if r.Passed {
		t.Fatal("rehearsal passed without Marathon")
	}
	url := f.c().Outputs().MarathonURL
	if !hasProblem(r, url) || !hasProblem(r, "unreachable") {
		t.Errorf("problems %q do not say Marathon at %s is unreachable", r.Problems, url)
	}
	if f.terminatesAtDestroy != 0 {
		t.Errorf("TerminateInstances called %d times", f.terminatesAtDestroy)
	}
	assertTornDown(t, f, r)
}

func TestUpFailingHalfwayIsDestroyed(t *testing.T) {
	f := &fakeStack{t: t, upErr: errors.New("pulumi up of stack rehearsal-fake: creating aws:ec2/instance:Instance agent-1: InsufficientInstanceCapacity")}
	var progress failovertest.Progress
	r := rehearsal.Run(context.Background(), testConfig(f, &progress))
	if r.Passed || !hasProblem(r, "InsufficientInstanceCapacity") {
		t.Fatalf("passed %v, problems %q", r.Passed, r.Problems)
	}
	if got := stepNames(r); !slices.Equal(got, []string{rehearsal.StepUp, rehearsal.StepDestroy, rehearsal.StepRemove}) {
		t.Errorf("steps %q, want up then the teardown", got)
	}
	assertTornDown(t, f, r)
}

func TestCancelMidWatchStillDestroys(t *testing.T) {
	f := &fakeStack{t: t, opts: failovertest.Options{NeverRelaunch: true}}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	progress := &failovertest.Progress{OnWrite: func(s string) {
		if strings.Contains(s, failover.EventInstanceDown) {
			cancel(errors.New("received interrupt"))
		}
	}}
	cfg := testConfig(f, progress)
	cfg.WatchDeadline = time.Minute // only the cancellation ends the watch
	r := rehearsal.Run(ctx, cfg)
	if r.Passed || !r.Interrupted || !hasProblem(r, "interrupted (received interrupt)") {
		t.Fatalf("passed %v, interrupted %v, problems %q", r.Passed, r.Interrupted, r.Problems)
	}
	if r.Failover == nil || r.Failover.Recovered {
		t.Errorf("failover %+v, want the watch's report of an unfinished recovery", r.Failover)
	}
	assertTornDown(t, f, r)
}

func TestDestroyFailureKeepsTheStackAndSaysWhatToRun(t *testing.T) {
	f := &fakeStack{t: t, destErr: errors.New("pulumi destroy of stack rehearsal-fake: DependencyViolation")}
	var progress failovertest.Progress
	r := rehearsal.Run(context.Background(), testConfig(f, &progress))
	if r.Passed || r.Destroyed || r.Removed || f.rems != 0 {
		t.Fatalf("passed %v destroyed %v removed %v (remove called %d times): a stack that was not destroyed must be kept",
			r.Passed, r.Destroyed, r.Removed, f.rems)
	}
	if !hasProblem(r, "destroy of stack rehearsal-fake failed") || !slices.Equal(r.ManualCleanup, f.ManualCleanup()) {
		t.Errorf("problems %q, manual clean-up %q", r.Problems, r.ManualCleanup)
	}
	var sum bytes.Buffer
	r.Summary(&sum)
	if !strings.Contains(sum.String(), "pulumi destroy --yes --stack rehearsal-fake") {
		t.Errorf("summary does not print the by-hand commands:\n%s", sum.String())
	}
}
