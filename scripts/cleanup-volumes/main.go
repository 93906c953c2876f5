// Command cleanup-volumes deletes the EBS volumes that a marathon-ha
// cluster's volume driver (Flocker or REX-Ray) created at run time. The
// program does not own those volumes, so `pulumi destroy` runs this after
// the agents are terminated; without it every run leaks a volume that keeps
// billing (the 2015 demo leaked 100 GiB per run).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/opflags"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

const usage = `Usage: cleanup-volumes --stack NAME|--outputs FILE [--account-id ACCOUNT] [--flocker-cluster-uuid UUID] [options]
       cleanup-volumes --region REGION --cluster-id ID --volume-driver flocker|rexray
                       [--account-id ACCOUNT] [--flocker-cluster-uuid UUID] [--volume-name NAME]
                       [--availability-zone ZONE] [--aws-profile PROFILE] [--wait 10m] [--poll 5s] [--dry-run]

Deletes the EBS volumes the cluster's volume driver created at run time, and
nothing else: Flocker's volumes are found by their flocker-cluster-id tag,
REX-Ray's by their Name tag (the Docker volume name, which contains the
cluster id). Attached volumes are waited for, since they detach when their
instance terminates; volumes still attached after --wait are listed and the
exit status is 1. With --stack (or --outputs), the region, cluster id,
volume driver, volume name and zone are the stack outputs'.

It first asks AWS STS whom its credentials belong to and stops, listing
and deleting nothing, unless that is the stack's account: searched in
another account, the volumes would not be found and "nothing to delete"
would pass for success. A missing or expired credential is named with its
fix. It prints the caller, the selector, the region and account it looked
in, and each volume found with its state. Run at a terminal without --yes,
it lists what it would delete and asks first.

Options:
    --account-id ACCOUNT          The stack's AWS account (recorded at pulumi up).
    --cluster-id ID               The stack's cluster id (stack output clusterId).
    --flocker-cluster-uuid UUID   flocker: the Flocker cluster UUID.
    --volume-name NAME            rexray: the Docker volume name (stack output volumeName).
    --availability-zone ZONE      Only volumes in this zone (stack output availabilityZone).
    --wait DURATION               How long to wait for attached volumes (default %s).
    --poll DURATION               How often to re-read attached volumes (default %s).

--aws-profile wins over AWS_ACCESS_KEY_ID in the environment, as the
stack's aws:profile does. Each option can come from the environment
instead, so a Pulumi local.Command can pass it: MHA_REGION, MHA_ACCOUNT_ID,
MHA_AWS_PROFILE, MHA_CLUSTER_ID, MHA_VOLUME_DRIVER, MHA_FLOCKER_CLUSTER_UUID,
MHA_VOLUME_NAME, MHA_AVAILABILITY_ZONE, MHA_WAIT, MHA_DRY_RUN=true. A flag
wins over its variable. AWS_ENDPOINT_URL_EC2 and AWS_ENDPOINT_URL_STS
override the endpoints.

Without an account id (a clean-up recorded by a marathon-ha older than this
check), it cannot confirm the account: it says so, and deletes nothing while
the cluster still has live agents, since pulumi destroy removes them first.

The credentials need ec2:DescribeVolumes, ec2:DeleteVolume and
ec2:DescribeInstances (sts:GetCallerIdentity needs no permission).
`

const progName = "cleanup-volumes"

// connectFunc returns the EC2 and STS APIs of a region, with the
// credentials of profile ("" for the SDK's default chain).
type connectFunc func(ctx context.Context, region, profile string) (ec2ops.EC2API, ec2ops.STSAPI, error)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, ec2ops.ConnectAs))
}

// stdin is where a person at a terminal confirms the deletion; pulumi
// runs the tool with no terminal, and then it does not ask.
var stdin io.Reader = os.Stdin

// pulumi reads the stack outputs for --stack.
var pulumi opflags.PulumiFunc = stackoutputs.RunPulumi

type options struct {
	*opflags.FlagSet
	region, accountID, profile                       string
	clusterID, driver, flockerUUID, volumeName, zone string
	wait, poll                                       time.Duration
	dryRun                                           bool
}

// newFlags is the tool's flag set (opflags.Tools["cleanup-volumes"]).
func newFlags(stderr io.Writer, getenv func(string) string) *opflags.FlagSet {
	fs, _ := flagsOf(stderr, getenv)
	return fs
}

func flagsOf(stderr io.Writer, getenv func(string) string) (*opflags.FlagSet, *options) {
	fs := opflags.New(progName, opflags.Tools[progName], fmt.Sprintf(usage, facts.VolumeCleanupWait, ec2ops.DefaultCleanupPoll), stderr, getenv)
	o := &options{FlagSet: fs}
	fs.StringVar(&o.accountID, "account-id", "", "")
	fs.StringVar(&o.clusterID, "cluster-id", "", "")
	fs.StringVar(&o.flockerUUID, "flocker-cluster-uuid", "", "")
	fs.StringVar(&o.volumeName, "volume-name", "", "")
	fs.StringVar(&o.zone, "availability-zone", "", "")
	fs.DurationVar(&o.wait, "wait", facts.VolumeCleanupWait, "")
	fs.DurationVar(&o.poll, "poll", ec2ops.DefaultCleanupPoll, "")
	fs.RegisterRenamed()
	return fs, o
}

// errorf prints a message prefixed with the program name and returns the
// failure exit status.
func errorf(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, progName+": "+format+"\n", args...)
	return 1
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, connect connectFunc) int {
	opts, err := parse(ctx, args, getenv, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			errorf(stderr, "%v", err)
		}
		return opflags.ExitCode(err)
	}
	sel := ec2ops.VolumeSelector{Driver: opts.driver, ClusterID: opts.clusterID,
		FlockerClusterUUID: opts.flockerUUID, VolumeName: opts.volumeName, AvailabilityZone: opts.zone}
	if _, err := sel.Filters(); err != nil {
		errorf(stderr, "%v\n(run %s -h for the options)", err, progName)
		return 2
	}
	ec2api, stsapi, err := connect(ctx, opts.region, opts.profile)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	caller, err := whoAmI(ctx, stsapi, opts, stdout)
	if err != nil {
		return errorf(stderr, "%v; nothing was listed or deleted", err)
	}
	client := ec2ops.New(ec2api)
	what := ec2ops.DescribeSelector(sel)
	where := fmt.Sprintf("%s of account %s", opts.region, caller.Account)
	if opts.accountID == "" {
		done, err := unconfirmedAccount(ctx, client, sel, opts, where, stdout)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		if done {
			return 0
		}
	}
	if !opts.dryRun && !opts.Yes && opflags.IsTerminal(stdin) {
		ok, err := askFirst(ctx, client, sel, opts, where, stdout)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		if !ok {
			return errorf(stderr, "not confirmed: nothing was deleted")
		}
	}
	mode := ""
	if opts.dryRun {
		mode = " (dry run: nothing is deleted)"
	}
	fmt.Fprintf(stdout, "%s: looking for %s in %s%s\n", progName, what, where, mode)
	rep, err := client.CleanupVolumes(ctx, sel, ec2ops.CleanupOptions{Wait: opts.wait, Poll: opts.poll, DryRun: opts.dryRun, Progress: stdout})
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	switch {
	case opts.dryRun:
		fmt.Fprintf(stdout, "%s: dry run in %s: found %d, would delete %d (%s), %d attached, %d other\n", progName, where,
			len(rep.Found), len(rep.WouldDelete), orNone(rep.WouldDelete), len(rep.StillAttached), len(rep.Skipped))
	default:
		fmt.Fprintf(stdout, "%s: %s in %s: found %d, deleted %d: %s\n", progName, what, where, len(rep.Found), len(rep.Deleted), orNone(rep.Deleted))
	}
	return 0
}

// whoAmI asks STS whom the credentials belong to, prints it, and refuses
// them when a stack account is known and they are not of it: a search in
// another account finds nothing, and "nothing found" is not "nothing to
// delete".
func whoAmI(ctx context.Context, api ec2ops.STSAPI, opts options, stdout io.Writer) (ec2ops.Identity, error) {
	source := "the default credential chain"
	if opts.profile != "" {
		source = fmt.Sprintf("profile %q", opts.profile)
	}
	id, err := ec2ops.CheckCredentials(ctx, api, opts.profile)
	if err != nil {
		return id, err
	}
	if opts.accountID == "" {
		fmt.Fprintf(stdout, "%s: credentials from %s: %s (account %s)\n", progName, source, id.ARN, id.Account)
		return id, nil
	}
	if id.Account != opts.accountID {
		err = &ec2ops.AccountError{Want: opts.accountID, Caller: id}
	}
	switch {
	case errors.Is(err, ec2ops.ErrWrongAccount):
		fix := fmt.Sprintf("use credentials of account %s: set the stack's aws:profile (pulumi config set aws:profile NAME), or AWS_PROFILE or AWS_ACCESS_KEY_ID in the shell running pulumi, then run `pulumi destroy` (or `pulumi up`) again", opts.accountID)
		if opts.profile != "" {
			fix = fmt.Sprintf("profile %q no longer leads to account %s: fix it in ~/.aws/config, or point aws:profile at a profile of account %s, then run pulumi again", opts.profile, opts.accountID, opts.accountID)
		}
		return id, fmt.Errorf("refusing to clean up with credentials from %s: %w; %s", source, err, fix)
	case err != nil:
		return id, err
	}
	fmt.Fprintf(stdout, "%s: credentials from %s: %s, the stack's account %s\n", progName, source, id.ARN, id.Account)
	return id, nil
}

// unconfirmedAccount handles a run without the stack's account: a
// clean-up recorded by a marathon-ha older than the account check, or a
// manual run without --account-id. It reports whether the run is over. A
// cluster whose agents still live is not being destroyed (`pulumi destroy`
// deletes every agent before the clean-up, which they depend on); without a
// recorded account the only way Pulumi runs this then is the one-time
// replacement of an old clean-up when its selector moved into its triggers,
// and its selector is the live cluster's own, so nothing is deleted.
func unconfirmedAccount(ctx context.Context, client *ec2ops.Client, sel ec2ops.VolumeSelector, opts options, where string, stdout io.Writer) (bool, error) {
	fmt.Fprintf(stdout, "%s: WARNING: no stack account given (MHA_ACCOUNT_ID, recorded by `pulumi up` since the account check), so %s cannot be confirmed as the stack's: if the stack lives in another account, its volumes are not found here\n", progName, where)
	live, err := client.LiveAgents(ctx, opts.clusterID)
	if err != nil || len(live) == 0 {
		return false, err
	}
	found, err := client.FindVolumes(ctx, sel)
	if err != nil {
		return false, err
	}
	agents := make([]string, len(live))
	for i, in := range live {
		agents[i] = in.ID + " " + in.State
	}
	fmt.Fprintf(stdout, "%s: cluster %s still has %d live agents (%s): this is no destroy but the replacement of a clean-up recorded by an older marathon-ha, whose volumes are the live cluster's own; deleting nothing\n",
		progName, opts.clusterID, len(live), strings.Join(agents, ", "))
	fmt.Fprintf(stdout, "%s: %s in %s: found %d, deleted 0\n", progName, ec2ops.DescribeSelector(sel), where, len(found))
	for _, v := range found {
		fmt.Fprintf(stdout, "  left in place: %s\n", v)
	}
	return true, nil
}

func parse(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	fs, o := flagsOf(stderr, getenv)
	if err := fs.Parse(args); err != nil {
		return *o, err
	}
	if err := fs.NoArgs(); err != nil {
		return *o, err
	}
	fromEnv := func(dst *string, flagName string, vars ...string) {
		for _, v := range vars {
			if *dst != "" || fs.IsSet(flagName) {
				return
			}
			*dst = strings.TrimSpace(getenv(v))
		}
	}
	fromEnv(&o.accountID, "account-id", "MHA_ACCOUNT_ID")
	fromEnv(&o.clusterID, "cluster-id", "MHA_CLUSTER_ID")
	fromEnv(&o.flockerUUID, "flocker-cluster-uuid", "MHA_FLOCKER_CLUSTER_UUID")
	fromEnv(&o.volumeName, "volume-name", "MHA_VOLUME_NAME")
	fromEnv(&o.zone, "availability-zone", "MHA_AVAILABILITY_ZONE")
	if v := strings.TrimSpace(getenv("MHA_WAIT")); v != "" && !fs.IsSet("wait") {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return *o, opflags.Usagef("MHA_WAIT=%q is not a duration such as 10m", v)
		}
		o.wait = d
	}
	if fs.HasStack() {
		outs, err := fs.LoadOutputs(ctx, stdin, pulumi)
		if err != nil {
			return *o, err
		}
		for _, f := range []struct {
			dst        *string
			name, from string
		}{{&o.clusterID, "cluster-id", outs.ClusterID}, {&o.volumeName, "volume-name", outs.VolumeName}, {&o.zone, "availability-zone", outs.AvailabilityZone}} {
			if fs.IsSet(f.name) && *f.dst != f.from {
				return *o, opflags.Usagef("--%s %s, but the stack's is %s: drop --%s", f.name, *f.dst, f.from, f.name)
			}
			*f.dst = f.from
		}
	}
	o.region, o.profile, o.driver, o.dryRun = fs.Region, fs.AWSProfile, fs.VolumeDriver, fs.DryRun
	if o.wait < 0 || o.poll <= 0 {
		return *o, opflags.Usagef("--wait %s and --poll %s must not be negative, and --poll must be positive", o.wait, o.poll)
	}
	if o.accountID != "" && !accountRE.MatchString(o.accountID) {
		return *o, opflags.Usagef("--account-id %q is not a 12-digit AWS account id", o.accountID)
	}
	var missing []string
	for _, m := range []struct{ value, name string }{{o.region, "--region (or MHA_REGION)"},
		{o.clusterID, "--cluster-id (or MHA_CLUSTER_ID)"}, {o.driver, "--volume-driver (or MHA_VOLUME_DRIVER)"}} {
		if m.value == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return *o, opflags.Usagef("missing %s: pass --stack NAME (or --outputs FILE) to read them from the stack outputs", strings.Join(missing, ", "))
	}
	return *o, nil
}

// askFirst lists what would be deleted and asks the person at the
// terminal to confirm.
func askFirst(ctx context.Context, client *ec2ops.Client, sel ec2ops.VolumeSelector, opts options, where string, stdout io.Writer) (bool, error) {
	found, err := client.FindVolumes(ctx, sel)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(stdout, "%s: %s in %s: %d found\n", progName, ec2ops.DescribeSelector(sel), where, len(found))
	for _, v := range found {
		fmt.Fprintf(stdout, "  %s\n", v)
	}
	if len(found) == 0 {
		return true, nil
	}
	fmt.Fprint(stdout, "Delete these volumes (waiting for attached ones)? Type yes: ")
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	return strings.TrimSpace(line) == "yes", nil
}

// accountRE is the form of an AWS account id: 12 digits (STS API
// reference, GetCallerIdentity: Account; IAM User Guide, "Your AWS account ID").
var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

func orNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
