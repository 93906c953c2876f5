// Package opflagstest checks a tool's flag set against the shared table
// (opflags.Tools): every shared flag that applies to the tool is accepted
// under its one spelling, its help names no shared flag it lacks, each old
// spelling still works with a deprecation line, and the exit statuses are
// 0 for -h, 2 for bad usage, 1 for a runtime failure.
package opflagstest

import (
	"bytes"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/opflags"
)

// Tool is what a tool's test hands to Check.
type Tool struct {
	Program string
	// Flags builds the tool's flag set as its main does.
	Flags func(stderr io.Writer, getenv func(string) string) *opflags.FlagSet
	// Run runs the tool with args (no environment) and returns its exit
	// status.
	Run func(args []string, stdout, stderr io.Writer) int
	// Failing are arguments that parse but fail at run time (exit 1).
	Failing []string
}

// samples are valid values of the shared flags that take one.
var samples = map[string]string{"stack": "dev", "cwd": ".", "outputs": "outputs.json", "aws-profile": "ops",
	"region": "eu-west-1", "volume-driver": "rexray", "output": "out.file"}

// Check runs the checks; see the package comment.
func Check(t *testing.T, tool Tool) {
	t.Helper()
	want, ok := opflags.Tools[tool.Program]
	if !ok {
		t.Fatalf("%s is not in opflags.Tools", tool.Program)
	}
	fs := tool.Flags(io.Discard, nil)
	if fs.Shared != want {
		t.Errorf("%s takes shared flags %v, opflags.Tools says %v", tool.Program, fs.Shared.Names(), want.Names())
	}
	for _, name := range want.Names() {
		args := []string{"--" + name}
		if v, ok := samples[name]; ok {
			args = append(args, v)
		}
		if name == "cwd" && want&opflags.Stack != 0 {
			args = append(args, "--stack", "dev")
		}
		var stderr bytes.Buffer
		fs := tool.Flags(&stderr, nil)
		if err := fs.Parse(args); err != nil {
			t.Errorf("%s %s: %v", tool.Program, strings.Join(args, " "), err)
		}
	}
	var olds, registered []string
	for _, r := range opflags.Renamed[tool.Program] {
		olds = append(olds, r.Old)
	}
	for _, d := range fs.DeprecatedSpellings() {
		registered = append(registered, d[0])
	}
	sort.Strings(olds)
	if strings.Join(olds, ",") != strings.Join(registered, ",") {
		t.Errorf("%s registers the old spellings %v, opflags.Renamed says %v", tool.Program, registered, olds)
	}
	for _, d := range fs.DeprecatedSpellings() {
		var stderr bytes.Buffer
		fs := tool.Flags(&stderr, nil)
		args := []string{"-" + d[0]}
		if len(d[0]) > 1 {
			args[0] = "-" + args[0]
		}
		if b, ok := fs.Lookup(d[0]).Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
			args = append(args, "1")
		}
		if err := fs.Parse(args); err != nil {
			t.Errorf("%s %s (deprecated): %v", tool.Program, strings.Join(args, " "), err)
		}
		if !strings.Contains(stderr.String(), "deprecated") || !strings.Contains(stderr.String(), d[1]) {
			t.Errorf("%s %s: want a deprecation line naming %s, got %q", tool.Program, strings.Join(args, " "), d[1], stderr.String())
		}
	}

	checkToolEnv(t, tool)

	var stdout, stderr bytes.Buffer
	if code := tool.Run([]string{"-h"}, &stdout, &stderr); code != 0 {
		t.Errorf("%s -h: exit %d, want 0", tool.Program, code)
	}
	for _, name := range want.Names() {
		if !strings.Contains(stderr.String(), "--"+name) {
			t.Errorf("%s -h does not list --%s", tool.Program, name)
		}
	}
	if bad := ForeignFlags(stderr.String(), want); len(bad) > 0 {
		t.Errorf("%s -h: the shared flags' help names %v, which %s does not take", tool.Program, bad, tool.Program)
	}
	stdout.Reset()
	stderr.Reset()
	if code := tool.Run([]string{"--no-such-flag"}, &stdout, &stderr); code != 2 {
		t.Errorf("%s --no-such-flag: exit %d, want 2 (usage); stderr %q", tool.Program, code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no-such-flag") {
		t.Errorf("%s --no-such-flag: stderr %q does not name the flag", tool.Program, stderr.String())
	}
	// The error stays in sight: the help is for -h, not for a typo.
	if lines := strings.Count(stderr.String(), "\n"); lines > 3 || strings.Contains(stderr.String(), "Usage:") {
		t.Errorf("%s --no-such-flag: %d lines on stderr, the help among them; want the error alone:\n%s", tool.Program, lines, stderr.String())
	}
	if tool.Failing != nil {
		stdout.Reset()
		stderr.Reset()
		if code := tool.Run(tool.Failing, &stdout, &stderr); code != 1 {
			t.Errorf("%s %s: exit %d, want 1 (a runtime failure); stderr %q", tool.Program, strings.Join(tool.Failing, " "), code, stderr.String())
		}
	}
}

// checkToolEnv checks the tool's own variables (opflags.ToolEnv): the
// MHA_ name fills its flag silently, the old name fills it with a
// deprecation line naming the new one, and the flag wins over both.
func checkToolEnv(t *testing.T, tool Tool) {
	t.Helper()
	for _, fl := range opflags.ToolEnv[tool.Program] {
		if tool.Flags(io.Discard, nil).Lookup(fl.Name) == nil {
			t.Errorf("%s: opflags.ToolEnv names --%s, which the tool does not define", tool.Program, fl.Name)
			continue
		}
		for _, name := range append(append([]string{}, fl.Env...), fl.DeprecatedEnv...) {
			deprecated := !slices.Contains(fl.Env, name)
			for _, args := range [][]string{nil, {"--" + fl.Name, "from-flag"}} {
				var stderr bytes.Buffer
				fs := tool.Flags(&stderr, func(k string) string {
					if k == name {
						return "from-env"
					}
					return ""
				})
				if err := fs.Parse(args); err != nil {
					t.Errorf("%s %v with %s set: %v", tool.Program, args, name, err)
					continue
				}
				want := "from-env"
				if args != nil {
					want = "from-flag"
				}
				if got := fs.Lookup(fl.Name).Value.String(); got != want {
					t.Errorf("%s %v with %s set: --%s is %q, want %q", tool.Program, args, name, fl.Name, got, want)
				}
				warned := strings.Contains(stderr.String(), name+" is deprecated") && strings.Contains(stderr.String(), "use "+fl.Env[0])
				if wantWarn := deprecated && args == nil; warned != wantWarn {
					t.Errorf("%s %v with %s set: deprecation line %v, want %v; stderr %q", tool.Program, args, name, warned, wantWarn, stderr.String())
				}
			}
		}
	}
}

// ForeignFlags are the shared flags that help's shared-flag section names
// although shared lacks them; another command's flags, in backquotes
// (`pulumi stack output --json`), do not count.
func ForeignFlags(help string, shared opflags.Set) []string {
	_, section, _ := strings.Cut(help, "Shared operator flags")
	section = backquoted.ReplaceAllString(section, "")
	var out []string
	for _, m := range flagName.FindAllStringSubmatch(section, -1) {
		if fl, ok := opflags.Lookup(m[1]); ok && shared&fl.Set == 0 && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

var (
	backquoted = regexp.MustCompile("`[^`]*`")
	flagName   = regexp.MustCompile(`--([a-z][a-z-]*[a-z])`)
)
