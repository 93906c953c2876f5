package pulumimock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Output is one awaited stack output.
type Output struct {
	Value  any
	Known  bool
	Secret bool
}

// Result is what a mocked run registered and exported.
type Result struct {
	Resources []Resource
	Outputs   map[string]Output
	// Warnings are what the program logged with ctx.Log.Warn, in order.
	Warnings []string
}

// Run runs program as stack with the given config ("key" for the project's
// own keys, "aws:region" for the provider's) under m, and awaits every
// stack output. dryRun runs it as a preview. The program's own AWS SDK
// reads see m.Account.IMDS (RunErr).
func Run(program pulumi.RunFunc, m *Mocks, stack string, config map[string]string, dryRun bool) (*Result, error) {
	cfg := map[string]string{}
	for k, v := range config {
		if !strings.Contains(k, ":") {
			k = facts.Project + ":" + k
		}
		cfg[k] = v
	}
	res := &Result{Outputs: map[string]Output{}}
	logs := &warnings{}
	err := RunErr(func(ctx *pulumi.Context) error {
		ctx.Log = logs.capture(ctx.Log)
		if err := program(ctx); err != nil {
			return err
		}
		for name, in := range ctx.GetCurrentExportMap() {
			out, ok := in.(pulumi.Output)
			if !ok {
				out = pulumi.ToOutput(in)
			}
			r, err := internals.UnsafeAwaitOutput(ctx.Context(), out)
			if err != nil {
				return fmt.Errorf("awaiting output %s: %w", name, err)
			}
			res.Outputs[name] = Output{Value: r.Value, Known: r.Known, Secret: r.Secret}
		}
		return nil
	}, m, pulumi.WithMocks(facts.Project, stack, m), func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.DryRun = dryRun
	})
	res.Resources = m.Resources()
	res.Warnings = logs.list()
	return res, err
}

// RunErr runs program as pulumi.RunErr(program, opts...) does under mocks
// (opts must hold pulumi.WithMocks), its Go context carrying m's account as
// the program's AWS SDK reads it (ec2ops.WithAccountSettings), so the
// program never reaches AWS. pulumi.RunErr starts from a context of its own
// and takes none, so this makes the pulumi.Context itself
// (pulumi.NewContext, then pulumi.RunWithContext, as pulumi.RunErr does in
// pulumi/pulumi sdk/v3 v3.263.0 go/pulumi/run.go, runErrInner). It leaves
// out what that adds for a real engine: the PULUMI_* environment, tracing,
// and the shutdown signal that runs resource hooks, which the program has
// none of.
func RunErr(program pulumi.RunFunc, m *Mocks, opts ...pulumi.RunOption) error {
	var info pulumi.RunInfo
	for _, o := range opts {
		o(&info)
	}
	if info.Mocks == nil {
		return errors.New("pulumimock.RunErr: no pulumi.WithMocks option")
	}
	ctx, err := pulumi.NewContext(ec2ops.WithAccountSettings(context.Background(), sdkAccount{m}), info)
	if err != nil {
		return err
	}
	defer ctx.Close()
	return pulumi.RunWithContext(ctx, program)
}

// warnings records the warnings a run logs.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

// capture returns l, recording each warning before passing it on.
func (w *warnings) capture(l pulumi.Log) pulumi.Log { return &warnLog{Log: l, w: w} }

func (w *warnings) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}

type warnLog struct {
	pulumi.Log
	w *warnings
}

func (l *warnLog) Warn(msg string, args *pulumi.LogArgs) error {
	l.w.mu.Lock()
	l.w.msgs = append(l.w.msgs, msg)
	l.w.mu.Unlock()
	return l.Log.Warn(msg, args)
}

// OfType returns the resources of a type token, in registration order.
func (r *Result) OfType(token string) []Resource {
	var out []Resource
	for _, x := range r.Resources {
		if x.Type == token {
			out = append(out, x)
		}
	}
	return out
}

// Named returns the resource with a type token and logical name.
func (r *Result) Named(token, name string) (Resource, bool) {
	i := slices.IndexFunc(r.Resources, func(x Resource) bool { return x.Type == token && x.Name == name })
	if i < 0 {
		return Resource{}, false
	}
	return r.Resources[i], true
}

// Children returns the resources whose parent is the given "type::name".
func (r *Result) Children(parent string) []Resource {
	var out []Resource
	for _, x := range r.Resources {
		if x.Parent == parent {
			out = append(out, x)
		}
	}
	return out
}
