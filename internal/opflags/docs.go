package opflags

import (
	"fmt"
	"sort"
	"strings"
)

// Markdown is docs/operator-flags.md: the shared flags, their variables,
// and which tool takes which.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Operator flags\n\n")
	b.WriteString("<!-- Generated from internal/opflags by `go test ./internal/opflags -update`; do not edit. -->\n\n")
	b.WriteString("Every tool under `scripts/` spells these flags the same way (package `internal/opflags`).\n")
	b.WriteString("A flag wins over its environment variable; the variables are read in the order listed.\n")
	b.WriteString("Usage errors exit 2, runtime failures 1. Old spellings still work for one release and\n")
	b.WriteString("print a deprecation line on stderr (see each tool's `-h`).\n\n")
	b.WriteString("| flag | meaning | environment |\n|---|---|---|\n")
	for _, fl := range Flags {
		name := "`--" + fl.Name
		if fl.Arg != "" {
			name += " " + fl.Arg
		}
		name += "`"
		var env []string
		for _, e := range fl.Env {
			env = append(env, "`"+e+"`")
		}
		for _, e := range fl.DeprecatedEnv {
			env = append(env, "`"+e+"` (deprecated)")
		}
		for _, e := range fl.Fallback {
			env = append(env, "`"+e+"`")
		}
		help := fl.Help
		if fl.StacksValue { // each tool's -h names only the flags it takes (HelpFor)
			help = strings.TrimSuffix(help, ".") + " (with --stack or --outputs, in a tool that takes them: the stack's)."
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, strings.ReplaceAll(help, "|", "\\|"), strings.Join(env, ", "))
	}
	tools := make([]string, 0, len(Tools))
	for t := range Tools {
		tools = append(tools, t)
	}
	sort.Strings(tools)
	b.WriteString("\n## Which tool takes which\n\n| tool |")
	for _, fl := range Flags {
		b.WriteString(" `--" + fl.Name + "` |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(Flags)) + "\n")
	for _, t := range tools {
		b.WriteString("| " + t + " |")
		for _, fl := range Flags {
			if Tools[t]&fl.Set != 0 {
				b.WriteString(" yes |")
			} else {
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## Old spellings\n\nThese still work for one release and print a deprecation line on stderr.\n\n| tool | old | new |\n|---|---|---|\n")
	for _, t := range tools {
		for _, r := range Renamed[t] {
			note := ""
			if r.Note != "" {
				note = " (" + r.Note + ")"
			}
			fmt.Fprintf(&b, "| %s | `-%s` | `--%s`%s |\n", t, dashes(r.Old), r.New, note)
		}
	}
	b.WriteString("| every tool | `MHA_AWS_REGION` | `MHA_REGION` |\n")
	for _, t := range tools {
		for _, fl := range ToolEnv[t] {
			for _, old := range fl.DeprecatedEnv {
				fmt.Fprintf(&b, "| %s | `%s` | `%s` (or `--%s`) |\n", t, old, fl.Env[0], fl.Name)
			}
		}
	}
	b.WriteString("\n`--yes` guards what costs money or destroys. Without it the rehearsal asks at a terminal\n")
	b.WriteString("and refuses to start (exit 2) when stdin is not one; kill-node asks for the instance id on\n")
	b.WriteString("stdin; cleanup-volumes asks at a terminal, and run by `pulumi destroy` (no terminal) deletes\n")
	b.WriteString("what the stack's tags select, as before. `--stack` reads the stack's outputs (and, where the\n")
	b.WriteString("tool needs it, its config) with the pulumi CLI; `--region` and `--volume-driver` given with a\n")
	b.WriteString("stack must be the stack's. Before their work, boot-timeline, cleanup-volumes, kill-node and\n")
	b.WriteString("the rehearsal ask AWS STS whom the credentials belong to, and name a missing, expired or\n")
	b.WriteString("invalid credential with its fix (AWS_PROFILE or `--aws-profile`, `aws sso login`,\n")
	b.WriteString("`aws configure`) instead of the SDK's own log lines. deploy-app checks them once before it\n")
	b.WriteString("reads the nodes' consoles for the boot progress; a missing or expired one is named with its\n")
	b.WriteString("fix, and the app is deployed without boot progress, as Marathon needs no AWS.\n")
	return b.String()
}
