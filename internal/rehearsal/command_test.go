//go:build unix

package rehearsal

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakePulumi is a stand-in CLI: it reports its arguments and environment,
// records its pid, says ready, and on SIGINT stops "gracefully" (after a
// pause no longer than the SDK's own 10 s would allow, but longer than
// nothing) with exit status 7.
const fakePulumi = `#!/bin/sh
echo "args:$*"
echo "automation:$PULUMI_AUTOMATION_API"
echo $$ > "$PIDFILE"
trap 'sleep 0.2; echo stopped-gracefully; exit 7' INT
echo ready >&2
while :; do sleep 0.01; done
`

// readyWriter closes ready at the fake CLI's "ready" line.
type readyWriter struct {
	ready chan struct{}
	done  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	if !w.done && bytes.Contains(p, []byte("ready")) {
		w.done = true
		close(w.ready)
	}
	return len(p), nil
}

func TestRunGracefulInterruptsAndWaits(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "pulumi")
	if err := os.WriteFile(bin, []byte(fakePulumi), 0o755); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "pid")
	ctx, cancel := context.WithCancel(context.Background())
	rw := &readyWriter{ready: make(chan struct{})}
	type result struct {
		stdout string
		code   int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		out, _, code, err := runGraceful(ctx, bin, time.Minute, dir, nil, nil, []io.Writer{rw}, []string{"PIDFILE=" + pidFile}, "up", "--stack", "s")
		res <- result{out, code, err}
	}()
	select {
	case <-rw.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the fake CLI never became ready")
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Errorf("pulumi runs in process group %d (%v), want its own (%d): a terminal Ctrl-C would reach it", pgid, err, pid)
	}
	cancel()
	r := <-res
	if r.code != 7 || !strings.Contains(r.stdout, "stopped-gracefully") {
		t.Errorf("exit %d, stdout %q: pulumi was not given its graceful stop", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "args:--non-interactive up --stack s") || !strings.Contains(r.stdout, "automation:true") {
		t.Errorf("stdout %q: want --non-interactive first and PULUMI_AUTOMATION_API=true, as the SDK runs it", r.stdout)
	}
}

func TestRemoveRunDirKeepsTheSharedPlugins(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "plugins")
	dir := filepath.Join(t.TempDir(), "rehearsal-x")
	if _, err := prepareRunDir(dir, shared); err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(shared, "resource-aws-v6.83.4", "pulumi-resource-aws")
	if err := os.MkdirAll(filepath.Dir(plugin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plugin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := removeRunDir(dir); err == nil || !strings.Contains(err.Error(), "not a run directory") {
		t.Fatalf("removed a directory without run.json: %v", err)
	}
	if err := writeRunInfo(RunInfo{Stack: "rehearsal-x", RunDir: dir}); err != nil {
		t.Fatal(err)
	}
	if err := removeRunDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("run directory still there: %v", err)
	}
	if _, err := os.Stat(plugin); err != nil {
		t.Errorf("the shared plugin cache lost a plugin: %v", err)
	}
}
