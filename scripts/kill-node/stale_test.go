package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

// The app moves while kill-node waits for the page cache (Mesos loses its
// agent, Marathon runs it on the other one): the kill is refused, says
// where the app went, and nothing is terminated.
func TestTheAppMovesDuringTheFlushWait(t *testing.T) {
	c := failovertest.StartT(t, failovertest.Options{})
	agents := c.Agents()
	var once sync.Once
	stdout := &failovertest.Progress{OnWrite: func(s string) {
		if strings.Contains(s, "wrote 3 clicks") {
			once.Do(func() { c.MarathonServer().KillAgent(agents[0].Host) })
		}
	}}
	var stderr failovertest.Progress
	d := testDeps(c, "")
	d.stdout, d.stderr = stdout, &stderr
	code := run(context.Background(), []string{"--outputs", outputsFile(t, c), "--yes", "--clicks", "3",
		"--interval", "5ms", "--timeout", "10s", "--marathon-wait", "5s", "--flush-wait", "500ms"}, d)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, &stderr)
	}
	for _, want := range []string{"the app moved to " + agents[1].Host, "nothing terminated", agents[0].InstanceID} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, &stderr)
		}
	}
	if n := terminations(c); n != 0 {
		t.Errorf("TerminateInstances called %d times", n)
	}
}
