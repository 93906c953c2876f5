package rehearsal

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// DefaultGrace is how long a cancelled pulumi command may take to stop.
// On SIGINT pulumi stops starting new resource operations and waits for
// those in flight ("received SIGINT; cancelling gracefully"), e.g. an EC2
// instance being created; killing it instead leaves the stack locked with
// pending operations whose resources the state does not know. Two minutes
// covers an instance create or delete.
const DefaultGrace = 2 * time.Minute

// gracefulCommand runs the pulumi CLI as the Automation API's own
// PulumiCommand does (sdk/go/auto/cmd.go: --non-interactive,
// PULUMI_AUTOMATION_API=true, SIGINT on cancel) with two differences:
//   - pulumi runs in a process group of its own, so a Ctrl-C at the
//     terminal reaches only the rehearsal, which decides what to stop: the
//     second Ctrl-C must not interrupt the final destroy.
//   - after the SIGINT pulumi gets grace to finish in-flight operations,
//     where the SDK kills it after 10 s (cmd.WaitDelay).
type gracefulCommand struct {
	command string
	version semver.Version
	grace   time.Duration
}

// newGracefulCommand finds pulumi on PATH and checks its version as the
// SDK does (auto.NewPulumiCommand runs `pulumi version`).
func newGracefulCommand(grace time.Duration) (*gracefulCommand, error) {
	base, err := auto.NewPulumiCommand(nil)
	if err != nil {
		return nil, err
	}
	return &gracefulCommand{command: "pulumi", version: base.Version(), grace: grace}, nil
}

// Version implements auto.PulumiCommand.
func (p *gracefulCommand) Version() semver.Version { return p.version }

// Run implements auto.PulumiCommand.
func (p *gracefulCommand) Run(ctx context.Context, workdir string, stdin io.Reader,
	additionalOutput, additionalErrorOutput []io.Writer, additionalEnv []string, args ...string,
) (string, string, int, error) {
	return runGraceful(ctx, p.command, p.grace, workdir, stdin, additionalOutput, additionalErrorOutput, additionalEnv, args...)
}

// unknownExitCode is what the SDK reports when a command did not exit.
const unknownExitCode = -2

func runGraceful(ctx context.Context, command string, grace time.Duration, workdir string, stdin io.Reader,
	additionalOutput, additionalErrorOutput []io.Writer, additionalEnv []string, args ...string,
) (string, string, int, error) {
	if !slices.Contains(args, "--non-interactive") {
		args = append([]string{"--non-interactive"}, args...)
	}
	cmd := exec.CommandContext(ctx, command, args...)
	cmd.Dir = workdir
	cmd.Env = append(append(os.Environ(), additionalEnv...), "PULUMI_AUTOMATION_API=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = io.MultiWriter(append(additionalOutput, &stdout)...)
	cmd.Stderr = io.MultiWriter(append(additionalErrorOutput, &stderr)...)
	cmd.Stdin = stdin
	ownProcessGroup(cmd)
	cmd.Cancel = func() error {
		if err := interrupt(cmd.Process); err != nil {
			_ = cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = grace
	code := unknownExitCode
	err := cmd.Run()
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err == nil {
		code = 0
	}
	return stdout.String(), stderr.String(), code, err
}
