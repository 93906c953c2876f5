package rehearsal

import (
	"fmt"
	"io"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// MaxStackName is the longest stack name the program is proven to handle:
// it derives AWS names from the stack name within their limits (classic ELB
// 32 characters, IAM role prefix 38), and program_test.go's
// TestNamesNeverCollide checks a 40-character name.
const MaxStackName = 40

// stackNamePrefix starts every rehearsal's stack name, so leftovers are easy
// to spot in a backend or by the stack tag on AWS resources.
const stackNamePrefix = "rehearsal"

// NewStackName returns "rehearsal-<yyyymmdd-hhmmss>-<4 hex>" for a run
// started at now (UTC): sortable by time, and two runs started in the same
// second still differ by the random suffix read from rnd.
func NewStackName(now time.Time, rnd io.Reader) (string, error) {
	var b [2]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("drawing the random suffix of the stack name: %w", err)
	}
	name := fmt.Sprintf("%s-%s-%x", stackNamePrefix, now.UTC().Format("20060102-150405"), b)
	return name, CheckStackName(name)
}

// CheckStackName reports whether name is a stack name Pulumi accepts
// (tokens.ParseStackName, the CLI's own rule) and the program can deploy.
func CheckStackName(name string) error {
	if _, err := tokens.ParseStackName(name); err != nil {
		return fmt.Errorf("stack name %q: %w", name, err)
	}
	if len(name) > MaxStackName {
		return fmt.Errorf("stack name %q has %d characters; the program derives AWS names from it and handles at most %d", name, len(name), MaxStackName)
	}
	return nil
}
