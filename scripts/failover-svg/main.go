// Command failover-svg draws a saved failover report as an SVG timeline:
// kill-node's --json output or the rehearsal's JSON report (--output).
// The drawing is internal/failover's WriteSVG; this file reads and writes.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/opflags"
)

const usage = `Usage:
    failover-svg [--output FILE.svg] [REPORT.json|-]

Reads a saved failover report, either kind: the JSON kill-node --json
prints, or the rehearsal's report (--output FILE); reads stdin when REPORT
is "-", or absent and stdin is a pipe or file (at a terminal, absent is a
usage error). Writes an SVG timeline: one lane per source (EC2, the masters
when a master was lost, Mesos, Marathon, EBS volume, ELB, app answers,
clicks), each event a mark at its time since the terminate
request, and on the same time axis the measured RTO as a bar beside the
recovery budget's steps, each visible and numbered (and the rehearsal's
RTO limit), with a caption. A stand-in report given back at the stack's
scale ("timeScale") says so in its title, caption and axis. --output FILE
writes the SVG to FILE instead of stdout (-o FILE is its old spelling).

Example:
    kill-node --stack dev --yes --json > failover.json
    failover-svg --output failover.svg failover.json`

const program = "failover-svg"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, opflags.IsTerminal(os.Stdin), os.Stdout, os.Stderr))
}

// errorf prints a message prefixed with the program name and returns the
// failure exit status.
func errorf(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, program+": "+format+"\n", args...)
	return 1
}

// newFlags is the tool's flag set (opflags.Tools["failover-svg"]).
func newFlags(stderr io.Writer, getenv func(string) string) *opflags.FlagSet {
	fs := opflags.New(program, opflags.Tools[program], usage, stderr, getenv)
	fs.RegisterRenamed()
	return fs
}

// run runs the tool; stdinIsTerminal is opflags.IsTerminal(stdin) in main.
func run(args []string, stdin io.Reader, stdinIsTerminal bool, stdout, stderr io.Writer) int {
	fs := newFlags(stderr, os.Getenv)
	err := fs.Parse(args)
	switch {
	case err != nil:
	case fs.NArg() > 1:
		err = opflags.Usagef("one report at a time, got %d (run %s -h for the options)", fs.NArg(), program)
	case fs.NArg() == 0 && stdinIsTerminal:
		// Reading would wait, silently, for a report typed in: nobody does
		// that. "-" still reads a terminal for whoever means it.
		err = opflags.Usagef("no report given and stdin is a terminal: name REPORT.json, or pipe one in (run %s -h for the options)", program)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			errorf(stderr, "%v", err)
		}
		return opflags.ExitCode(err)
	}
	out := &fs.OutputFile
	in, name := stdin, "stdin"
	if p := fs.Arg(0); p != "" && p != "-" {
		f, err := os.Open(p)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		defer f.Close()
		in, name = f, p
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return errorf(stderr, "reading %s: %v", name, err)
	}
	r, o, err := failover.DecodeAnyReport(data)
	if err != nil {
		return errorf(stderr, "%s: %v", name, err)
	}
	if *out != "" {
		if err := failover.WriteSVGFile(*out, r, o); err != nil {
			return errorf(stderr, "%v", err)
		}
		return 0
	}
	var b bytes.Buffer
	if err := failover.WriteSVG(&b, r, o); err != nil {
		return errorf(stderr, "%v", err)
	}
	if _, err := stdout.Write(b.Bytes()); err != nil {
		return errorf(stderr, "writing the SVG: %v", err)
	}
	return 0
}
