//go:build unix

package rehearsal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// panickingUp is an AutoStack whose up panics half-way, after AWS has an
// instance of the stack that the state knows only as a pending create.
type panickingUp struct {
	*rehearsal.AutoStack
	onUp func()
}

func (p panickingUp) Up(context.Context) (stackoutputs.Outputs, error) {
	p.onUp()
	panic("injected: up broke")
}

// The whole teardown through the Automation API and a fake pulumi CLI
// after a panic: export, sweep of the pending create, destroy, sweep, rm.
func TestPanicDuringUpStillDestroysThroughTheCLI(t *testing.T) {
	fake := t.TempDir()
	if err := os.WriteFile(filepath.Join(fake, "pulumi"), []byte(fakeAutoPulumi), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fake+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_PULUMI_DIR", fake)
	if err := os.WriteFile(filepath.Join(fake, "destroy-done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := rehearsal.NewAutoStack(autoOptions(t, t.TempDir(), map[string]string{"PULUMI_HOME": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fake, "export.json"), exportOf(t, s.Name(), true), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, sw := sweepStandIns(t, tdRegion)
	stack := panickingUp{AutoStack: s, onUp: func() {
		e.AddInstance(ec2test.Instance{ID: "i-0agent2", Tags: map[string]string{facts.TagProject: facts.Project, facts.TagStack: s.Name(), facts.TagRole: facts.RoleAgent}})
	}}
	r := rehearsal.Run(context.Background(), rehearsal.Config{Stack: stack, Clients: rehearsal.Clients{
		Marathon: func(stackoutputs.Outputs) (*marathon.Client, error) { panic("not reached") },
		EC2:      func(context.Context, stackoutputs.Outputs) (*ec2ops.Client, error) { panic("not reached") },
		App:      func(stackoutputs.Outputs) *mobycounter.Client { panic("not reached") },
		ELB:      func(context.Context, stackoutputs.Outputs) (*mobycounter.LoadBalancer, error) { panic("not reached") },
		Sweep:    sw,
	}, Clicks: 1, SweepWait: 5 * time.Second, SweepPoll: 2 * time.Millisecond})

	raw, _ := os.ReadFile(filepath.Join(fake, "calls"))
	calls := string(raw)
	for _, want := range []string{"stack export", "destroy --exec-kind=auto.local --yes --skip-preview --stack " + s.Name(), "stack rm --yes " + s.Name()} {
		if !strings.Contains(calls, want) {
			t.Errorf("pulumi was not asked %q after the panic; calls:\n%s", want, calls)
		}
	}
	if !hasProblem(r, "the rehearsal panicked: injected: up broke") || !r.Destroyed || !r.Removed || r.Leftovers == nil || !r.Leftovers.Clean {
		t.Errorf("problems %q, destroyed %v, removed %v, leftovers %+v", r.Problems, r.Destroyed, r.Removed, r.Leftovers)
	}
	if in, _ := e.Instance("i-0agent2"); in.State != ec2test.StateTerminated {
		t.Errorf("the instance the panicking up left is %s: the sweep did not take it", in.State)
	}
}
