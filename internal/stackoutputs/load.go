package stackoutputs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Source is where an operator tool reads a stack's outputs: a file saved
// from `pulumi stack output --json` ("-" for standard input), or the pulumi
// CLI itself.
type Source struct {
	File  string // empty: ask pulumi
	Stdin io.Reader
	Stack string
	Cwd   string // the project directory for pulumi, if not the current one
	// Pulumi runs the pulumi CLI with args and returns its standard output;
	// nil means RunPulumi.
	Pulumi func(ctx context.Context, args []string) ([]byte, error)
}

// RunPulumi runs the pulumi CLI on PATH and returns its standard output; an
// error carries its standard error, or says how to do without the CLI.
func RunPulumi(ctx context.Context, args []string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "pulumi", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("running pulumi %s: the pulumi CLI is not on PATH: install it, or pass --outputs FILE", strings.Join(args, " "))
		}
		return nil, fmt.Errorf("running pulumi %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Load reads and decodes the outputs, naming where they came from in any
// error.
func (s Source) Load(ctx context.Context) (Outputs, error) {
	if s.File != "" {
		r, name := s.Stdin, "stdin"
		if s.File != "-" {
			f, err := os.Open(s.File)
			if err != nil {
				return Outputs{}, fmt.Errorf("reading the stack outputs: %w", err)
			}
			defer f.Close()
			r, name = f, s.File
		}
		outs, err := Decode(r)
		if err != nil {
			return outs, fmt.Errorf("stack outputs from %s: %w", name, err)
		}
		return outs, nil
	}
	args := []string{"stack", "output", "--json", "--show-secrets", "--stack", s.Stack}
	if s.Cwd != "" {
		args = append(args, "--cwd", s.Cwd)
	}
	pulumi := s.Pulumi
	if pulumi == nil {
		pulumi = RunPulumi
	}
	raw, err := pulumi(ctx, args)
	if err != nil {
		return Outputs{}, err
	}
	outs, err := Decode(bytes.NewReader(raw))
	if err != nil {
		return outs, fmt.Errorf("outputs of stack %s: %w", s.Stack, err)
	}
	return outs, nil
}
