// Command rehearsal rehearses a failover on a fresh stack: up, wait for the
// app, write clicks, let them reach the disk, kill the app's node, watch the
// recovery, verify it, and always destroy the stack, sweep what its tags
// still find, and remove it. The logic lives in internal/rehearsal; this
// file parses flags and wires it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/opflags"
	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

const usage = `Usage:
    rehearsal --yes [--region R] [--operator-cidr CIDR|auto] [--backend URL] [options]
    rehearsal --dry-run [options]
    rehearsal --destroy-run DIR

Rehearse a failover on a new stack of the program in --cwd, then destroy
and remove the stack, whatever happens (also on Ctrl-C and SIGTERM; a second
signal only tells you how to finish by hand). Before the destroy the stack's
state is exported: an operation an interrupted up left pending is reported,
and what a pending create may have left in AWS (instances, the ELB) is swept
by the stack's tags first. After the destroy, whatever the stack's tags still
find (instances, volumes, the ELB) is swept; if anything is left, the run
fails and the stack is kept for --destroy-run. The report goes to --output as
JSON (default rehearsal-report.json; the failover's timeline is drawn next to
it as SVG, FILE without .json + .svg) and is summarised on stdout, or printed
on stdout with --json; a problem with a long log (pulumi's) is summarised in
one line with the path of a file next to the report holding all of it.
Progress goes to stderr.

The stack bills while it lives: without --yes the rehearsal asks first, and
refuses to start when stdin is not a terminal (CI passes --yes). --dry-run
prints the plan and exits 0 without running pulumi. The AWS credentials
(--aws-profile sets AWS_PROFILE for pulumi and the SDK) are checked with
STS before anything is created. Exit status 0 when
the app served within --serving-limit of the start of up, came back within
the recovery budget of its volume driver and --mode plus --margin (or within
--rto-limit) with no click lost, and the stack is gone; 1 otherwise.

Options:
    --operator-cidr CIDR   CIDR allowed to reach Marathon and SSH; "auto" asks
                           https://checkip.amazonaws.com for this machine's /32 (default auto).
    --backend URL          Pulumi state backend: s3://bucket?region=R or
                           file:///abs/dir (default $MHA_REHEARSAL_BACKEND, else
                           a file backend in the run directory).
    --runs-dir DIR         Parent of the per-run directories (default
                           $MHA_REHEARSAL_RUNS_DIR, else ~/.marathon-ha/rehearsals).
    --volume-driver D      rexray or flocker (default rexray).
    --agent-count N        Mesos agents (default 2; --agents is its old spelling).
    --clicks N             Clicks written before the kill (default 20).
    --flush-wait D         The 2015 demo's data check: wait after the last click for
                           the page cache to reach the volume (the demo's nodes: 35s,
                           vm.dirty_expire_centisecs + dirty_writeback_centisecs).
                           Default 0: a writer sends marked clicks through the ELB
                           from before the kill to the end of the watch and judges
                           what a crash loses against the agents' writeback bound
                           (2s); a graceful kill may lose none.
    --mode M               How the agent is killed: crash (default; TerminateInstances
                           with SkipOsShutdown=true) or graceful (the API's default
                           OS shutdown, as in the 2015 demo).
    --drills LIST          What to kill, comma-separated: app-agent (default) or
                           partition, and/or up to two master drills:
                           leading-master, mesos-leader, zookeeper-leader.
                           partition kills nothing: it cuts the app's agent off
                           from the masters through its security groups for
                           --heal-after, the fence must terminate it, and its
                           groups are restored on every exit (the teardown sweeps
                           a drill group a dead run left). The master drills run
                           first, in that order, and set the stack's masterCount
                           to 3 for one, 5 for two (a killed master is not
                           replaced; the rest must keep a quorum); each kills the
                           master whose Marathon, Mesos master or ZooKeeper leads
                           (killed anyway when it leads more, and said so),
                           watches the ZooKeeper session expire, the elections and
                           the agents re-register, and fails if the app stops
                           answering. Each drill has its own report section and is
                           judged against its own budget (the master budget of
                           what that master led plus --margin for a master drill).
    --rounds N             Kill the app's agent N times in a row on the one stack, each
                           round crash or graceful at random (--mode is then unused),
                           bringing the stack back to full strength between rounds (with
                           REX-Ray the agents' Auto Scaling group replaces the killed
                           agent and the rehearsal waits for it; with Flocker, pulumi up
                           --refresh recreates it) and a wait until every agent is
                           active with Mesos and the app answers; prints p50/p95/max RTO
                           and the clicks over all rounds.
                           Each later round adds an up, its wait, the clicks and a watch
                           to the run's bound (default 0: one kill, in --mode).
    --round-drills LIST    What a round draws from, comma-separated (default
                           crash,graceful: the kill modes of the app's agent;
                           partition may join them, lasting --heal-after).
    --seed S               The seed that draws the rounds' kill modes; the summary
                           prints it, and the same seed replays the same modes in the
                           same order (default: a new one).
    --heal-after D         How long the partition drill lasts (default: the stack's
                           latest detection + the fence + Marathon's relaunch +
                           margin, 30s with the default settings).
    --margin D             How much the RTO may exceed the budget of the volume driver
                           and --mode (default 10s: one ELB health-check interval, one
                           agent ping timeout and one sample of the watch).
    --rto-limit D          Judge the RTO against this limit instead of the budget plus
                           --margin (default: not set).
    --serving-limit D      The longest the app may take to serve through the ELB from
                           the start of up (default 6m0s, the goal); the report holds
                           each phase and node step against the stack's boot budget.
    --up-timeout D         Bound of pulumi up (default 35m: an instance's create, 10m,
                           + deploy-app's wait, 20m, + 5m).
    --app-ready-timeout D  Wait for the app through the ELB after up (default 10m).
    --watch-deadline D     Give up on the recovery after (default 10m).
    --destroy-timeout D    Bound of the final destroy (default 45m).
    --destroy-run DIR      Only tear down the stack a run directory records: export,
                           sweep, destroy, sweep, remove (the CI safety net, or by hand).

The stack's passphrase is $PULUMI_CONFIG_PASSPHRASE(_FILE) if set; otherwise
one is generated and saved 0600 in the run directory, whose path is printed.`

const program = "rehearsal"

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, deps{
		stdin:           os.Stdin,
		stdinIsTerminal: opflags.IsTerminal(os.Stdin),
		setenv:          os.Setenv,
		whoami:          ec2ops.Whoami,
		getenv:          os.Getenv,
		signals:         sigs,
		newStack: func(o rehearsal.AutoOptions) (rehearsal.Stack, error) {
			s, err := rehearsal.NewAutoStack(o)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		openRun: func(dir string, progress io.Writer) (rehearsal.Stack, error) {
			s, err := rehearsal.OpenRun(dir, progress)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		clients: rehearsal.DefaultClients,
		detectCIDR: func(ctx context.Context) (string, error) {
			return rehearsal.DetectOperatorCIDR(ctx, &http.Client{}, rehearsal.CheckIPURL)
		},
	}))
}

// deps are what run needs from the outside world, so tests can replace them.
type deps struct {
	// stdin is where the rehearsal reads the answer to its question
	// before it bills, when stdinIsTerminal and no --yes.
	stdin io.Reader
	// stdinIsTerminal says whether stdin is a terminal to ask on
	// (opflags.IsTerminal(os.Stdin) in main).
	stdinIsTerminal bool
	// setenv passes --aws-profile on as AWS_PROFILE to pulumi and the SDK.
	setenv func(key, value string) error
	// whoami checks the credentials before anything is created (nil: no
	// check, for tests whose AWS is a stand-in).
	whoami     func(ctx context.Context, region, profile string) (ec2ops.Identity, error)
	getenv     func(string) string
	signals    <-chan os.Signal
	newStack   func(rehearsal.AutoOptions) (rehearsal.Stack, error)
	openRun    func(dir string, progress io.Writer) (rehearsal.Stack, error)
	clients    func(progress io.Writer) rehearsal.Clients
	detectCIDR func(ctx context.Context) (string, error)
	// workload shapes the writer (zero fields: workload's defaults).
	workload workload.Config
}

// errorf writes an error prefixed with the program name to stderr and
// returns the exit status 1.
func errorf(stderr io.Writer, format string, v ...any) int {
	fmt.Fprintf(stderr, program+": "+format+"\n", v...)
	return 1
}

type options struct {
	region, cidr, backend, runsDir, project, driver, report, destroyRun string // --region, --cwd, --volume-driver, --output
	agents, clicks                                                      int
	flushWait, rtoLimit, appReady, watchDeadline, destroyTimeout        time.Duration
	upTimeout                                                           time.Duration
	mode                                                                string        // --mode
	margin                                                              time.Duration // --margin
	servingLimit                                                        time.Duration // --serving-limit
	rtoLimitSet                                                         bool          // --rto-limit given
	drills                                                              string        // --drills
	rounds                                                              int           // --rounds
	roundDrills                                                         string        // --round-drills
	seed                                                                uint64        // --seed
	healAfter                                                           time.Duration // --heal-after
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// defaultReport is where the JSON report goes without --output.
const defaultReport = "rehearsal-report.json"

// newFlags is the tool's flag set (opflags.Tools["rehearsal"]).
func newFlags(stderr io.Writer, getenv func(string) string) *opflags.FlagSet {
	fs, _ := flagsOf(stderr, getenv)
	return fs
}

func flagsOf(stderr io.Writer, getenv func(string) string) (*opflags.FlagSet, *options) {
	var o options
	fs := opflags.New(program, opflags.Tools[program], usage, stderr, getenv)
	fs.StringVar(&o.cidr, "operator-cidr", "auto", "")
	// Parse fills --backend and --runs-dir from MHA_REHEARSAL_BACKEND and
	// MHA_REHEARSAL_RUNS_DIR (opflags.ToolEnv).
	fs.StringVar(&o.backend, "backend", "", "")
	fs.StringVar(&o.runsDir, "runs-dir", "", "")
	fs.IntVar(&o.agents, "agent-count", config.DefaultAgentCount, "")
	fs.IntVar(&o.clicks, "clicks", rehearsal.DefaultClicks, "")
	fs.DurationVar(&o.flushWait, "flush-wait", 0, "")
	fs.DurationVar(&o.rtoLimit, "rto-limit", 0, "")
	fs.StringVar(&o.mode, "mode", string(failover.ModeCrash), "")
	fs.StringVar(&o.drills, "drills", rehearsal.DrillAppAgent, "")
	fs.IntVar(&o.rounds, "rounds", 0, "")
	fs.Uint64Var(&o.seed, "seed", 0, "")
	fs.StringVar(&o.roundDrills, "round-drills", strings.Join(rehearsal.RoundDrills, ","), "")
	fs.DurationVar(&o.healAfter, "heal-after", 0, "")
	fs.DurationVar(&o.margin, "margin", rehearsal.DefaultBudgetMargin, "")
	fs.DurationVar(&o.upTimeout, "up-timeout", rehearsal.DefaultUpTimeout, "")
	fs.DurationVar(&o.servingLimit, "serving-limit", bootbudget.Goal, "")
	fs.DurationVar(&o.appReady, "app-ready-timeout", rehearsal.DefaultAppReadyTimeout, "")
	fs.DurationVar(&o.watchDeadline, "watch-deadline", rehearsal.DefaultWatchDeadline, "")
	fs.DurationVar(&o.destroyTimeout, "destroy-timeout", rehearsal.DefaultDestroyTimeout, "")
	fs.StringVar(&o.destroyRun, "destroy-run", "", "")
	fs.RegisterRenamed()
	return fs, &o
}

func run(args []string, stdout, stderr io.Writer, d deps) int {
	fs, op := flagsOf(stderr, d.getenv)
	err := fs.Parse(args)
	if err == nil {
		err = fs.NoArgs()
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			errorf(stderr, "%v", err)
		}
		return opflags.ExitCode(err)
	}
	o := *op
	o.region, o.project, o.driver, o.report = fs.Region, firstOf(fs.Cwd, "."), firstOf(fs.VolumeDriver, facts.VolumeDriverRexRay), firstOf(fs.OutputFile, defaultReport)
	o.rtoLimitSet = fs.IsSet("rto-limit")
	if o.destroyRun != "" {
		return destroyRun(o, stdout, stderr, d)
	}
	if msg := o.check(); msg != "" {
		errorf(stderr, "%s", msg)
		return 2
	}
	drills, _ := rehearsal.ParseDrills(o.drills) // checked by o.check
	masterCount := rehearsal.MasterCountFor(drills)
	cfg := rehearsalConfig(o, drills, nil, d, stderr)
	if fs.DryRun {
		printPlan(stdout, o, masterCount, cfg)
		return 0
	}
	if err := fs.NeedYes(d.stdinIsTerminal, "a rehearsal creates a stack that bills until it is destroyed"); err != nil {
		errorf(stderr, "%v", err)
		return opflags.ExitCode(err)
	}
	if fs.AWSProfile != "" && d.setenv != nil {
		if err := d.setenv("AWS_PROFILE", fs.AWSProfile); err != nil {
			return errorf(stderr, "%v", err)
		}
	}
	if d.whoami != nil {
		ctx, cancel := context.WithTimeout(context.Background(), ec2ops.APICallTimeout)
		id, err := d.whoami(ctx, o.region, fs.AWSProfile)
		cancel()
		if err != nil {
			return errorf(stderr, "%v; nothing was created", err)
		}
		fmt.Fprintf(stderr, "%s: AWS credentials of %s (account %s)\n", program, id.ARN, id.Account)
	}
	if !fs.Yes {
		printPlan(stderr, o, masterCount, cfg)
		if !confirmed(d.stdin, stderr) {
			return errorf(stderr, "not confirmed: nothing was created")
		}
	}
	if o.runsDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return errorf(stderr, "no runs directory: pass --runs-dir or set MHA_REHEARSAL_RUNS_DIR (%v)", err)
		}
		o.runsDir = filepath.Join(home, ".marathon-ha", "rehearsals")
	}
	if o.cidr == "auto" {
		ctx, cancel := context.WithTimeout(context.Background(), rehearsal.CheckIPTimeout)
		cidr, err := d.detectCIDR(ctx)
		cancel()
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		fmt.Fprintf(stderr, "%s: operatorCidr %s (this machine's public address)\n", program, cidr)
		o.cidr = cidr
	}

	stack, err := d.newStack(rehearsal.AutoOptions{MasterCount: masterCount, ProjectDir: o.project, RunsDir: o.runsDir, Backend: o.backend,
		Region: o.region, OperatorCIDR: o.cidr, VolumeDriver: o.driver, AgentCount: o.agents, Getenv: d.getenv, Progress: stderr})
	if err != nil {
		return errorf(stderr, "preparing the run: %v", err)
	}
	if a, ok := stack.(*rehearsal.AutoStack); ok {
		info := a.Info()
		fmt.Fprintf(stderr, "%s: run directory %s (state, SSH key ssh/id_ed25519", program, info.RunDir)
		if info.PassphraseFile != "" {
			fmt.Fprintf(stderr, ", stack passphrase in %s: keep it until the stack is destroyed", info.PassphraseFile)
		}
		fmt.Fprintln(stderr, ")")
	}

	ctx, stop := rehearsal.HandleSignals(context.Background(), d.signals, stderr, stack.Name(), stack.ManualCleanup)
	defer stop()
	r := rehearsal.Run(ctx, rehearsalConfig(o, drills, stack, d, stderr))
	code := 0
	if !r.Passed {
		code = 1
	}
	if err := r.WriteFile(o.report); err != nil {
		errorf(stderr, "%v", err)
		code = 1
	}
	if fs.JSON {
		if raw, err := os.ReadFile(o.report); err == nil {
			_, _ = stdout.Write(raw)
		}
		stdout = stderr // the human lines
	}
	if err := shortenLogs(r, o.report); err != nil {
		errorf(stderr, "%v", err)
	}
	r.Summary(stdout)
	fmt.Fprintf(stdout, "report: %s\n", o.report)
	if r.Failover != nil { // none when the rehearsal stopped before the kill
		p := svgPath(o.report)
		if err := failover.WriteSVGFile(p, *r.Failover, failover.SVGOptions{LimitSeconds: r.RTOLimitSeconds, LimitFrom: r.RTOLimitFrom}); err != nil {
			return errorf(stderr, "%v", err)
		}
		fmt.Fprintf(stdout, "timeline: %s\n", p)
	}
	if d := r.MasterDrill; d != nil && d.Failover != nil { // the leading-master drill's own drawing
		p := strings.TrimSuffix(svgPath(o.report), ".svg") + "-masters.svg"
		if err := failover.WriteSVGFile(p, d.Failover.AsReport(), failover.SVGOptions{LimitSeconds: d.LimitSeconds, LimitFrom: "master budget plus margin"}); err != nil {
			return errorf(stderr, "%v", err)
		}
		fmt.Fprintf(stdout, "masters timeline: %s\n", p)
	}
	return code
}

// confirmed asks on stderr whether to create the billing stack and reads
// the answer from stdin: "yes" alone, as cleanup-volumes asks; anything
// else, or none (EOF), is no.
func confirmed(stdin io.Reader, stderr io.Writer) bool {
	fmt.Fprint(stderr, "Create the stack and rehearse? It bills until it is destroyed. Type yes: ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil { // Ctrl-D: no newline was echoed
		fmt.Fprintln(stderr)
	}
	return strings.TrimSpace(line) == "yes"
}

// rehearsalConfig is the rehearsal's configuration from the options.
func rehearsalConfig(o options, drills []string, stack rehearsal.Stack, d deps, progress io.Writer) rehearsal.Config {
	cfg := rehearsal.Config{
		Stack: stack, Clicks: o.clicks, FlushWait: o.flushWait, RTOLimit: o.rtoLimit,
		Mode: failover.Mode(o.mode), BudgetMargin: o.margin, Drills: drills, Rounds: o.rounds, Seed: o.seed, RoundDrills: strings.Split(o.roundDrills, ","),
		HealAfter:       o.healAfter,
		AppReadyTimeout: o.appReady, WatchDeadline: o.watchDeadline, DestroyTimeout: o.destroyTimeout, Progress: progress,
		UpTimeout: o.upTimeout, ServingLimit: o.servingLimit, Region: o.region, Workload: d.workload,
	}
	if stack != nil {
		cfg.Clients = d.clients(progress)
	}
	return cfg
}

// svgPath is where the failover's drawing goes: next to the JSON report.
func svgPath(report string) string { return strings.TrimSuffix(report, ".json") + ".svg" }

// check validates the options of a rehearsal; it returns the problem.
func (o options) check() string {
	switch {
	case o.region == "":
		return "no AWS region: pass --region or set MHA_REGION (or AWS_REGION)"
	case o.cidr == "":
		return "--operator-cidr is empty: pass a CIDR such as 203.0.113.7/32, or auto"
	case o.driver != facts.VolumeDriverRexRay && o.driver != facts.VolumeDriverFlocker:
		return fmt.Sprintf("--volume-driver %q: want %s or %s", o.driver, facts.VolumeDriverRexRay, facts.VolumeDriverFlocker)
	case o.agents < 2 || o.agents > config.MaxAgentCount:
		return fmt.Sprintf("--agent-count %d: want 2 to %d (failover needs a second agent)", o.agents, config.MaxAgentCount)
	case o.clicks < 1:
		return fmt.Sprintf("--clicks %d: write at least one", o.clicks)
	case o.rounds < 0:
		return fmt.Sprintf("--rounds %d: want 1 or more (0: a single kill in --mode)", o.rounds)
	case o.flushWait < 0 || (o.rtoLimitSet && o.rtoLimit <= 0) || o.margin <= 0 || o.appReady <= 0 || o.watchDeadline <= 0 || o.destroyTimeout <= 0 || o.upTimeout <= 0 || o.servingLimit <= 0:
		return "durations must be positive (--flush-wait may be 0)"
	}
	if m, err := failover.ParseMode(o.mode); err != nil {
		return "--" + err.Error()
	} else if m == failover.ModePartition {
		return "--mode partition: the partition is a drill of its own: pass --drills partition"
	}
	if o.healAfter < 0 {
		return "--heal-after must not be negative"
	}
	if _, err := rehearsal.ParseDrills(o.drills); err != nil {
		return "--drills: " + err.Error()
	}
	if err := rehearsal.CheckRoundDrills(strings.Split(o.roundDrills, ",")); err != nil {
		return "--round-drills: " + err.Error()
	}
	return ""
}

// destroyRun tears down the stack a run directory records as a rehearsal
// does at its end (rehearsal.Teardown): export, sweep, destroy, sweep,
// remove. The region of the sweep is the state's, else the run's, else
// --region.
func destroyRun(o options, stdout, stderr io.Writer, d deps) int {
	stack, err := d.openRun(o.destroyRun, stderr)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	fmt.Fprintf(stderr, "%s: tearing down stack %s (backend %s)\n", program, stack.Name(), stack.Backend())
	r := &rehearsal.Report{Stack: stack.Name(), Backend: stack.Backend()}
	rehearsal.Teardown(context.Background(), rehearsal.TeardownConfig{Stack: stack, Sweep: d.clients(stderr).Sweep,
		Region: o.region, DestroyTimeout: o.destroyTimeout, Progress: stderr}, r)
	r.Leftovers.Summary(stdout)
	if len(r.Problems) > 0 {
		for _, p := range r.Problems {
			errorf(stderr, "%s", p)
		}
		if len(r.ManualCleanup) > 0 {
			fmt.Fprintf(stderr, "finish by hand:\n    %s\n", strings.Join(r.ManualCleanup, "\n    "))
		}
		return 1
	}
	fmt.Fprintf(stdout, "stack %s destroyed, swept and removed\n", stack.Name())
	return 0
}
