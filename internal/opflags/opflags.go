// Package opflags is the one flag set every operator tool under scripts/
// shares: where the stack comes from (--stack, --cwd, --outputs), whose AWS
// credentials and which region (--aws-profile, --region), the volume
// driver, the output (--json, --output), and the guards of anything that
// costs money or destroys (--yes, --dry-run). Each flag has one spelling,
// one environment variable with the MHA_ prefix where one makes sense, and
// one help line; old spellings keep working for one release with a
// deprecation line on stderr. Usage errors exit 2, runtime failures 1.
package opflags

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Set is a set of shared flags, the ones that apply to a tool.
type Set uint

// The shared flags.
const (
	Stack        Set = 1 << iota // --stack NAME
	Cwd                          // --cwd DIR
	Outputs                      // --outputs FILE|-
	AWSProfile                   // --aws-profile P
	Region                       // --region R
	VolumeDriver                 // --volume-driver D
	JSON                         // --json
	Output                       // --output FILE
	Yes                          // --yes
	DryRun                       // --dry-run
)

// Flag describes one shared flag: its spelling, its environment variables
// (first wins; Deprecated ones print a deprecation line), its help.
type Flag struct {
	Set  Set
	Name string
	Arg  string // "" for a boolean flag
	Help string
	// StacksValue marks a value a stack also has: given with --stack or
	// --outputs, it must be the stack's (LoadOutputs), and HelpFor says
	// so where the tool takes those flags.
	StacksValue bool
	// Env are the variables read when the flag is not given, in order.
	Env []string
	// Fallback are variables of other tools (the AWS CLI's) read last.
	Fallback []string
	// DeprecatedEnv are old variable names, read after Env with a
	// deprecation line.
	DeprecatedEnv []string
}

// Flags are the shared flags, in the order help text lists them.
var Flags = []Flag{
	{Set: Stack, Name: "stack", Arg: "NAME", Help: "Pulumi stack to work on: its outputs and config are read with the pulumi CLI."},
	{Set: Cwd, Name: "cwd", Arg: "DIR", Help: "Pulumi project directory (pulumi --cwd; default: the current one).", Env: []string{"MHA_CWD"}},
	{Set: Outputs, Name: "outputs", Arg: "FILE", Help: "Read the stack outputs from FILE (`pulumi stack output --json --show-secrets`; \"-\": stdin) instead of --stack."},
	{Set: AWSProfile, Name: "aws-profile", Arg: "P", Help: "AWS shared-config profile (default: the SDK's chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, an instance role).", Env: []string{"MHA_AWS_PROFILE"}},
	{Set: Region, Name: "region", Arg: "R", Help: "AWS region.", StacksValue: true, Env: []string{"MHA_REGION"}, DeprecatedEnv: []string{"MHA_AWS_REGION"}, Fallback: []string{"AWS_REGION", "AWS_DEFAULT_REGION"}},
	{Set: VolumeDriver, Name: "volume-driver", Arg: "D", Help: "Volume driver, rexray or flocker.", StacksValue: true, Env: []string{"MHA_VOLUME_DRIVER"}},
	{Set: JSON, Name: "json", Help: "Print the result as JSON on stdout; the human lines go to stderr."},
	{Set: Output, Name: "output", Arg: "FILE", Help: "Write the file the tool makes to FILE."},
	{Set: Yes, Name: "yes", Help: "Do not ask before what costs money or destroys (the tool's help says when it asks)."},
	{Set: DryRun, Name: "dry-run", Help: "Show what would be done, change nothing, exit 0.", Env: []string{"MHA_DRY_RUN"}},
}

// HelpFor is fl's help in a tool that takes the shared flags s: a
// stack's value says which of --stack and --outputs give the stack there
// (the rehearsal, which makes its stack, has neither).
func (fl Flag) HelpFor(s Set) string {
	if !fl.StacksValue {
		return fl.Help
	}
	var from []string
	for _, f := range []Set{Stack, Outputs} {
		if s&f != 0 {
			from = append(from, "--"+f.Names()[0])
		}
	}
	if len(from) == 0 {
		return fl.Help
	}
	return strings.TrimSuffix(fl.Help, ".") + " (with " + strings.Join(from, " or ") + ": the stack's)."
}

// Values are the shared flags' values after Parse.
type Values struct {
	Stack, Cwd, Outputs, AWSProfile, Region, VolumeDriver, OutputFile string
	JSON, Yes, DryRun                                                 bool
}

// ErrUsage is matched (errors.Is) by every usage error: exit status 2.
var ErrUsage = errors.New("bad usage")

type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// Usagef returns a usage error.
func Usagef(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

// ExitCode is the exit status for err: 0 for none or -h, 2 for a usage
// error, 1 for any other.
func ExitCode(err error) int {
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	}
	return 1
}

// FlagSet is a tool's flag.FlagSet with the shared flags it takes.
type FlagSet struct {
	*flag.FlagSet
	Values
	Program string
	Shared  Set

	stderr     io.Writer
	getenv     func(string) string
	usage      string
	deprecated map[string]string // old flag name -> what to use
	used       []string          // deprecation lines, in order
	fromEnv    map[string]string // flag name -> variable it came from
}

// New returns the flag set of program with the shared flags of shared.
// usage is the tool's own help; -h prints it, then the shared flags'.
// getenv nil means no environment.
func New(program string, shared Set, usage string, stderr io.Writer, getenv func(string) string) *FlagSet {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	f := &FlagSet{FlagSet: flag.NewFlagSet(program, flag.ContinueOnError), Program: program, Shared: shared,
		stderr: stderr, getenv: getenv, usage: usage, deprecated: map[string]string{}, fromEnv: map[string]string{}}
	f.SetOutput(io.Discard) // Parse's errors are returned, and printed once by the tool
	// The flag package calls Usage on -h and on every parse error; the
	// help (over a hundred lines for kill-node) is printed for -h alone, so
	// a mistyped flag leaves its one error line in sight.
	f.FlagSet.Usage = func() {}
	v := &f.Values
	strs := map[string]*string{"stack": &v.Stack, "cwd": &v.Cwd, "outputs": &v.Outputs, "aws-profile": &v.AWSProfile,
		"region": &v.Region, "volume-driver": &v.VolumeDriver, "output": &v.OutputFile}
	bools := map[string]*bool{"json": &v.JSON, "yes": &v.Yes, "dry-run": &v.DryRun}
	for _, fl := range Flags {
		if shared&fl.Set == 0 {
			continue
		}
		if p, ok := strs[fl.Name]; ok {
			f.StringVar(p, fl.Name, "", fl.HelpFor(shared))
		} else {
			f.BoolVar(bools[fl.Name], fl.Name, false, fl.HelpFor(shared))
		}
	}
	return f
}

// Help is the tool's usage followed by its shared flags.
func (f *FlagSet) Help() string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(f.usage, "\n"))
	b.WriteString("\n\nShared operator flags (docs/operator-flags.md):\n")
	for _, fl := range Flags {
		if f.Shared&fl.Set == 0 {
			continue
		}
		name := "--" + fl.Name
		if fl.Arg != "" {
			name += " " + fl.Arg
		}
		help := fl.HelpFor(f.Shared)
		if env := append(append([]string{}, fl.Env...), fl.Fallback...); len(env) > 0 {
			help += " Env: " + strings.Join(env, ", ") + "."
		}
		writeWrapped(&b, fmt.Sprintf("    %-20s ", name), help, helpWidth)
	}
	b.WriteString("\nExit status: 2 for bad usage, 1 for a failure.\n")
	return b.String()
}

// helpWidth is the width help text is wrapped to.
const helpWidth = 78

// writeWrapped writes text after prefix, wrapped at width, its further
// lines indented as far as prefix.
func writeWrapped(b *strings.Builder, prefix, text string, width int) {
	line := prefix
	for _, word := range strings.Fields(text) {
		if len(line)+len(word) > width && strings.TrimSpace(line) != strings.TrimSpace(prefix) {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = strings.Repeat(" ", len(prefix))
		}
		line += word + " "
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
}

// Deprecated makes old (a flag name without dashes) another spelling of
// the flag now, for one release: it sets the same value and prints a
// deprecation line. now must be defined already.
func (f *FlagSet) Deprecated(old, now string) {
	target := f.Lookup(now)
	if target == nil {
		panic(fmt.Sprintf("opflags: %s: deprecated --%s names no flag --%s", f.Program, old, now))
	}
	f.DeprecatedAs(old, target.Value, "--"+now)
}

// DeprecatedAs registers old as a deprecated flag that sets value; use
// says what to write instead.
func (f *FlagSet) DeprecatedAs(old string, value flag.Value, use string) {
	f.deprecated[old] = use
	f.Var(&alias{Value: value, note: func() {
		f.used = append(f.used, fmt.Sprintf("%s: warning: -%s is deprecated and goes in the next release: use %s\n", f.Program, dashes(old), use))
	}}, old, "deprecated: use "+use)
}

func dashes(name string) string {
	if len(name) == 1 {
		return name
	}
	return "-" + name
}

// alias is a deprecated spelling's flag.Value.
type alias struct {
	flag.Value
	note func()
}

func (a *alias) Set(s string) error {
	a.note()
	return a.Value.Set(s)
}

func (a *alias) IsBoolFlag() bool {
	b, ok := a.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// IsSet reports whether the flag name was given on the command line
// (under any spelling).
func (f *FlagSet) IsSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == name {
			set = true
		} else if a, ok := fl.Value.(*alias); ok && a.Value == f.Lookup(name).Value {
			set = true
		}
	})
	return set
}

// FromEnv names the environment variable a shared flag's value came from,
// or "".
func (f *FlagSet) FromEnv(name string) string { return f.fromEnv[name] }

// Parse parses args, fills the shared flags not given from their
// environment variables, prints the deprecation lines, and checks what
// all tools check: no stray arguments (unless args are allowed), --stack
// or --outputs but not both, --cwd only with --stack. The error is a
// usage error (ExitCode 2), or flag.ErrHelp after -h.
func (f *FlagSet) Parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(f.stderr, f.Help())
			return err
		}
		return Usagef("%v (run %s -h for the options)", err, f.Program)
	}
	if err := f.applyEnv(); err != nil {
		return err
	}
	for _, line := range f.used {
		fmt.Fprint(f.stderr, line)
	}
	f.used = nil
	switch {
	case f.Stack != "" && f.Outputs != "":
		return Usagef("--stack and --outputs both give the stack: pass one")
	case f.Shared&Stack != 0 && f.Cwd != "" && f.Stack == "" && f.FromEnv("cwd") == "":
		return Usagef("--cwd is the Pulumi project directory of --stack: pass --stack too")
	}
	return nil
}

// NoArgs is a usage error when Parse left arguments.
func (f *FlagSet) NoArgs() error {
	if f.NArg() > 0 {
		return Usagef("unexpected argument %q (run %s -h for the options)", f.Arg(0), f.Program)
	}
	return nil
}

func (f *FlagSet) applyEnv() error {
	for _, fl := range Flags {
		if f.Shared&fl.Set != 0 {
			if err := f.fromVariables(fl); err != nil {
				return err
			}
		}
	}
	for _, fl := range ToolEnv[f.Program] {
		if err := f.fromVariables(fl); err != nil {
			return err
		}
	}
	return nil
}

// fromVariables sets the flag fl.Name, when not given on the command
// line, from the first of its variables set: Env, then DeprecatedEnv
// (with a deprecation line), then Fallback.
func (f *FlagSet) fromVariables(fl Flag) error {
	if len(fl.Env)+len(fl.DeprecatedEnv)+len(fl.Fallback) == 0 || f.IsSet(fl.Name) {
		return nil
	}
	type source struct {
		name       string
		deprecated bool
	}
	var sources []source
	for _, e := range fl.Env {
		sources = append(sources, source{e, false})
	}
	for _, e := range fl.DeprecatedEnv {
		sources = append(sources, source{e, true})
	}
	for _, e := range fl.Fallback {
		sources = append(sources, source{e, false})
	}
	for _, s := range sources {
		v := strings.TrimSpace(f.getenv(s.name))
		if v == "" {
			continue
		}
		if err := f.Lookup(fl.Name).Value.Set(v); err != nil {
			return Usagef("%s=%q: %v", s.name, v, err)
		}
		f.fromEnv[fl.Name] = s.name
		if s.deprecated {
			f.used = append(f.used, fmt.Sprintf("%s: warning: %s is deprecated and goes in the next release: use %s\n", f.Program, s.name, fl.Env[0]))
		}
		return nil
	}
	return nil
}

// DeprecatedSpellings are the old spellings registered, old name to what
// to use instead, sorted by old name (for tests and docs).
func (f *FlagSet) DeprecatedSpellings() [][2]string {
	out := make([][2]string, 0, len(f.deprecated))
	for old, use := range f.deprecated {
		out = append(out, [2]string{old, use})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Lookup returns the shared flag called name.
func Lookup(name string) (Flag, bool) {
	for _, fl := range Flags {
		if fl.Name == name {
			return fl, true
		}
	}
	return Flag{}, false
}
