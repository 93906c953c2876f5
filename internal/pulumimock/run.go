package pulumimock

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

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
}

// Run runs program as stack with the given config ("key" for the project's
// own keys, "aws:region" for the provider's) under m, and awaits every
// stack output. dryRun runs it as a preview.
func Run(program pulumi.RunFunc, m *Mocks, stack string, config map[string]string, dryRun bool) (*Result, error) {
	cfg := map[string]string{}
	for k, v := range config {
		if !strings.Contains(k, ":") {
			k = facts.Project + ":" + k
		}
		cfg[k] = v
	}
	res := &Result{Outputs: map[string]Output{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
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
	}, pulumi.WithMocks(facts.Project, stack, m), func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.DryRun = dryRun
	})
	res.Resources = m.Resources()
	return res, err
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
