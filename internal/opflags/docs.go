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
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, strings.ReplaceAll(fl.Help, "|", "\\|"), strings.Join(env, ", "))
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
	b.WriteString("\n`--yes` guards what costs money or destroys: without it, a tool whose stdin is not a\n")
	b.WriteString("terminal refuses to start (exit 2) instead of asking. `--stack` reads the stack's outputs\n")
	b.WriteString("and config with the pulumi CLI; `--region` and `--volume-driver`, given with a stack,\n")
	b.WriteString("must be the stack's. Before their work, the tools that call AWS ask STS whom the\n")
	b.WriteString("credentials belong to, and name a missing or expired credential with its fix.\n")
	return b.String()
}
