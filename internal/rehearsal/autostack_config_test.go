//go:build unix

package rehearsal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// fakeUpPulumi plays the pulumi CLI's part in an up as it touches the
// stack's settings file (pulumi/pulumi v3.259.0): `stack init` saves
// Pulumi.<stack>.yaml, with the passphrase's encryptionsalt, in the project
// directory, its working directory (pkg/cmd/pulumi/stack/io.go,
// CreateStack: SaveProjectStack with no --config-file); `config set-all`,
// `up` and `destroy` read and write the file --config-file names, else the
// project directory's (SaveProjectStack, LoadProjectStack). An up whose
// settings lack the salt fails, as the passphrase manager cannot decrypt.
const fakeUpPulumi = `#!/bin/sh
d="$FAKE_PULUMI_DIR"
echo "$*" >> "$d/calls"
stack=""; file=""; prev=""
for a in "$@"; do
  case "$prev" in --stack) stack="$a" ;; --config-file) file="$a" ;; esac
  case "$a" in --config-file=*) file="${a#--config-file=}" ;; esac
  prev="$a"
done
case " $* " in
*" version "*) echo v3.263.0 ;;
*" stack select "*)
  [ -f "$d/stack-$stack" ] || { echo "error: no stack named '$stack' found" >&2; exit 255; } ;;
*" stack init "*)
  stack=$(echo "$*" | sed 's/.* stack init \([^ ]*\).*/\1/')
  : > "$d/stack-$stack"
  [ -f "Pulumi.$stack.yaml" ] || echo "encryptionsalt: v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy" > "Pulumi.$stack.yaml" ;;
*" config set-all "*)
  [ -n "$file" ] || file="Pulumi.$stack.yaml"
  echo "config:" >> "$file" ;;
*" up "*)
  [ -n "$file" ] || file="Pulumi.$stack.yaml"
  grep -q encryptionsalt "$file" 2>/dev/null || { echo "error: passphrase salt missing from $file" >&2; exit 1; } ;;
*" destroy "*)
  [ -n "$file" ] || file="Pulumi.$stack.yaml"
  grep -q encryptionsalt "$file" 2>/dev/null || { echo "error: passphrase salt missing from $file" >&2; exit 1; } ;;
*" stack rm "*) rm -f "Pulumi.$stack.yaml" "$d/stack-$stack" ;;
*" stack output "*) cat "$d/outputs.json" ;;
*" stack history "*"--show-secrets"*)
  [ -f "Pulumi.$stack.yaml" ] || echo "encryptionsalt: v1:bmV3:v1:bm9uY2U=:Y2lwaGVy" > "Pulumi.$stack.yaml"
  echo '[]' ;;
*" stack history "*) echo '[]' ;;
*) echo "fake pulumi: unexpected command: $*" >&2; exit 2 ;;
esac
exit 0
`

// TestUpLeavesNoFileInTheProject: the stack's settings file ends in the
// run directory, every command after `stack init` is pointed at it, and
// nothing is left in the project directory after the up, the destroy and
// the removal.
func TestUpLeavesNoFileInTheProject(t *testing.T) {
	fake := t.TempDir()
	if err := os.WriteFile(filepath.Join(fake, "pulumi"), []byte(fakeUpPulumi), 0o755); err != nil {
		t.Fatal(err)
	}
	outputs := `{"marathonUrl":"http://10.0.1.10:8080","appUrl":"http://elb","region":"us-east-1","clusterId":"c0ffee12",
		"stack":"s","appId":"/marathon-ha/moby-counter","failoverSettings":{}}`
	if err := os.WriteFile(filepath.Join(fake, "outputs.json"), []byte(outputs), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fake+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_PULUMI_DIR", fake)
	o := autoOptions(t, t.TempDir(), map[string]string{"PULUMI_HOME": t.TempDir()})
	before, _ := filepath.Glob(filepath.Join(o.ProjectDir, "*"))
	s, err := rehearsal.NewAutoStack(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Up(context.Background()); err != nil {
		calls, _ := os.ReadFile(filepath.Join(fake, "calls"))
		ls, _ := filepath.Glob(filepath.Join(o.ProjectDir, "*"))
		t.Fatalf("%v\ncalls:\n%s\nproject: %v", err, calls, ls)
	}
	after, _ := filepath.Glob(filepath.Join(o.ProjectDir, "*"))
	if len(after) != len(before) {
		t.Errorf("the project directory gained files after the up: %v, was %v", after, before)
	}
	raw, err := os.ReadFile(s.ConfigFile())
	if err != nil || !strings.Contains(string(raw), "encryptionsalt") || !strings.Contains(string(raw), "config:") {
		t.Errorf("the run directory's settings file %s: %q, %v", s.ConfigFile(), raw, err)
	}
	if filepath.Dir(s.ConfigFile()) != s.Info().RunDir {
		t.Errorf("settings file %s is not in the run directory %s", s.ConfigFile(), s.Info().RunDir)
	}
	if err := s.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after, _ = filepath.Glob(filepath.Join(o.ProjectDir, "*")); len(after) != len(before) {
		t.Errorf("the project directory gained files after the destroy: %v, was %v", after, before)
	}
	if _, err := os.Stat(s.Info().RunDir); !os.IsNotExist(err) {
		t.Errorf("the run directory is still there: %v", err)
	}
	calls, _ := os.ReadFile(filepath.Join(fake, "calls"))
	for _, want := range []string{"config set-all --stack " + s.Name() + " --config-file " + s.ConfigFile(),
		"up --yes --skip-preview --exec-kind=auto.local --config-file=" + s.ConfigFile(), "destroy --config-file=" + s.ConfigFile() + " --exec-kind=auto.local --yes --skip-preview"} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("pulumi was not asked %q; calls:\n%s", want, calls)
		}
	}
}
