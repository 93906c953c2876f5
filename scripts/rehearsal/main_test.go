package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

// stack stands in for the Automation API stack: Up starts a failovertest
// cluster (or, with blockUp, waits for the rehearsal to be interrupted).
type stack struct {
	blockUp  bool
	upStarts chan struct{}
	destErr  error
	masters  int // the stand-in's masters (default 1)

	mu                sync.Mutex
	cluster           *failovertest.Cluster
	destroys, removes int
	destroyCtxErr     error
}

func (s *stack) Name() string    { return "rehearsal-test" }
func (s *stack) Backend() string { return "file:///runs/rehearsal-test/state" }
func (s *stack) ManualCleanup() []string {
	return []string{"pulumi destroy --yes --stack rehearsal-test"}
}

func (s *stack) Up(ctx context.Context) (stackoutputs.Outputs, error) {
	if s.blockUp {
		close(s.upStarts)
		<-ctx.Done()
		return stackoutputs.Outputs{}, ctx.Err()
	}
	c, err := failovertest.Start(failovertest.Options{Masters: s.masters})
	if err != nil {
		return stackoutputs.Outputs{}, err
	}
	s.mu.Lock()
	s.cluster = c
	s.mu.Unlock()
	return c.Outputs(), nil
}

func (s *stack) Destroy(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.destroys++
	s.destroyCtxErr = ctx.Err()
	if s.cluster != nil {
		s.cluster.Close()
	}
	return s.destErr
}

func (s *stack) Remove(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removes++
	return nil
}

func (s *stack) c() *failovertest.Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cluster
}

type harness struct {
	st *stack
	// sweepEC2 and sweepELB are the AWS the teardown sweeps; sweepRegion
	// the region it asked for.
	sweepEC2    *ec2test.Server
	sweepELB    *ec2test.ELBServer
	sweepRegion string
	sigs        chan os.Signal
	opts        rehearsal.AutoOptions // what newStack was given
	env         map[string]string
	stdout      bytes.Buffer
	stderr      failovertest.Progress
	report      string
}

func newHarness(t *testing.T, st *stack) *harness {
	h := &harness{st: st, sigs: make(chan os.Signal, 2), report: filepath.Join(t.TempDir(), "report.json"),
		env:      map[string]string{"AWS_REGION": "eu-west-1", "MHA_REHEARSAL_RUNS_DIR": t.TempDir()},
		sweepEC2: ec2test.NewServer(), sweepELB: ec2test.NewELBServer()}
	t.Cleanup(h.sweepEC2.Close)
	t.Cleanup(h.sweepELB.Close)
	return h
}

func (h *harness) deps() deps {
	return deps{
		getenv:  func(k string) string { return h.env[k] },
		signals: h.sigs,
		newStack: func(o rehearsal.AutoOptions) (rehearsal.Stack, error) {
			h.opts = o
			return h.st, nil
		},
		openRun: func(dir string, _ io.Writer) (rehearsal.Stack, error) {
			if dir != "/runs/rehearsal-test" {
				return nil, errors.New("no run.json in " + dir)
			}
			return h.st, nil
		},
		clients: func(io.Writer) rehearsal.Clients {
			return rehearsal.Clients{
				Marathon: func(stackoutputs.Outputs) (*marathon.Client, error) { return h.st.c().Marathon(), nil },
				EC2:      func(context.Context, stackoutputs.Outputs) (*ec2ops.Client, error) { return h.st.c().EC2(), nil },
				App:      func(stackoutputs.Outputs) *mobycounter.Client { return h.st.c().App() },
				ELB: func(context.Context, stackoutputs.Outputs) (*mobycounter.LoadBalancer, error) {
					return h.st.c().LoadBalancer(), nil
				},
				Sweep: func(_ context.Context, region string) (*ec2ops.Sweeper, error) {
					h.sweepRegion = region
					return ec2ops.NewSweeper(h.sweepEC2.Client(), h.sweepELB.Client()), nil
				},
			}
		},
		detectCIDR: func(context.Context) (string, error) { return "198.51.100.23/32", nil },
		// The writer at the stand-ins' speed.
		workload: workload.Config{MinGap: 2 * time.Millisecond, MaxGap: 5 * time.Millisecond, RequestTimeout: time.Second,
			Lead: 60 * time.Millisecond, Loss: workload.Allowance{Bound: 30 * time.Millisecond}},
	}
}

// readReport reads the JSON report the run wrote.
func (h *harness) readReport(t *testing.T) rehearsal.Report {
	t.Helper()
	raw, err := os.ReadFile(h.report)
	if err != nil {
		t.Fatal(err)
	}
	var r rehearsal.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (h *harness) run(args ...string) int {
	return run(append([]string{"--yes", "--output", h.report, "--flush-wait", "0s"}, args...), &h.stdout, &h.stderr, h.deps())
}

func TestRehearsalPassesAndWritesTheReport(t *testing.T) {
	h := newHarness(t, &stack{})
	if code := h.run("--clicks", "4", "--volume-driver", "flocker", "--agents", "3"); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, h.stdout.String(), h.stderr.String())
	}
	o := h.opts
	if o.Region != "eu-west-1" || o.OperatorCIDR != "198.51.100.23/32" || o.VolumeDriver != "flocker" || o.AgentCount != 3 ||
		o.RunsDir != h.env["MHA_REHEARSAL_RUNS_DIR"] || o.ProjectDir != "." || o.Backend != "" {
		t.Errorf("stack options %+v", o)
	}
	r := h.readReport(t)
	if !r.Passed || len(r.ClicksWritten) != 4 || r.Failover == nil || !r.Failover.Recovered || !r.Destroyed || !r.Removed {
		t.Errorf("report %+v", r)
	}
	for _, want := range []string{"rehearsal PASSED", "RTO ", "report: " + h.report} {
		if !strings.Contains(h.stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, h.stdout.String())
		}
	}
	if !strings.Contains(h.stderr.String(), "operatorCidr 198.51.100.23/32") {
		t.Errorf("stderr does not say which operatorCidr was detected:\n%s", h.stderr.String())
	}
}

func TestInterruptDestroysAndFails(t *testing.T) {
	st := &stack{blockUp: true, upStarts: make(chan struct{})}
	h := newHarness(t, st)
	go func() {
		<-st.upStarts
		h.sigs <- os.Interrupt
	}()
	code := h.run("--operator-cidr", "203.0.113.7/32")
	if code != 1 {
		t.Fatalf("exit %d after an interrupt, want 1", code)
	}
	if st.destroys != 1 || st.removes != 1 || st.destroyCtxErr != nil {
		t.Errorf("destroy %d (ctx err %v), remove %d: want both once, on a live context", st.destroys, st.destroyCtxErr, st.removes)
	}
	if !strings.Contains(h.stderr.String(), "stopping the rehearsal") || !strings.Contains(h.stdout.String(), "interrupted") {
		t.Errorf("stderr:\n%s\nstdout:\n%s", h.stderr.String(), h.stdout.String())
	}
	if _, err := os.Stat(h.report); err != nil {
		t.Errorf("no report after an interrupt: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{}, nil, "no AWS region"},
		{nil, []string{"--volume-driver", "ebs"}, "--volume-driver \"ebs\""},
		{nil, []string{"--agent-count", "1"}, "--agent-count 1"},
		{nil, []string{"--clicks", "0"}, "--clicks 0"},
		{nil, []string{"--rto-limit", "0s"}, "durations must be positive"},
		{nil, []string{"--margin", "0s"}, "durations must be positive"},
		{nil, []string{"--serving-limit", "0s"}, "durations must be positive"},
		{nil, []string{"--mode", "reboot"}, "--mode \"reboot\": want crash"},
		{nil, []string{"extra"}, "unexpected argument"},
	} {
		h := newHarness(t, &stack{})
		if tc.env != nil {
			h.env = tc.env
		}
		if code := h.run(tc.args...); code != 2 || !strings.Contains(h.stderr.String(), tc.want) {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 and %q", tc.env, tc.args, code, h.stderr.String(), tc.want)
		}
		if h.st.destroys != 0 {
			t.Errorf("%v: a stack was touched on a usage error", tc.args)
		}
	}
}

func TestDestroyRun(t *testing.T) {
	h := newHarness(t, &stack{})
	if code := h.run("--destroy-run", "/runs/rehearsal-test"); code != 0 || h.st.destroys != 1 || h.st.removes != 1 {
		t.Fatalf("exit %d, destroys %d, removes %d\n%s", code, h.st.destroys, h.st.removes, h.stderr.String())
	}
	if !strings.Contains(h.stdout.String(), "stack rehearsal-test destroyed, swept and removed") || h.sweepRegion != "eu-west-1" {
		t.Errorf("stdout %q, sweep region %q", h.stdout.String(), h.sweepRegion)
	}

	h = newHarness(t, &stack{destErr: errors.New("pulumi destroy of stack rehearsal-test: timeout")})
	if code := h.run("--destroy-run", "/runs/rehearsal-test"); code != 1 || h.st.removes != 0 {
		t.Fatalf("exit %d, removes %d after a failed destroy", code, h.st.removes)
	}
	if !strings.Contains(h.stderr.String(), "finish by hand:\n    pulumi destroy --yes --stack rehearsal-test") {
		t.Errorf("stderr does not give the by-hand commands:\n%s", h.stderr.String())
	}

	h = newHarness(t, &stack{})
	if code := h.run("--destroy-run", "/elsewhere"); code != 1 || !strings.Contains(h.stderr.String(), "no run.json in /elsewhere") {
		t.Errorf("exit %d, stderr %q", code, h.stderr.String())
	}
}

// The usage text states the defaults the flags really have.
func TestUsageStatesTheDefaults(t *testing.T) {
	for _, want := range []string{
		"--flush-wait D         The 2015 demo's data check", "(the demo's nodes: " + facts.PageCacheFlushWait.String(),
		"Default 0:", "bound\n                           (" + facts.CrashLossBound.String() + ")",
		"(default " + rehearsal.DefaultBudgetMargin.String(),
		"(default " + rehearsal.DefaultWatchDeadline.String()[:3],
		"(default " + rehearsal.DefaultDestroyTimeout.String()[:3],
		"(default " + rehearsal.DefaultAppReadyTimeout.String()[:3],
		"(default " + rehearsal.DefaultUpTimeout.String()[:3],
		"(default " + bootbudget.Goal.String(),
	} {
		if !strings.Contains(usage, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// The safety net sweeps what the stack's tags still find after the destroy
// and fails, keeping the stack, when something cannot be removed.
func TestDestroyRunSweeps(t *testing.T) {
	tags := map[string]string{facts.TagProject: facts.Project, facts.TagStack: "rehearsal-test", facts.TagRole: facts.RoleAgent}
	h := newHarness(t, &stack{})
	h.sweepEC2.AddInstance(ec2test.Instance{ID: "i-0leftover", Tags: tags})
	if code := h.run("--destroy-run", "/runs/rehearsal-test"); code != 0 || h.st.removes != 1 {
		t.Fatalf("exit %d, removes %d\n%s", code, h.st.removes, h.stderr.String())
	}
	if in, _ := h.sweepEC2.Instance("i-0leftover"); in.State != ec2test.StateTerminated {
		t.Errorf("leftover is %s", in.State)
	}
	if !strings.Contains(h.stdout.String(), "sweep after the destroy") || !strings.Contains(h.stdout.String(), "1 instances terminated") {
		t.Errorf("stdout does not summarise the sweep:\n%s", h.stdout.String())
	}

	h = newHarness(t, &stack{})
	h.sweepEC2.AddInstance(ec2test.Instance{ID: "i-0leftover", Tags: tags})
	h.sweepEC2.Fail("TerminateInstances", -1, http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	if code := h.run("--destroy-run", "/runs/rehearsal-test"); code != 1 || h.st.removes != 0 {
		t.Fatalf("exit %d, removes %d: a leftover must fail the safety net and keep the stack", code, h.st.removes)
	}
	if e := h.stderr.String(); !strings.Contains(e, "i-0leftover") || !strings.Contains(e, "finish by hand") {
		t.Errorf("stderr does not name the leftover:\n%s", e)
	}
}
