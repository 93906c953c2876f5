package stackoutputs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

func TestSourceLoad(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "outputs.json")
	if err := os.WriteFile(file, []byte(stackOutputJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	var asked []string
	pulumi := func(_ context.Context, args []string) ([]byte, error) {
		asked = args
		return []byte(stackOutputJSON), nil
	}
	for name, s := range map[string]stackoutputs.Source{
		"file":   {File: file},
		"stdin":  {File: "-", Stdin: strings.NewReader(stackOutputJSON)},
		"pulumi": {Stack: "dev", Cwd: "/proj", Pulumi: pulumi},
	} {
		o, err := s.Load(ctx)
		if err != nil || o.Stack == "" {
			t.Errorf("%s: %+v, %v", name, o, err)
		}
	}
	if want := []string{"stack", "output", "--json", "--show-secrets", "--stack", "dev", "--cwd", "/proj"}; !slices.Equal(asked, want) {
		t.Errorf("pulumi asked %q, want %q", asked, want)
	}

	if _, err := (stackoutputs.Source{File: filepath.Join(t.TempDir(), "missing.json")}).Load(ctx); err == nil || !strings.Contains(err.Error(), "reading the stack outputs") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := (stackoutputs.Source{File: "-", Stdin: strings.NewReader("{}")}).Load(ctx); err == nil || !strings.Contains(err.Error(), "stack outputs from stdin") {
		t.Errorf("empty outputs: %v", err)
	}
	failing := func(context.Context, []string) ([]byte, error) { return nil, errors.New("no stack named dev") }
	if _, err := (stackoutputs.Source{Stack: "dev", Pulumi: failing}).Load(ctx); err == nil || !strings.Contains(err.Error(), "no stack named dev") {
		t.Errorf("pulumi failing: %v", err)
	}
}

// RunPulumi runs the CLI found on PATH: a stand-in script here.
func TestRunPulumiRunsTheCLI(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\nif [ \"$*\" = \"stack output --json --show-secrets --stack dev\" ]; then echo '{\"ok\":1}'; else echo \"bad args: $*\" >&2; exit 3; fi\n"
	if err := os.WriteFile(filepath.Join(dir, "pulumi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	out, err := stackoutputs.RunPulumi(context.Background(), []string{"stack", "output", "--json", "--show-secrets", "--stack", "dev"})
	if err != nil || strings.TrimSpace(string(out)) != `{"ok":1}` {
		t.Errorf("out %q, err %v", out, err)
	}
	_, err = stackoutputs.RunPulumi(context.Background(), []string{"stack", "output", "--stack", "nope"})
	if err == nil || !strings.Contains(err.Error(), "bad args") {
		t.Errorf("a failing pulumi: err = %v, want its stderr", err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err = stackoutputs.RunPulumi(context.Background(), []string{"stack", "output"})
	if err == nil || !strings.Contains(err.Error(), "not on PATH") || !strings.Contains(err.Error(), "--outputs") {
		t.Errorf("no pulumi: err = %v", err)
	}
}
