// Command kill-node terminates the EC2 instance of the Mesos agent that runs
// Moby Counter, as a crash (the default: TerminateInstances with
// SkipOsShutdown) or gracefully as the 2015 demo's `make failure` did, and
// watches the recovery: a timeline sampled at least once a second, the RTO
// from the terminate request against the stack's recovery budget for its
// volume driver and the mode, and the clicks lost. A writer sends marked
// clicks through the ELB from before the kill to the end of the watch: the
// outage and RTO as a user saw them, and the RPO, judged against the crash-
// loss bound. It refuses any instance that does not carry the stack's tags.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/opflags"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
	"github.com/marathon-ha/marathon-ha/internal/workload"
)

const usage = `Usage:
    kill-node --stack NAME [--cwd DIR] [options]
    kill-node --outputs FILE|- [options]

Finds the agent that runs the app (Marathon), maps it to the stack's EC2
instance (private IP plus the stack's tags: any other instance is refused),
asks for confirmation, writes clicks through the ELB and reads them back,
optionally waits for the page cache to write them to the volume
(--flush-wait), starts a writer that sends a marked click through the ELB
every 100-250 ms, checks again that Marathon runs the app on the target and
the ELB serves it from there alone (if not, it says what changed and
terminates nothing), terminates the instance after the writer's lead, then
watches the recovery and reports the RTO (from the terminate request) and
the clicks lost. Recovery counts only once Marathon runs the app on another
agent with its health checks alive, the ELB has that agent, and only it, in
service, and every sample stays so for the stability window (the app's
health-check grace period + interval x max failures). After the watch
the writer's clicks are read back: every acknowledged click must be there
but for what the kill may lose (a crash: the clicks acknowledged in the
last %s, the agents' writeback bound; a graceful kill: none), and no click
that was never sent.

The stack outputs come from ` + "`pulumi stack output --json --show-secrets --stack NAME`" + `
(run in --cwd, the Pulumi project directory, if given), or from a file
holding that command's output (--outputs FILE, "-" for stdin).

Options:
    --target T            What to kill: app-agent (default), the agent that
                          runs the app; marathon-leader (or leading-master),
                          mesos-leader or zookeeper-leader, the master whose
                          Marathon, Mesos master or ZooKeeper leads; or
                          "master N" (1-based, masterPrivateIps order). A
                          master is refused when the stack has one
                          (masterCount 1), and is killed as a crash; every
                          leader is found first, the watch expects an
                          election only of what the master led (the others
                          "unchanged"), a canary app deployed and removed,
                          and the app answering throughout (docs/masters.md).
                          ZooKeeper's leader is asked with srvr on port 2181
                          of each master's public address, open to
                          operatorCidr when the stack has several masters.
    --mode M              crash (default): TerminateInstances with
                          SkipOsShutdown=true, the machine stops at once and
                          unflushed writes are lost; graceful: the API's
                          default OS shutdown, as in the 2015 demo (the app
                          serves until Docker stops, the volume is flushed);
                          partition: terminate nothing, cut the agent off
                          from the masters through its security groups
                          (a drill group that admits only the ELB on the
                          app port, nothing out), heal after --heal-after;
                          the fence must terminate it. Needs the stack
                          outputs elbSecurityGroupId and appPort.
    --heal-after D        How long a partition lasts (default: the
                          stack's detection + fence + relaunch + margin,
                          30s with the default settings). The groups are
                          restored on every exit: error, timeout, signal.
    --clicks N            Clicks to write through the ELB before the kill
                          (default 10; 0 writes none).
    --flush-wait D        The 2015 demo's data check: wait this long after
                          the last of --clicks before the kill, for the
                          kernel to write them back to the volume (the
                          demo's nodes: %s, vm.dirty_expire_centisecs +
                          dirty_writeback_centisecs). Default 0: the writer
                          judges what a crash loses instead.
    --seed N              Seed of the writer's pauses between clicks, to
                          replay a run (default: drawn at random; the
                          report gives it).
    --margin D            How much the RTO may exceed the budget of the
                          volume driver and --mode (default %s, as the
                          rehearsal's).
    --rto-limit D         Judge the RTO against this limit instead of the
                          budget plus --margin (default: not set).
    --no-watch            Exit once EC2 accepted the termination.
    --output FILE         Also write the report as JSON to FILE and draw it
                          as an SVG timeline next to it (FILE without .json,
                          + .svg; scripts/failover-svg draws a saved one).
                          --svg FILE, the old way, draws the SVG alone.
    --timeout D           Give up watching this long after the kill
                          (default %s).
    --interval D          Sampling period of the watch (default and
                          maximum 1s).
    --marathon-wait D     How long to retry an unreachable or leaderless
                          Marathon before giving up (default %s).

AWS credentials come from --aws-profile or the SDK's usual chain
(AWS_PROFILE, AWS_ACCESS_KEY_ID, ...), checked with STS before anything
else; the region is the stack's.
AWS_ENDPOINT_URL_EC2 and AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING override
the endpoints. The credentials need ec2:DescribeInstances,
ec2:DescribeVolumes, ec2:TerminateInstances,
elasticloadbalancing:DescribeLoadBalancers and
elasticloadbalancing:DescribeInstanceHealth; --mode partition also
ec2:DescribeSecurityGroups, ec2:CreateSecurityGroup, ec2:CreateTags,
ec2:AuthorizeSecurityGroupIngress, ec2:AuthorizeSecurityGroupEgress,
ec2:RevokeSecurityGroupEgress, ec2:ModifyInstanceAttribute and
ec2:DeleteSecurityGroup. Marathon must be reachable from
this machine: the stack's operatorCidr must include its address.

Exit status: 0 the app recovered within its budget plus --margin (or
--rto-limit) and lost no acknowledged click beyond what the kill may lose (or --dry-run,
--no-watch), 1 otherwise: over the budget, an acknowledged click lost, a
click never sent read back, or never recovered (the report and stderr say
which, one line each) or an error.`

const program = "kill-node"

// Defaults of the options.
const (
	defaultClicks = 10
	// defaultMarathonWait bounds the search for the target: Marathon
	// answers in milliseconds when reachable; a leader election takes a
	// few seconds.
	defaultMarathonWait = 30 * time.Second
)

// deps are what run needs from the outside world, replaced in tests.
type deps struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// pulumi runs the pulumi CLI with args and returns its stdout.
	pulumi func(ctx context.Context, args []string) ([]byte, error)
	// connect returns the EC2 API for a region.
	connect func(ctx context.Context, region string) (ec2ops.EC2API, error)
	// connectELB returns the instance health of the ELB at appURL.
	connectELB func(ctx context.Context, region, appURL string) (*mobycounter.LoadBalancer, error)
	rng        interface{ Uint32() uint32 }
	// workload shapes the writer (zero fields: workload's defaults).
	workload workload.Config
	// zooKeeper asks the masters' ZooKeepers who leads (nil:
	// failover.NewZooKeeperProbe of their public addresses).
	zooKeeper func(stackoutputs.Outputs) failover.ZooKeeperProbe
	getenv    func(string) string
	// useProfile gives connect and connectELB the --aws-profile (nil in
	// tests whose AWS is a stand-in).
	useProfile func(profile string)
	// whoami checks the credentials once before the work (nil: no check).
	whoami func(ctx context.Context, region, profile string) (ec2ops.Identity, error)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var aws awsSession
	os.Exit(run(ctx, os.Args[1:], deps{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		pulumi: stackoutputs.RunPulumi, connect: aws.connect, connectELB: aws.connectELB, useProfile: aws.use, whoami: ec2ops.Whoami,
		rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}))
}

// awsSession connects to EC2 and the ELB API with the profile the flags
// name, once they are parsed.
type awsSession struct{ profile string }

func (s *awsSession) use(profile string) { s.profile = profile }

func (s *awsSession) connect(ctx context.Context, region string) (ec2ops.EC2API, error) {
	api, _, err := ec2ops.ConnectAs(ctx, region, s.profile)
	return api, err
}

func (s *awsSession) connectELB(ctx context.Context, region, appURL string) (*mobycounter.LoadBalancer, error) {
	cfg, err := ec2ops.LoadConfig(ctx, region, s.profile)
	if err != nil {
		return nil, err
	}
	return mobycounter.NewLoadBalancer(elb.NewFromConfig(cfg), appURL), nil
}

type options struct {
	stack, cwd, outputs                        string
	yes, dryRun, noWatch, jsonOut              bool
	clicks                                     int
	seed                                       uint64 // --seed; 0 draws one
	margin, rtoLimit                           time.Duration
	mode                                       failover.Mode
	svgFile                                    string // --svg
	timeout, interval, marathonWait, flushWait time.Duration
	target                                     failover.KillTarget
	healAfter                                  time.Duration // --heal-after, 0: failover.DefaultHealAfter
	outputFile, awsProfile                     string        // --output, --aws-profile
}

// newFlags is the tool's flag set (opflags.Tools["kill-node"]).
func newFlags(stderr io.Writer, getenv func(string) string) *opflags.FlagSet {
	fs, _, _ := flagsOf(stderr, getenv)
	return fs
}

// flagsOf builds the flag set with the tool's own flags bound to o; after
// Parse, finish copies the shared ones into o.
func flagsOf(stderr io.Writer, getenv func(string) string) (*opflags.FlagSet, *options, func() (mode, target string)) {
	var o options
	fs := opflags.New(program, opflags.Tools[program],
		fmt.Sprintf(usage, facts.CrashLossBound, facts.PageCacheFlushWait, facts.RecoveryBudgetMargin, facts.FailoverWatchTimeout, defaultMarathonWait),
		stderr, getenv)
	mode := string(failover.ModeCrash)
	fs.StringVar(&mode, "mode", mode, "")
	target := failover.TargetAppAgent
	fs.StringVar(&target, "target", target, "")
	fs.DurationVar(&o.flushWait, "flush-wait", 0, "")
	fs.Uint64Var(&o.seed, "seed", 0, "")
	fs.DurationVar(&o.margin, "margin", facts.RecoveryBudgetMargin, "")
	fs.DurationVar(&o.rtoLimit, "rto-limit", 0, "")
	fs.BoolVar(&o.noWatch, "no-watch", false, "")
	fs.IntVar(&o.clicks, "clicks", defaultClicks, "")
	fs.DurationVar(&o.timeout, "timeout", facts.FailoverWatchTimeout, "")
	fs.DurationVar(&o.interval, "interval", failover.MaxInterval, "")
	fs.DurationVar(&o.marathonWait, "marathon-wait", defaultMarathonWait, "")
	fs.DurationVar(&o.healAfter, "heal-after", 0, "")
	svg := &stringValue{p: &o.svgFile}
	fs.DeprecatedAs("svg", svg, "--output FILE.json (the JSON report, and the SVG next to it)")
	fs.RegisterRenamed()
	return fs, &o, func() (string, string) {
		o.stack, o.cwd, o.outputs = fs.Stack, fs.Cwd, fs.Outputs
		o.yes, o.dryRun, o.jsonOut = fs.Yes, fs.DryRun, fs.JSON
		o.outputFile, o.awsProfile = fs.OutputFile, fs.AWSProfile
		if o.outputFile != "" && o.svgFile == "" {
			o.svgFile = strings.TrimSuffix(o.outputFile, ".json") + ".svg"
		}
		return mode, target
	}
}

// stringValue is a flag.Value over a string.
type stringValue struct{ p *string }

func (v *stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}
func (v *stringValue) Set(s string) error { *v.p = s; return nil }

func parse(args []string, stderr io.Writer, getenv func(string) string) (options, error) {
	fs, op, finish := flagsOf(stderr, getenv)
	if err := fs.Parse(args); err != nil {
		return *op, err
	}
	mode, target := finish()
	o := *op
	bad := func(format string, a ...any) (options, error) {
		return o, opflags.Usagef("%s (run %s -h for the options)", fmt.Sprintf(format, a...), program)
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case o.stack == "" && o.outputs == "":
		return bad("say where the stack outputs come from: --stack NAME (pulumi stack output) or --outputs FILE|-")
	case o.outputs == "-" && !o.yes && !o.dryRun:
		return bad("--outputs - reads stdin, which the confirmation needs too: pass --yes, or the outputs as a file")
	case o.svgFile != "" && o.noWatch:
		return bad("--output and --svg hold the watch's report, which --no-watch skips")
	case o.clicks < 0:
		return bad("--clicks %d is negative", o.clicks)
	case o.flushWait < 0:
		return bad("--flush-wait %s is negative", o.flushWait)
	case o.margin < 0 || o.rtoLimit < 0:
		return bad("--margin %s and --rto-limit %s must not be negative", o.margin, o.rtoLimit)
	case o.timeout <= 0 || o.marathonWait <= 0:
		return bad("--timeout %s and --marathon-wait %s must be positive", o.timeout, o.marathonWait)
	case o.interval <= 0 || o.interval > failover.MaxInterval:
		return bad("--interval %s must be positive and at most %s: the timeline is sampled at least once a second", o.interval, failover.MaxInterval)
	}
	m, err := failover.ParseMode(mode)
	if err != nil {
		return bad("--%v", err)
	}
	o.mode = m
	if o.target, err = failover.ParseKillTarget(target); err != nil {
		return bad("--%v", err)
	}
	if err := checkPartitionFlags(o); err != nil {
		return bad("%v", err)
	}
	if o.target.IsMaster() {
		if err := failover.MasterMode(o.mode); err != nil {
			return bad("--target %s: %v", o.target, err)
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, d deps) int {
	o, err := parse(args, d.stderr, d.getenv)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(d.stderr, "%s: %v\n", program, err)
		}
		return opflags.ExitCode(err)
	}
	human := d.stdout
	if o.jsonOut {
		human = d.stderr
	}
	if o.outputFile != "" { // the JSON report goes to the file too
		report := &lazyFile{path: o.outputFile}
		defer report.Close()
		if o.jsonOut {
			d.stdout = io.MultiWriter(d.stdout, report)
		} else {
			d.stdout = report
		}
		o.jsonOut = true
	}
	if d.useProfile != nil {
		d.useProfile(o.awsProfile)
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(d.stderr, program+": "+format+"\n", a...)
		return 1
	}

	outs, err := loadOutputs(ctx, o, d)
	if err != nil {
		return fail("%v", err)
	}
	if d.whoami != nil {
		if _, err := d.whoami(ctx, outs.Region, o.awsProfile); err != nil {
			return fail("%v; nothing was terminated", err)
		}
	}
	if o.target.IsMaster() {
		return runMaster(ctx, o, d, outs, human, fail)
	}
	budget, err := failover.NewBudget(outs.Failover, outs.VolumeDriver, o.mode)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprint(human, budget.String())
	fmt.Fprintf(human, "kill mode %s\n", o.mode.Describe())

	m, err := marathon.New(marathonURLs(outs))
	if err != nil {
		return fail("%v", err)
	}
	api, err := d.connect(ctx, outs.Region)
	if err != nil {
		return fail("%v", err)
	}
	e := ec2ops.New(api)
	// The fence lines on the masters' and the agent's consoles go in the
	// report (failover.ReadFences): an EC2 API that reads consoles is
	// enough, the real one and the stand-in's alike.
	var consoles *ec2ops.ConsoleReader
	if ca, ok := api.(ec2ops.ConsoleAPI); ok {
		consoles = ec2ops.NewConsoleReader(ca, 0)
	}
	findCtx, cancel := context.WithTimeout(ctx, o.marathonWait)
	target, inst, err := failover.FindTargetInstance(findCtx, m, e, outs)
	cancel()
	if err != nil {
		return fail("%v", err)
	}
	describe(human, outs, target, inst)

	if o.dryRun {
		fmt.Fprintf(human, "dry run: would write %d clicks through %s, wait %s for the page cache, start the writer, terminate instance %s (%s) and watch the recovery; nothing was terminated\n",
			o.clicks, outs.AppURL, o.flushWait, target.InstanceID, o.mode)
		return 0
	}
	if !o.yes && !confirm(d.stdin, human, target.InstanceID) {
		return fail("not confirmed: instance %s was not terminated", target.InstanceID)
	}

	// Before anything is written or killed: the kill checks that the ELB
	// still serves the app from the target, and the watch cannot tell the
	// replacement's answers without the ELB's instance health.
	lb, err := d.connectELB(ctx, outs.Region, outs.AppURL)
	if err == nil {
		_, err = lb.Health(ctx)
	}
	if err != nil {
		return fail("%v; instance %s was not terminated", err, target.InstanceID)
	}
	app := mobycounter.New(outs.AppURL)
	written, err := writeClicks(ctx, app, outs.AppURL, o.clicks, d.rng, human)
	if err != nil {
		return fail("%v; instance %s was not terminated", err, target.InstanceID)
	}
	if err := waitWriteback(ctx, human, d.stderr, len(written), o.flushWait, o.mode); err != nil {
		return fail("%v; instance %s was not terminated", err, target.InstanceID)
	}
	if o.noWatch {
		killedAt, err := failover.Kill(ctx, m, e, lb, outs, target, o.mode)
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(human, "terminate (%s) requested for %s at %s\n", o.mode, target.InstanceID, killedAt.UTC().Format(time.RFC3339Nano))
		fmt.Fprintln(human, "not watching the recovery (--no-watch)")
		return 0
	}

	r, drillErr, err := killAndWatch(ctx, o, d, human, consoles, failover.WatchConfig{Outputs: outs, Target: target, Mode: o.mode, Written: written,
		Marathon: m, EC2: e, App: app, ELB: lb, Interval: o.interval, Deadline: o.timeout, Progress: human})
	if err != nil {
		return fail("%v", err)
	}
	return report(r, drillErr, o, d, human, fail)
}

// report prints the watch's report (the summary, --json, --svg) and its
// verdict; drillErr is a partition's restore failure, a failure too.
func report(r failover.Report, drillErr error, o options, d deps, human io.Writer, fail func(string, ...any) int) int {
	fmt.Fprint(human, r.Summary())
	if o.jsonOut {
		enc := json.NewEncoder(d.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fail("writing the JSON report: %v", err)
		}
	}
	if o.svgFile != "" {
		if err := failover.WriteSVGFile(o.svgFile, r, failover.SVGOptions{}); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(human, "timeline drawn in %s\n", o.svgFile)
	}
	p := []string{}
	if r.Judgement != nil {
		p = append(p, r.Judgement.Problems...)
	}
	if drillErr != nil {
		p = append(p, drillErr.Error())
	}
	if len(p) > 0 {
		for _, line := range p {
			fmt.Fprintf(d.stderr, "%s: FAILED: %s\n", program, line)
		}
		return 1
	}
	return 0
}

// loadOutputs reads the stack outputs from pulumi or from --outputs.
func loadOutputs(ctx context.Context, o options, d deps) (stackoutputs.Outputs, error) {
	return stackoutputs.Source{File: o.outputs, Stdin: d.stdin, Stack: o.stack, Cwd: o.cwd, Pulumi: d.pulumi}.Load(ctx)
}

// describe prints what will be terminated.
func describe(w io.Writer, o stackoutputs.Outputs, t failover.Target, in ec2ops.Instance) {
	fmt.Fprintf(w, "app %s runs as task %s on agent %s\n", t.AppID, t.TaskID, t.Host)
	fmt.Fprintf(w, "target: instance %s, private IP %s, %s, stack %s in %s\n", t.InstanceID, t.PrivateIP, in.State, o.Stack, o.Region)
	keys := make([]string, 0, len(in.Tags))
	for k := range in.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  tag %s = %s\n", k, in.Tags[k])
	}
}

// confirm asks for the instance id or "yes" on stdin.
func confirm(stdin io.Reader, w io.Writer, id string) bool {
	fmt.Fprintf(w, "Terminate instance %s? Type the instance id or yes: ", id)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(w)
		return false
	}
	answer := strings.TrimSpace(line)
	return answer == id || answer == "yes"
}

// writeClicks writes n unique clicks through the ELB and reads them back,
// so the lost-clicks check after the kill means something.
func writeClicks(ctx context.Context, app *mobycounter.Client, appURL string, n int, rng interface{ Uint32() uint32 }, w io.Writer) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	c := mobycounter.NewClicker(rng)
	written := make([]string, 0, n)
	for range n {
		click := c.Next()
		if err := app.Write(ctx, click); err != nil {
			return nil, fmt.Errorf("writing clicks before the kill: %w", err)
		}
		written = append(written, click)
	}
	read, err := app.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the clicks back before the kill: %w", err)
	}
	if lost := mobycounter.Missing(written, read); len(lost) > 0 {
		return nil, fmt.Errorf("reading the clicks back before the kill: %d of %d are missing already (%v): the app is not healthy, fix it before a failover test", len(lost), n, lost)
	}
	fmt.Fprintf(w, "wrote %d clicks through %s and read them back\n", n, appURL)
	return written, nil
}

// lazyFile creates its file at the first write, so a run that fails before
// its report leaves no empty report behind.
type lazyFile struct {
	path string
	f    *os.File
	err  error
}

func (l *lazyFile) Write(p []byte) (int, error) {
	if l.f == nil && l.err == nil {
		l.f, l.err = os.Create(l.path)
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Write(p)
}

func (l *lazyFile) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}
