// Command deploy-app deploys a Marathon app definition (Moby Counter) and
// waits until its task runs, or deletes the app. The Pulumi program runs it
// from a pulumi-command local.Command; its stdout is one JSON object the
// program turns into stack outputs.
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
	"syscall"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/opflags"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

const usage = `Usage:
    deploy-app --stack NAME [--cwd DIR] [--manifest FILE] [--timeout D] [--dry-run]
    deploy-app [--marathon URLS] [--manifest FILE] [--timeout D] [--dry-run]
    deploy-app --delete [--stack NAME | --app-id ID | --manifest FILE] [--skip-if-unreachable] [--timeout D] [--dry-run]

With --stack (or --outputs FILE), deploy-app renders the app definition
itself as the Pulumi program does (internal/manifest): the base is --manifest
FILE if given, else the stack's appManifest, else apps/moby-counter.json; the
stack sets its image, host port, volume driver, volume and zone, and its
Marathon URLs are the stack's. Without a stack it posts the manifest it is
given, and refuses the repository's template (its zone constraint still
"%s"): render it with --stack.

Deploy: wait until Marathon answers, PUT the app definition (create or
update; nothing if Marathon already has it), wait for the deployment and a
healthy task, then print one JSON object on stdout:
    {"appId":"...","version":"...","taskHost":"...","taskId":"...","changed":true}

Delete: DELETE the app (a missing app is fine) and wait for the deployment.

Every master runs a Marathon, and any of them answers for the leader. With
several URLs the first is asked first; one that does not answer, or answers
5xx (no leader during an election), sends the next request to the next.

Options:
    --marathon URLS         Every master's Marathon base URL, comma-separated
                            (default: the stack's, else $MHA_MARATHON_URL), e.g.
                            http://10.0.1.10:8080,http://10.0.1.11:8080.
    --manifest FILE         App definition JSON; "-" reads stdin (default "-").
    --app-id ID             With --delete, the app to delete instead of the
                            manifest's id.
    --delete                Delete the app instead of deploying it.
    --timeout D             Overall deadline (default 20m0s: Marathon's API
                            appears only once the master has booted).
    --skip-if-unreachable   With --delete: if no Marathon answers within the
                            timeout, warn and exit 0 (the masters are gone).
    --poll-interval D       How often to poll deployments and tasks, and the
                            first wait between retries (default 2s).
    --http-timeout D        Deadline of each request (default 10s).

Boot progress (deploy): while it waits, deploy-app reads every node's serial
console through EC2 GetConsoleOutput and prints its current boot step and
elapsed time; a boot that FAILED ends the deploy at once with the failed
step and the console's last lines. It checks the AWS credentials once first
(STS GetCallerIdentity): a missing or expired one is named with its fix and
the deploy goes on without boot progress, as Marathon needs no AWS.
    --instances LIST        NODE=INSTANCE-ID,... (default $MHA_BOOT_INSTANCES),
                            e.g. master=i-0abc,agent-1=i-0def. Without it
                            (and without $MHA_BOOT_AGENTS_OF) no boot
                            progress is shown.
    $MHA_BOOT_AGENTS_OF     A cluster id (stack output clusterId) whose Auto
                            Scaling group's agents are watched too, found by
                            the cluster's tags and named agent@INSTANCE-ID
                            (the Pulumi program sets it for REX-Ray stacks).
    --region, --aws-profile The instances' region and the AWS profile of the
                            EC2 calls (shared flags below).
    --volume-driver D       The stack's volume driver, whose boot budget each
                            node's steps are held against (empty: none shown).
    --console-interval D    How often each console is read (default 20s).
    --console-lines N       Console lines shown for a failed boot (default 20).
    --stall-warning D       Warn when an unfinished boot's console has not
                            changed for this long (default 10m0s). If the
                            deploy gives up, it says where each unfinished
                            boot stood.

Progress goes to stderr. --dry-run prints the request that would be made
first and exits, without contacting Marathon.`

const program = "deploy-app"

// The environment the Pulumi program gives deploy-app for the boot watch
// (components/app.go).
const (
	envInstances = "MHA_BOOT_INSTANCES"
	envRegion    = "MHA_REGION"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errorf writes an error prefixed with the program name to stderr and
// returns the exit status 1, which main passes to os.Exit.
func errorf(stderr io.Writer, format string, v ...any) int {
	fmt.Fprintf(stderr, program+": "+format+"\n", v...)
	return 1
}

type options struct {
	marathonURL, manifestPath, appID string
	del, dryRun, skipUnreachable     bool
	timeout, poll, httpTimeout       time.Duration
	// rendered is the app definition rendered from the stack (--stack,
	// --outputs); nil: read --manifest.
	rendered []byte

	// The boot watch (boot.go).
	instances, region, awsProfile, driver string
	consoleInterval                       time.Duration
	consoleLines                          int
	stallWarning                          time.Duration
}

// pulumi reads the stack's outputs and config for --stack.
var pulumi opflags.PulumiFunc = stackoutputs.RunPulumi

// whoami checks the AWS credentials once before the boot watch's EC2 calls.
var whoami = ec2ops.Whoami

// credentialsForBootWatch checks the caller once through STS before the
// boot watch reads any console. Only the boot progress needs AWS: posting to
// Marathon does not, so a missing or expired credential is named once, with
// its fix, and the deploy goes on without boot progress (ok false, msg the
// line to print).
func credentialsForBootWatch(ctx context.Context, o options) (msg string, ok bool) {
	_, err := whoami(ctx, o.region, o.awsProfile)
	if err == nil {
		return "", true
	}
	var ce *ec2ops.CredentialError
	if errors.As(err, &ce) {
		return fmt.Sprintf("%s: no boot progress is shown (it reads the nodes' consoles through EC2): %v; deploying to Marathon needs no AWS credentials, so the deploy goes on", program, err), false
	}
	return fmt.Sprintf("%s: cannot see the nodes' consoles, so no boot progress is shown: %v", program, err), false
}

// newFlags is the tool's flag set (opflags.Tools["deploy-app"]).
func newFlags(stderr io.Writer, getenv func(string) string) *opflags.FlagSet {
	fs, _ := flagsOf(stderr, getenv)
	return fs
}

func flagsOf(stderr io.Writer, getenv func(string) string) (*opflags.FlagSet, *options) {
	var o options
	fs := opflags.New(program, opflags.Tools[program], fmt.Sprintf(usage, templateZone()), stderr, getenv)
	fs.StringVar(&o.marathonURL, "marathon", "", "")
	fs.StringVar(&o.manifestPath, "manifest", "-", "")
	fs.StringVar(&o.appID, "app-id", "", "")
	fs.BoolVar(&o.del, "delete", false, "")
	fs.BoolVar(&o.skipUnreachable, "skip-if-unreachable", false, "")
	fs.DurationVar(&o.timeout, "timeout", facts.AppDeployTimeout, "")
	fs.DurationVar(&o.poll, "poll-interval", marathon.DefaultPollInterval, "")
	fs.DurationVar(&o.httpTimeout, "http-timeout", marathon.DefaultHTTPTimeout, "")
	fs.StringVar(&o.instances, "instances", "", "")
	fs.DurationVar(&o.consoleInterval, "console-interval", defaultConsoleInterval, "")
	fs.IntVar(&o.consoleLines, "console-lines", defaultConsoleLines, "")
	fs.DurationVar(&o.stallWarning, "stall-warning", facts.BootStallWarning, "")
	return fs, &o
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, o := flagsOf(stderr, os.Getenv)
	err := fs.Parse(args)
	if err == nil {
		err = fs.NoArgs()
	}
	if err == nil && o.skipUnreachable && !o.del {
		err = opflags.Usagef("--skip-if-unreachable only applies with --delete")
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			errorf(stderr, "%v", err)
		}
		return opflags.ExitCode(err)
	}
	if !fs.IsSet("instances") {
		o.instances = os.Getenv(envInstances)
	}
	if fs.HasStack() {
		if err := fromStack(context.Background(), fs, o, stdin); err != nil {
			errorf(stderr, "%v", err)
			return opflags.ExitCode(err)
		}
	}
	o.region, o.awsProfile, o.driver, o.dryRun = fs.Region, fs.AWSProfile, fs.VolumeDriver, fs.DryRun
	if o.marathonURL == "" {
		errorf(stderr, "no Marathon URL: pass --stack NAME, or --marathon http://MASTER:%d (every master's, comma-separated), or set MHA_MARATHON_URL", facts.MarathonPort)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	if o.del {
		return runDelete(ctx, o, stdin, stdout, stderr)
	}
	return runApply(ctx, o, stdin, stdout, stderr)
}

func runApply(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	stderr = &lockedWriter{w: stderr}
	doc := o.rendered
	if doc == nil {
		var err error
		if doc, err = readManifest(o.manifestPath, stdin); err != nil {
			return errorf(stderr, "%v", err)
		}
		if err := checkRendered(doc); err != nil {
			return errorf(stderr, "%s: %v", source(o.manifestPath), err)
		}
	}
	if err := manifest.Validate(doc); err != nil {
		return errorf(stderr, "%s: %v", source(o.manifestPath), err)
	}
	if o.dryRun {
		req, err := marathon.ApplyRequest(o.marathonURL, doc)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		fmt.Fprintf(stdout, "%s %s\n\n%s", req.Method, req.URL, req.Body)
		return 0
	}
	c, err := newClient(o, stderr)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	ctx, stopWatch := watchBoot(ctx, *o, stderr)
	defer stopWatch()
	if _, err := c.WaitReady(ctx); err != nil {
		if bf := bootError(ctx); bf != nil {
			return errorf(stderr, "%v", bf)
		}
		return errorf(stderr, "%v%s", err, stopWatch())
	}
	res, err := c.Apply(ctx, doc)
	if err != nil {
		if bf := bootError(ctx); bf != nil {
			return errorf(stderr, "deploying %s: %v", res.AppID, bf)
		}
		// An agent that never booted leaves the app without offers.
		return errorf(stderr, "deploying %s: %v%s", res.AppID, err, stopWatch())
	}
	return printJSON(stdout, stderr, struct {
		AppID    string `json:"appId"`
		Version  string `json:"version"`
		TaskHost string `json:"taskHost"`
		TaskID   string `json:"taskId"`
		Changed  bool   `json:"changed"`
	}{res.AppID, res.Version, res.TaskHost, res.TaskID, res.Changed})
}

func runDelete(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	id := o.appID
	if id == "" {
		doc, err := readManifest(o.manifestPath, stdin)
		if err != nil {
			return errorf(stderr, "%v (or pass --app-id)", err)
		}
		if id, err = manifest.AppID(doc); err != nil {
			return errorf(stderr, "%s: %v (or pass --app-id)", source(o.manifestPath), err)
		}
	}
	if o.dryRun {
		req, err := marathon.DeleteRequest(o.marathonURL, id)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		fmt.Fprintf(stdout, "%s %s\n", req.Method, req.URL)
		return 0
	}
	c, err := newClient(o, stderr)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	type deleted struct {
		AppID   string `json:"appId"`
		Deleted bool   `json:"deleted"`
		Skipped bool   `json:"skipped"`
	}
	if _, err := c.WaitReady(ctx); err != nil {
		if o.skipUnreachable && ctx.Err() != nil {
			fmt.Fprintf(stderr, "%s: warning: not deleting %s: no Marathon answered within %s (--skip-if-unreachable): %v\n", program, id, o.timeout, err)
			return printJSON(stdout, stderr, deleted{AppID: id, Skipped: true})
		}
		return errorf(stderr, "%v", err)
	}
	if err := c.Delete(ctx, id); err != nil {
		return errorf(stderr, "deleting %s: %v", id, err)
	}
	return printJSON(stdout, stderr, deleted{AppID: id, Deleted: true})
}

func newClient(o *options, stderr io.Writer) (*marathon.Client, error) {
	return marathon.New(o.marathonURL,
		marathon.WithProgress(stderr),
		marathon.WithHTTPTimeout(o.httpTimeout),
		marathon.WithPollInterval(o.poll),
		marathon.WithBackoff(o.poll/2, max(o.poll/2, marathon.DefaultBackoffMax)))
}

func readManifest(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		doc, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading the manifest from stdin: %w", err)
		}
		if len(doc) == 0 {
			return nil, errors.New("the manifest on stdin is empty: pass --manifest FILE or pipe the app definition")
		}
		return doc, nil
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the manifest: %w", err)
	}
	return doc, nil
}

// source names where the manifest came from, for error messages.
func source(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

func printJSON(stdout, stderr io.Writer, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return errorf(stderr, "encoding the result: %v", err)
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}
