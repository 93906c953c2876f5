package opflags

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/operator-flags.md")

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestEnvironmentAndPrecedence(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		env        func(string) string
		wantRegion string
		wantWarn   bool
	}{
		{"flag wins", []string{"--region", "eu-west-1"}, env("MHA_REGION", "us-east-1"), "eu-west-1", false},
		{"MHA_REGION", nil, env("MHA_REGION", "us-east-1", "AWS_REGION", "ap-south-1"), "us-east-1", false},
		{"deprecated MHA_AWS_REGION before AWS_REGION", nil, env("MHA_AWS_REGION", "us-west-2", "AWS_REGION", "ap-south-1"), "us-west-2", true},
		{"AWS_REGION", nil, env("AWS_REGION", "ap-south-1", "AWS_DEFAULT_REGION", "sa-east-1"), "ap-south-1", false},
		{"AWS_DEFAULT_REGION", nil, env("AWS_DEFAULT_REGION", "sa-east-1"), "sa-east-1", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			fs := New("tool", Region, "usage", &stderr, tc.env)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if fs.Region != tc.wantRegion {
				t.Errorf("region %q, want %q", fs.Region, tc.wantRegion)
			}
			if got := strings.Contains(stderr.String(), "MHA_AWS_REGION is deprecated"); got != tc.wantWarn {
				t.Errorf("deprecation line %v, want %v: %q", got, tc.wantWarn, stderr.String())
			}
		})
	}
}

func TestDeprecatedSpelling(t *testing.T) {
	var stderr bytes.Buffer
	fs := New("tool", AWSProfile|DryRun, "usage", &stderr, nil)
	fs.Deprecated("profile", "aws-profile")
	fs.Deprecated("n", "dry-run")
	if err := fs.Parse([]string{"--profile", "ops", "-n"}); err != nil {
		t.Fatal(err)
	}
	if fs.AWSProfile != "ops" || !fs.DryRun {
		t.Errorf("values %+v", fs.Values)
	}
	if !fs.IsSet("aws-profile") || !fs.IsSet("dry-run") {
		t.Error("a deprecated spelling does not count as the flag given")
	}
	for _, want := range []string{"--profile is deprecated", "use --aws-profile", "-n is deprecated", "use --dry-run"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr.String(), want)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"--stack", "a", "--outputs", "b"}, {"--cwd", "x"}, {"--region"}} {
		fs := New("tool", Stack|Cwd|Outputs|Region, "usage", &bytes.Buffer{}, nil)
		err := fs.Parse(args)
		if ExitCode(err) != 2 {
			t.Errorf("%v: %v, exit %d, want 2", args, err, ExitCode(err))
		}
	}
	if ExitCode(errors.New("boom")) != 1 || ExitCode(nil) != 0 || ExitCode(flag.ErrHelp) != 0 {
		t.Error("ExitCode of a failure, of none and of -h")
	}
}

func TestStackValuesWin(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "outputs.json")
	if err := os.WriteFile(file, []byte(`{"region":"eu-west-1","volumeDriver":"flocker","clusterId":"c0ffee12","stack":"dev",
		"appId":"/a","appUrl":"http://elb","marathonUrl":"http://m:8080","failoverSettings":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := New("tool", Outputs|Region|VolumeDriver, "usage", &bytes.Buffer{}, env("AWS_REGION", "us-east-1"))
	if err := fs.Parse([]string{"--outputs", file}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.LoadOutputs(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if fs.Region != "eu-west-1" || fs.VolumeDriver != "flocker" {
		t.Errorf("an environment default did not yield to the stack's: %+v", fs.Values)
	}
	fs = New("tool", Outputs|Region, "usage", &bytes.Buffer{}, nil)
	if err := fs.Parse([]string{"--outputs", file, "--region", "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.LoadOutputs(context.Background(), nil, nil); ExitCode(err) != 2 || !strings.Contains(fmt.Sprint(err), "stack's is eu-west-1") {
		t.Errorf("a --region other than the stack's: %v", err)
	}
}

func TestNeedYes(t *testing.T) {
	fs := New("tool", Yes|DryRun, "usage", &bytes.Buffer{}, nil)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := fs.NeedYes(false, "this bills"); ExitCode(err) != 2 || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("no --yes, stdin not a terminal: %v", err)
	}
	if err := fs.NeedYes(true, "this bills"); err != nil {
		t.Errorf("no --yes, stdin a terminal to ask on: %v", err)
	}
	fs.Yes = true
	if err := fs.NeedYes(false, "this bills"); err != nil {
		t.Error(err)
	}
	fs.Yes, fs.DryRun = false, true
	if err := fs.NeedYes(false, "this bills"); err != nil {
		t.Errorf("--dry-run bills nothing: %v", err)
	}
}

// TestEveryToolIsInTheTable: each directory under scripts/ is a tool of
// opflags.Tools and runs opflagstest.Check in its tests.
func TestEveryToolIsInTheTable(t *testing.T) {
	dirs, err := os.ReadDir("../../scripts")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		seen[d.Name()] = true
		if _, ok := Tools[d.Name()]; !ok {
			t.Errorf("scripts/%s is not in opflags.Tools", d.Name())
		}
		b, err := os.ReadFile(filepath.Join("../../scripts", d.Name(), "opflags_test.go"))
		if err != nil || !bytes.Contains(b, []byte("opflagstest.Check(")) {
			t.Errorf("scripts/%s has no opflags_test.go running opflagstest.Check", d.Name())
		}
	}
	for name := range Tools {
		if !seen[name] {
			t.Errorf("opflags.Tools has %s, which is not under scripts/", name)
		}
	}
}

func TestDocs(t *testing.T) {
	path := "../../docs/operator-flags.md"
	got := Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/opflags -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s is stale: run go test ./internal/opflags -update", path)
	}
}

func TestHelpListsTheSharedFlagsWrapped(t *testing.T) {
	fs := New("tool", Tools["cleanup-volumes"], "Usage: tool", &bytes.Buffer{}, nil)
	h := fs.Help()
	for _, name := range Tools["cleanup-volumes"].Names() {
		if !strings.Contains(h, "--"+name) {
			t.Errorf("help lacks --%s", name)
		}
	}
	for _, line := range strings.Split(h, "\n") {
		if len(line) > helpWidth {
			t.Errorf("help line over %d columns: %q", helpWidth, line)
		}
	}
}

// TestNullDeviceIsNoTerminal: /dev/null, a command's stdin under Pulumi,
// is a character device but no terminal to ask on.
func TestNullDeviceIsNoTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("the null device counts as a terminal")
	}
}
