package opflags

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"golang.org/x/term"

	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// PulumiFunc runs the pulumi CLI with args and returns its stdout
// (stackoutputs.RunPulumi, or a stand-in in tests).
type PulumiFunc func(ctx context.Context, args []string) ([]byte, error)

// HasStack reports whether --stack or --outputs names a stack.
func (f *FlagSet) HasStack() bool { return f.Stack != "" || f.Outputs != "" }

// NeedStack is a usage error unless --stack or --outputs is given.
func (f *FlagSet) NeedStack() error {
	if !f.HasStack() {
		return Usagef("say which stack: --stack NAME (read with the pulumi CLI) or --outputs FILE|- (run %s -h for the options)", f.Program)
	}
	return nil
}

// LoadOutputs reads the stack outputs from --outputs or, with --stack,
// from `pulumi stack output --json --show-secrets`, and checks --region
// and --volume-driver against them: given with a stack, they must be the
// stack's (the stack is what the tool acts on), and not given, they take
// the stack's values.
func (f *FlagSet) LoadOutputs(ctx context.Context, stdin io.Reader, pulumi PulumiFunc) (stackoutputs.Outputs, error) {
	outs, err := stackoutputs.Source{File: f.Outputs, Stdin: stdin, Stack: f.Stack, Cwd: f.Cwd, Pulumi: pulumi}.Load(ctx)
	if err != nil {
		return outs, err
	}
	if err := f.adopt("region", &f.Region, outs.Region); err != nil {
		return outs, err
	}
	return outs, f.adopt("volume-driver", &f.VolumeDriver, outs.VolumeDriver)
}

// adopt sets *v to the stack's value, refusing a different one given on
// the command line; one from the environment yields to the stack's.
func (f *FlagSet) adopt(name string, v *string, stack string) error {
	if f.Lookup(name) == nil || stack == "" {
		return nil
	}
	if f.IsSet(name) && *v != stack {
		return Usagef("--%s %s, but the stack's is %s: drop --%s", name, *v, stack, name)
	}
	*v = stack
	return nil
}

// LoadConfig reads the stack's config, key to value, from `pulumi config
// --json`, decoded as the Automation API decodes it (auto.ConfigMap,
// LocalWorkspace.GetAllConfigWithOptions in github.com/pulumi/pulumi/sdk/v3
// go/auto at v3.263.0). Secret values stay hidden; none is read here.
func (f *FlagSet) LoadConfig(ctx context.Context, pulumi PulumiFunc) (map[string]string, error) {
	if f.Stack == "" {
		return nil, Usagef("the stack's config needs --stack NAME (a saved outputs file does not hold it)")
	}
	args := []string{"config", "--json", "--stack", f.Stack}
	if f.Cwd != "" {
		args = append(args, "--cwd", f.Cwd)
	}
	if pulumi == nil {
		pulumi = stackoutputs.RunPulumi
	}
	out, err := pulumi(ctx, args)
	if err != nil {
		return nil, err
	}
	var raw auto.ConfigMap
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("reading the config of stack %s (pulumi %s): %w", f.Stack, strings.Join(args, " "), err)
	}
	cfg := make(map[string]string, len(raw))
	for k, v := range raw {
		cfg[k] = v.Value
	}
	return cfg, nil
}

// IsTerminal reports whether r is a terminal, where a person can answer a
// question. A character device is not enough: /dev/null is one, and it is
// the stdin of a command Pulumi runs (pulumi-command's local.Command
// without stdin; os/exec gives a nil Stdin the null device), so the test
// is term.IsTerminal's ioctl.
func IsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// NeedYes is a usage error when what follows costs money or destroys,
// neither --yes nor --dry-run is given, and stdin is not a terminal to ask
// on (atTerminal: IsTerminal(stdin), passed in so tests need no pty).
func (f *FlagSet) NeedYes(atTerminal bool, what string) error {
	if f.Yes || f.DryRun || atTerminal {
		return nil
	}
	return Usagef("%s, and stdin is not a terminal to ask on: pass --yes to go ahead, or --dry-run to see the plan", what)
}
