// Command boot-timeline prints every node's boot timeline, read from the
// nodes' serial consoles through EC2 GetConsoleOutput: when each boot step
// (packages, Docker, each image pull, the services, readiness) started and
// ended, in seconds since the node's boot began.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/opflags"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

const usage = `Usage:
    boot-timeline --stack NAME [--cwd DIR] [--aws-profile P] [--json]
    boot-timeline --outputs FILE|- [--aws-profile P] [--json]
    boot-timeline --console FILE... [--volume-driver D] [--json]

Prints each node's boot timeline: every step its boot script announced on
the serial console ("marathon-ha boot <node> <step> start|done|FAILED
<elapsed>s [detail]"), when it started and ended in seconds since that
node's boot began, how long it took, and the boot's state (booted, FAILED
at a step, or still running).

The nodes are the cluster's live instances (tag marathon-ha:cluster-id from
the stack outputs, ` + "`pulumi stack output --json --show-secrets --stack NAME`" + `);
their consoles are read with EC2 GetConsoleOutput, latest output where the
instance type allows it (Nitro), else EC2's buffered copy, which lags.

Under each node's steps, a "budget" line holds each step of its role against
the up-to-serving budget of the stack's volume driver (internal/bootbudget):
"took of budget", "over" where it took longer.

Options:
    --console FILE    Read saved console output instead of EC2 (repeat the
                      flag or list files after it), e.g. from
                      aws ec2 get-console-output --latest --output text.
                      --volume-driver then says which budget to hold the
                      steps against (default: none).
    --timeout D       Overall deadline (default 2m0s).`

const program = "boot-timeline"

func main() {
	os.Exit(run(os.Args[1:], deps{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		pulumi: stackoutputs.RunPulumi, connect: connect, whoami: ec2ops.Whoami}))
}

// deps are what run reaches outside the process, replaced in tests.
type deps struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	pulumi         func(ctx context.Context, args []string) ([]byte, error)
	connect        func(ctx context.Context, region, profile string) (ec2ops.EC2API, ec2ops.ConsoleAPI, error)
	// whoami checks the credentials once before the EC2 calls (nil: no
	// check, for tests whose EC2 is a fake).
	whoami func(ctx context.Context, region, profile string) (ec2ops.Identity, error)
}

func connect(ctx context.Context, region, profile string) (ec2ops.EC2API, ec2ops.ConsoleAPI, error) {
	api, _, err := ec2ops.ConnectAs(ctx, region, profile)
	if err != nil {
		return nil, nil, err
	}
	consoles, err := ec2ops.ConnectConsoles(ctx, region, profile)
	return api, consoles, err
}

type options struct {
	*opflags.FlagSet
	consoles []string
	timeout  time.Duration
}

// newFlags is the tool's flag set (opflags.Tools["boot-timeline"]) with
// its own flags bound to o.
func newFlags(stderr io.Writer, getenv func(string) string) *opflags.FlagSet {
	fs, _ := flagsOf(stderr, getenv)
	return fs
}

func flagsOf(stderr io.Writer, getenv func(string) string) (*opflags.FlagSet, *options) {
	fs := opflags.New(program, opflags.Tools[program], usage, stderr, getenv)
	o := &options{FlagSet: fs}
	fs.Var((*stringList)(&o.consoles), "console", "")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "")
	return fs, o
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// node is one node's timeline as printed: a cluster instance's
// (ec2ops.ClusterBoots) or a --console file's.
type node struct {
	Source string `json:"source,omitempty"` // a --console file
	ec2ops.NodeBoot
	// Budget is each step of the node's role against its budget; empty
	// when the volume driver is not known.
	Budget []bootbudget.StepCheck `json:"budget,omitempty"`
}

// parse reads the flags; --console FILE... takes the files after it, and
// flags may follow them (the flag package stops at the first argument
// that is not one).
func parse(args []string, d deps) (*options, error) {
	fs, o := flagsOf(d.stderr, d.getenv)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for rest := fs.Args(); len(o.consoles) > 0 && len(rest) > 0; rest = fs.Args() {
		if rest[0] == "-" || !strings.HasPrefix(rest[0], "-") { // "-" is not a flag (flag package)
			o.consoles = append(o.consoles, rest[0])
			rest = rest[1:]
		}
		if err := fs.Parse(rest); err != nil {
			return o, err
		}
	}
	if len(o.consoles) == 0 {
		if err := fs.NoArgs(); err != nil {
			return o, err
		}
	}
	sources := 0
	for _, set := range []bool{o.Stack != "", o.Outputs != "", len(o.consoles) > 0} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return o, opflags.Usagef("say where the timelines come from, once: --stack NAME, --outputs FILE|- or --console FILE...")
	}
	if o.VolumeDriver != "" {
		if _, err := bootbudget.New(o.VolumeDriver); err != nil {
			return o, opflags.Usagef("--volume-driver: %v", err)
		}
	}
	return o, nil
}

func run(args []string, d deps) int {
	o, err := parse(args, d)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			errorf(d.stderr, "%v", err)
		}
		return opflags.ExitCode(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	var nodes []node
	if len(o.consoles) > 0 {
		nodes, err = fromFiles(o.consoles)
	} else {
		nodes, err = fromStack(ctx, o, d)
	}
	if err != nil {
		errorf(d.stderr, "%v", err)
		return opflags.ExitCode(err)
	}
	driver := o.VolumeDriver
	if driver != "" {
		b, err := bootbudget.New(driver)
		if err != nil {
			return errorf(d.stderr, "--volume-driver: %v", err)
		}
		for i := range nodes {
			nodes[i].Budget = budgetOf(b, nodes[i].NodeBoot)
		}
	}
	if o.JSON {
		b, err := json.MarshalIndent(nodes, "", "  ")
		if err != nil {
			return errorf(d.stderr, "encoding the timelines: %v", err)
		}
		fmt.Fprintf(d.stdout, "%s\n", b)
		return 0
	}
	for i, n := range nodes {
		if i > 0 {
			fmt.Fprintln(d.stdout)
		}
		if err := write(d.stdout, n); err != nil {
			return errorf(d.stderr, "%v", err)
		}
	}
	return 0
}

func errorf(stderr io.Writer, format string, v ...any) int {
	fmt.Fprintf(stderr, program+": "+format+"\n", v...)
	return 1
}

// fromFiles reads saved console output, one or more nodes per file.
func fromFiles(paths []string) ([]node, error) {
	var out []node
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading console output: %w", err)
		}
		tls := bootlog.Timelines(string(b))
		if len(tls) == 0 {
			out = append(out, node{Source: p, NodeBoot: ec2ops.NodeBoot{Timeline: bootlog.Timeline{Node: p, State: bootlog.Unknown}}})
		}
		for _, tl := range tls {
			out = append(out, node{Source: p, NodeBoot: ec2ops.NodeBoot{Timeline: tl}})
		}
	}
	return out, nil
}

// fromStack reads the consoles of the stack's live instances; the stack's
// volume driver becomes o.VolumeDriver.
func fromStack(ctx context.Context, o *options, d deps) ([]node, error) {
	outs, err := o.LoadOutputs(ctx, d.stdin, d.pulumi)
	if err != nil {
		return nil, err
	}
	if d.whoami != nil {
		if _, err := d.whoami(ctx, outs.Region, o.AWSProfile); err != nil {
			return nil, err
		}
	}
	api, consoles, err := d.connect(ctx, outs.Region, o.AWSProfile)
	if err != nil {
		return nil, err
	}
	boots, err := ec2ops.New(api).ClusterBoots(ctx, outs.ClusterID, ec2ops.NewConsoleReader(consoles, 0))
	if err != nil {
		return nil, err
	}
	if len(boots) == 0 {
		return nil, fmt.Errorf("cluster %s (stack %s) has no live instance in %s", outs.ClusterID, outs.Stack, outs.Region)
	}
	out := make([]node, 0, len(boots))
	for _, b := range boots {
		if b.Error != "" {
			return nil, errors.New(b.Error)
		}
		out = append(out, node{NodeBoot: b})
	}
	return out, nil
}

// budgetOf holds each boot step of the node's role against b. A node read
// from a file has no role: its name says it ("master", "master-<i>",
// "agent-<i>", as components.BootInstances names them).
func budgetOf(b bootbudget.Budget, n ec2ops.NodeBoot) []bootbudget.StepCheck {
	role := n.Role
	if role == "" {
		role = bootbudget.RoleOf(n.Node)
	}
	return b.CheckNode(bootbudget.NodeSteps{Node: n.Node, Role: role, OSSeconds: n.OSStartSeconds(), Steps: n.Steps})
}

// write prints one node's timeline with where it came from.
func write(w io.Writer, n node) error {
	switch {
	case n.InstanceID != "":
		fmt.Fprintf(w, "# %s %s (console: %s)\n", n.Role, n.InstanceID, n.Console)
	case n.Source != "":
		fmt.Fprintf(w, "# %s\n", n.Source)
	}
	if n.Console == ec2ops.ConsoleEmpty {
		_, err := fmt.Fprintf(w, "%s: console not available yet (EC2 has no output for it so far)\n", n.Node)
		return err
	}
	if err := n.Timeline.Write(w); err != nil || len(n.Budget) == 0 {
		return err
	}
	parts := make([]string, len(n.Budget))
	for i, s := range n.Budget {
		budget := time.Duration(s.BudgetSeconds * float64(time.Second))
		switch {
		case s.TookSeconds < 0:
			parts[i] = fmt.Sprintf("%s - of %s", s.Step, budget)
		case s.Over:
			parts[i] = fmt.Sprintf("%s %s of %s over", s.Step, time.Duration(s.TookSeconds*float64(time.Second)), budget)
		default:
			parts[i] = fmt.Sprintf("%s %s of %s", s.Step, time.Duration(s.TookSeconds*float64(time.Second)), budget)
		}
	}
	_, err := fmt.Fprintf(w, "  budget: %s\n", strings.Join(parts, ", "))
	return err
}
