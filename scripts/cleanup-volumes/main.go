// Command cleanup-volumes deletes the EBS volumes that a marathon-ha
// cluster's volume driver (Flocker or REX-Ray) created at run time. The
// program does not own those volumes, so `pulumi destroy` runs this after
// the agents are terminated; without it every run leaks a volume that keeps
// billing (the 2015 demo leaked 100 GiB per run).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

const usage = `Usage: cleanup-volumes --region REGION --cluster-id ID --driver flocker|rexray
                       [--flocker-cluster-uuid UUID] [--volume-name NAME]
                       [--availability-zone ZONE] [--wait 10m] [--poll 5s] [--dry-run]

Deletes the EBS volumes the cluster's volume driver created at run time, and
nothing else: Flocker's volumes are found by their flocker-cluster-id tag,
REX-Ray's by their Name tag (the Docker volume name, which contains the
cluster id). Attached volumes are waited for, since they detach when their
instance terminates; volumes still attached after --wait are listed and the
exit status is 1.

Options:
    --region REGION               AWS region of the stack.
    --cluster-id ID               The stack's cluster id (stack output clusterId).
    --driver flocker|rexray       The stack's volume driver (stack output volumeDriver).
    --flocker-cluster-uuid UUID   flocker: the Flocker cluster UUID.
    --volume-name NAME            rexray: the Docker volume name (stack output volumeName).
    --availability-zone ZONE      Only volumes in this zone (stack output availabilityZone).
    --wait DURATION               How long to wait for attached volumes (default %s).
    --poll DURATION               How often to re-read attached volumes (default %s).
    --dry-run                     List what would be deleted; delete nothing, wait for nothing.

Each option can come from the environment instead, so a Pulumi
local.Command can pass it: MHA_REGION (then AWS_REGION), MHA_CLUSTER_ID,
MHA_VOLUME_DRIVER, MHA_FLOCKER_CLUSTER_UUID, MHA_VOLUME_NAME,
MHA_AVAILABILITY_ZONE, MHA_WAIT, MHA_DRY_RUN=true. A flag wins over its
variable. AWS credentials come from the SDK's usual chain (AWS_PROFILE,
AWS_ACCESS_KEY_ID, instance role...); AWS_ENDPOINT_URL_EC2 overrides the
endpoint.

The credentials need ec2:DescribeVolumes and ec2:DeleteVolume.
`

const progName = "cleanup-volumes"

// connectFunc returns the EC2 API for a region.
type connectFunc func(ctx context.Context, region string) (ec2ops.EC2API, error)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, ec2ops.Connect))
}

type options struct {
	region, clusterID, driver, flockerUUID, volumeName, zone string
	wait, poll                                               time.Duration
	dryRun                                                   bool
}

// errorf prints a message prefixed with the program name and returns the
// failure exit status.
func errorf(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, progName+": "+format+"\n", args...)
	return 1
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, connect connectFunc) int {
	opts, err := parse(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	sel := ec2ops.VolumeSelector{Driver: opts.driver, ClusterID: opts.clusterID,
		FlockerClusterUUID: opts.flockerUUID, VolumeName: opts.volumeName, AvailabilityZone: opts.zone}
	if _, err := sel.Filters(); err != nil {
		return errorf(stderr, "%v\n(run %s -h for the options)", err, progName)
	}
	api, err := connect(ctx, opts.region)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	mode := ""
	if opts.dryRun {
		mode = " (dry run: nothing is deleted)"
	}
	fmt.Fprintf(stdout, "%s: cleaning up the run-time %s volumes of cluster %s in %s%s\n", progName, opts.driver, opts.clusterID, opts.region, mode)
	rep, err := ec2ops.New(api).CleanupVolumes(ctx, sel, ec2ops.CleanupOptions{Wait: opts.wait, Poll: opts.poll, DryRun: opts.dryRun, Progress: stdout})
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	switch {
	case opts.dryRun:
		fmt.Fprintf(stdout, "%s: dry run: would delete %d, %d attached, %d other\n", progName, len(rep.WouldDelete), len(rep.StillAttached), len(rep.Skipped))
	default:
		fmt.Fprintf(stdout, "%s: deleted %d of %d volumes found: %s\n", progName, len(rep.Deleted), len(rep.Found), orNone(rep.Deleted))
	}
	return 0
}

func parse(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet(progName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, usage, facts.VolumeCleanupWait, ec2ops.DefaultCleanupPoll) }
	fs.StringVar(&o.region, "region", "", "")
	fs.StringVar(&o.clusterID, "cluster-id", "", "")
	fs.StringVar(&o.driver, "driver", "", "")
	fs.StringVar(&o.flockerUUID, "flocker-cluster-uuid", "", "")
	fs.StringVar(&o.volumeName, "volume-name", "", "")
	fs.StringVar(&o.zone, "availability-zone", "", "")
	fs.DurationVar(&o.wait, "wait", facts.VolumeCleanupWait, "")
	fs.DurationVar(&o.poll, "poll", ec2ops.DefaultCleanupPoll, "")
	fs.BoolVar(&o.dryRun, "dry-run", false, "")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (run %s -h for the options)", fs.Arg(0), progName)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fromEnv := func(dst *string, flagName string, vars ...string) {
		for _, v := range vars {
			if *dst != "" || set[flagName] {
				return
			}
			*dst = strings.TrimSpace(getenv(v))
		}
	}
	fromEnv(&o.region, "region", "MHA_REGION", "AWS_REGION")
	fromEnv(&o.clusterID, "cluster-id", "MHA_CLUSTER_ID")
	fromEnv(&o.driver, "driver", "MHA_VOLUME_DRIVER")
	fromEnv(&o.flockerUUID, "flocker-cluster-uuid", "MHA_FLOCKER_CLUSTER_UUID")
	fromEnv(&o.volumeName, "volume-name", "MHA_VOLUME_NAME")
	fromEnv(&o.zone, "availability-zone", "MHA_AVAILABILITY_ZONE")
	if v := strings.TrimSpace(getenv("MHA_WAIT")); v != "" && !set["wait"] {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return o, fmt.Errorf("MHA_WAIT=%q is not a duration such as 10m", v)
		}
		o.wait = d
	}
	if v := strings.TrimSpace(getenv("MHA_DRY_RUN")); v != "" && !set["dry-run"] {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, fmt.Errorf("MHA_DRY_RUN=%q is not true or false", v)
		}
		o.dryRun = b
	}
	if o.wait < 0 || o.poll <= 0 {
		return o, fmt.Errorf("--wait %s and --poll %s must not be negative, and --poll must be positive", o.wait, o.poll)
	}
	var missing []string
	for _, m := range []struct{ value, name string }{{o.region, "--region (or MHA_REGION)"},
		{o.clusterID, "--cluster-id (or MHA_CLUSTER_ID)"}, {o.driver, "--driver (or MHA_VOLUME_DRIVER)"}} {
		if m.value == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return o, fmt.Errorf("missing %s: take them from the stack outputs (pulumi stack output --json)", strings.Join(missing, ", "))
	}
	return o, nil
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
