package opflags_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/opflags"
	"github.com/marathon-ha/marathon-ha/internal/opflags/opflagstest"
)

// TestHelpNamesOnlyTheToolsFlags: a shared flag's help names the other
// shared flags only where the tool takes them; the rehearsal has no
// --stack, prepare-ami no --outputs.
func TestHelpNamesOnlyTheToolsFlags(t *testing.T) {
	for tool, shared := range opflags.Tools {
		t.Run(tool, func(t *testing.T) {
			h := opflags.New(tool, shared, "Usage: "+tool, &bytes.Buffer{}, nil).Help()
			if bad := opflagstest.ForeignFlags(h, shared); len(bad) > 0 {
				t.Errorf("%s's shared-flag help names %v, which it does not take:\n%s", tool, bad, h)
			}
		})
	}
	// Where it has them, it says so.
	for _, c := range []struct {
		shared opflags.Set
		want   string
	}{
		{opflags.Stack | opflags.Outputs | opflags.Region, "AWS region (with --stack or --outputs: the stack's)."},
		{opflags.Stack | opflags.Region, "AWS region (with --stack: the stack's)."},
		{opflags.Region, "AWS region. Env:"},
		{opflags.Stack | opflags.Outputs | opflags.VolumeDriver, "Volume driver, rexray or flocker (with --stack or --outputs: the stack's)."},
		{opflags.VolumeDriver, "Volume driver, rexray or flocker. Env:"},
	} {
		h := opflags.New("tool", c.shared, "", &bytes.Buffer{}, nil).Help()
		if !strings.Contains(strings.Join(strings.Fields(h), " "), c.want) {
			t.Errorf("flags %v: help lacks %q:\n%s", c.shared.Names(), c.want, h)
		}
	}
}

// TestForeignFlags: the check sees a flag the tool lacks, tells --output
// from --outputs, and leaves another command's flags in backquotes alone.
func TestForeignFlags(t *testing.T) {
	help := "Usage: x --nope\n\nShared operator flags (docs/operator-flags.md):\n" +
		"    --outputs FILE   Read (`pulumi stack output\n  --json`) instead of --stack.\n    --output FILE  Write.\n"
	got := opflagstest.ForeignFlags(help, opflags.Outputs|opflags.Output)
	if strings.Join(got, ",") != "stack" {
		t.Errorf("ForeignFlags = %v, want [stack]", got)
	}
	if got := opflagstest.ForeignFlags(help, opflags.Outputs|opflags.Output|opflags.Stack); len(got) > 0 {
		t.Errorf("ForeignFlags = %v, want none", got)
	}
}
