package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// printPlan says what a rehearsal with these options would do and bound,
// for --dry-run and before the question.
func printPlan(w io.Writer, o options, masterCount int, cfg rehearsal.Config) {
	rehearse, teardown := cfg.Bounds()
	masters := "1 master"
	if masterCount > 1 {
		masters = fmt.Sprintf("%d masters", masterCount)
	}
	backend := o.backend
	if backend == "" {
		backend = "a file backend in the run directory"
	}
	runs := o.runsDir
	if runs == "" {
		runs = "~/.marathon-ha/rehearsals"
	}
	fmt.Fprintf(w, "plan: a new stack of the program in %s, in %s: %s, %d agents, %s volumes, operatorCidr %s\n",
		o.project, o.region, masters, o.agents, o.driver, o.cidr)
	fmt.Fprintf(w, "plan: pulumi up (up to %s), wait for the app, write %d clicks, drills %s", o.upTimeout, o.clicks, o.drills)
	if o.rounds > 0 {
		fmt.Fprintf(w, ", %d rounds drawn from %s", o.rounds, o.roundDrills)
	}
	fmt.Fprintf(w, ", then destroy, sweep what the stack's tags still find, and remove it\n")
	fmt.Fprintf(w, "plan: the stack bills for up to %s (rehearsal %s + teardown %s); state in %s, run directory under %s\n",
		rehearse+teardown, rehearse, teardown, backend, runs)
	fmt.Fprintf(w, "plan: report %s\n", o.report)
}

// longLog is the length past which a problem or a step's error goes to a
// file of its own: pulumi's errors carry its whole output.
const longLog = 300

// shortenLogs writes every long problem and step error of r to a file
// next to the report (report without .json, -<n>.log) and leaves in r its
// first line and the file's path, for the summary. The JSON report,
// written before, keeps them whole.
func shortenLogs(r *rehearsal.Report, report string) error {
	n := 0
	done := map[string]string{} // a step's error is often a problem too
	shorten := func(text string) (string, error) {
		if len(text) <= longLog && !strings.Contains(text, "\n") {
			return text, nil
		}
		if short, ok := done[text]; ok {
			return short, nil
		}
		n++
		path := fmt.Sprintf("%s-%d.log", strings.TrimSuffix(report, ".json"), n)
		if err := os.WriteFile(path, []byte(text+"\n"), 0o644); err != nil {
			return text, fmt.Errorf("writing a long log: %w", err)
		}
		first, _, _ := strings.Cut(text, "\n")
		if len(first) > longLog {
			first = first[:longLog] + " ..."
		}
		done[text] = fmt.Sprintf("%s (all %d lines: %s)", first, strings.Count(text, "\n")+1, path)
		return done[text], nil
	}
	var err error
	for i, p := range r.Problems {
		if r.Problems[i], err = shorten(p); err != nil {
			return err
		}
	}
	for i, s := range r.Steps {
		if s.Error == "" {
			continue
		}
		if r.Steps[i].Error, err = shorten(s.Error); err != nil {
			return err
		}
	}
	return nil
}
