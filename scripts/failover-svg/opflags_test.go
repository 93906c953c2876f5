package main

import (
	"io"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/opflags/opflagstest"
)

func TestSharedFlags(t *testing.T) {
	opflagstest.Check(t, opflagstest.Tool{Program: program, Flags: newFlags,
		Run: func(args []string, stdout, stderr io.Writer) int {
			return run(args, strings.NewReader(""), false, stdout, stderr)
		},
		Failing: []string{"/nonexistent/report.json"}})
}
