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

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
)

const usage = `Usage:
    deploy-app [--marathon URLS] [--manifest FILE] [--timeout D] [--dry-run]
    deploy-app --delete [--app-id ID | --manifest FILE] [--skip-if-unreachable] [--timeout D] [--dry-run]

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
                            (default $MARATHON_URL), e.g.
                            http://<master1>:8080,http://<master2>:8080.
    --manifest FILE         App definition JSON; "-" reads stdin (default "-").
    --app-id ID             With --delete, the app to delete instead of the
                            manifest's id.
    --delete                Delete the app instead of deploying it.
    --dry-run               Print the request that would be made first and
                            exit, without contacting Marathon.
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
step and the console's last lines.
    --instances LIST        NODE=INSTANCE-ID,... (default $MHA_BOOT_INSTANCES),
                            e.g. master=i-0abc,agent-1=i-0def. Without it no
                            boot progress is shown.
    --region R              The instances' region (default $MHA_AWS_REGION,
                            else $AWS_REGION).
    --aws-profile P         AWS profile for the EC2 calls (default
                            $MHA_AWS_PROFILE; empty: the SDK's default chain).
    --volume-driver D       The stack's volume driver, whose boot budget each
                            node's steps are held against (default
                            $MHA_VOLUME_DRIVER; empty: no budget shown).
    --console-interval D    How often each console is read (default 20s).
    --console-lines N       Console lines shown for a failed boot (default 20).
    --stall-warning D       Warn when an unfinished boot's console has not
                            changed for this long (default 10m0s). If the
                            deploy gives up, it says where each unfinished
                            boot stood.

Progress goes to stderr.`

const program = "deploy-app"

// The environment the Pulumi program gives deploy-app for the boot watch
// (components/app.go).
const (
	envInstances = "MHA_BOOT_INSTANCES"
	envRegion    = "MHA_AWS_REGION"
	envProfile   = "MHA_AWS_PROFILE"
	envDriver    = "MHA_VOLUME_DRIVER"
)

// firstEnv is the first of the variables that is set.
func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

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

	// The boot watch (boot.go).
	instances, region, awsProfile, driver string
	consoleInterval                       time.Duration
	consoleLines                          int
	stallWarning                          time.Duration
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet(program, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	fs.StringVar(&o.marathonURL, "marathon", os.Getenv("MARATHON_URL"), "")
	fs.StringVar(&o.manifestPath, "manifest", "-", "")
	fs.StringVar(&o.appID, "app-id", "", "")
	fs.BoolVar(&o.del, "delete", false, "")
	fs.BoolVar(&o.dryRun, "dry-run", false, "")
	fs.BoolVar(&o.skipUnreachable, "skip-if-unreachable", false, "")
	fs.DurationVar(&o.timeout, "timeout", facts.AppDeployTimeout, "")
	fs.DurationVar(&o.poll, "poll-interval", marathon.DefaultPollInterval, "")
	fs.DurationVar(&o.httpTimeout, "http-timeout", marathon.DefaultHTTPTimeout, "")
	fs.StringVar(&o.instances, "instances", os.Getenv(envInstances), "")
	fs.StringVar(&o.region, "region", firstEnv(envRegion, "AWS_REGION"), "")
	fs.StringVar(&o.awsProfile, "aws-profile", os.Getenv(envProfile), "")
	fs.StringVar(&o.driver, "volume-driver", os.Getenv(envDriver), "")
	fs.DurationVar(&o.consoleInterval, "console-interval", defaultConsoleInterval, "")
	fs.IntVar(&o.consoleLines, "console-lines", defaultConsoleLines, "")
	fs.DurationVar(&o.stallWarning, "stall-warning", facts.BootStallWarning, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return errorf(stderr, "unexpected arguments %q; see --help", fs.Args())
	}
	if o.marathonURL == "" {
		return errorf(stderr, "no Marathon URL: pass --marathon http://<master>:%d (every master's, comma-separated) or set MARATHON_URL", facts.MarathonPort)
	}
	if o.skipUnreachable && !o.del {
		return errorf(stderr, "--skip-if-unreachable only applies with --delete")
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

func runApply(ctx context.Context, o options, stdin io.Reader, stdout, stderr io.Writer) int {
	stderr = &lockedWriter{w: stderr}
	doc, err := readManifest(o.manifestPath, stdin)
	if err != nil {
		return errorf(stderr, "%v", err)
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
	ctx, stopWatch := watchBoot(ctx, o, stderr)
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

func runDelete(ctx context.Context, o options, stdin io.Reader, stdout, stderr io.Writer) int {
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

func newClient(o options, stderr io.Writer) (*marathon.Client, error) {
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
