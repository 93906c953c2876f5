package stackoutputs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
)

// Source is where an operator tool reads a stack's outputs: a file saved
// from `pulumi stack output --json` ("-" for standard input), or the pulumi
// CLI itself.
type Source struct {
	File  string // empty: ask pulumi
	Stdin io.Reader
	Stack string
	Cwd   string // the project directory for pulumi, if not the current one
	// Pulumi runs the pulumi CLI with args and returns its standard output.
	Pulumi func(ctx context.Context, args []string) ([]byte, error)
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
	raw, err := s.Pulumi(ctx, args)
	if err != nil {
		return Outputs{}, err
	}
	outs, err := Decode(bytes.NewReader(raw))
	if err != nil {
		return outs, fmt.Errorf("outputs of stack %s: %w", s.Stack, err)
	}
	return outs, nil
}
