package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The README's picture is what this command draws from the committed
// stand-in report.
func TestDrawsTheREADMEPicture(t *testing.T) {
	out := filepath.Join(t.TempDir(), "standin.svg")
	var stderr bytes.Buffer
	if code := run([]string{"-o", out, "../../docs/failover-standin.json"}, nil, false, nil, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../docs/failover-standin.svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("docs/failover-standin.svg is not what failover-svg draws from docs/failover-standin.json (regenerate: go test ./internal/failover -run SVGOfAStandInRunAtRealScale -update)")
	}
}
