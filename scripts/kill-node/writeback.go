package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// flushProgressEvery is how often the writeback wait says how long is
// left: the flusher's own period (facts.DirtyWriteback), or five times
// over a shorter wait.
func flushProgressEvery(wait time.Duration) time.Duration {
	return min(facts.DirtyWriteback, wait/5)
}

// waitWriteback waits d after the last acknowledged click, so that the
// kernel has written it back to the volume before the kill
// (facts.PageCacheFlushWait), printing how long is left: the 2015 demo's
// data check. With no clicks there is nothing to wait for; with d = 0 (the
// default) it says what a crash may lose instead, which the writer judges.
func waitWriteback(ctx context.Context, w, warn io.Writer, clicks int, d time.Duration, mode failover.Mode) error {
	switch {
	case clicks == 0:
		return nil
	case d == 0:
		fmt.Fprintf(w, "--flush-wait 0: no wait for the page cache; a crash may lose the clicks the app acknowledged in its last %s (the agents' writeback bound), which the writer measures (the RPO) and judges\n",
			facts.CrashLossBound)
		return nil
	case d < facts.PageCacheFlushWait && mode == failover.ModeCrash:
		fmt.Fprintf(warn, "%s: warning: --flush-wait %s is shorter than the default kernel's writeback delay %s: on nodes without the agents' writeback bound (%s), a crash may lose clicks the app acknowledged\n",
			program, d, facts.PageCacheFlushWait, facts.CrashLossBound)
	}
	fmt.Fprintf(w, "waiting %s for the page cache to write the clicks to the volume (vm.dirty_expire_centisecs %s + dirty_writeback_centisecs %s)\n",
		d, facts.DirtyExpire, facts.DirtyWriteback)
	end := time.Now().Add(d)
	t := time.NewTicker(flushProgressEvery(d))
	defer t.Stop()
	done := time.NewTimer(d)
	defer done.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for the page cache: %w", ctx.Err())
		case <-done.C:
			fmt.Fprintf(w, "waited %s: the clicks are on the volume\n", d)
			return nil
		case <-t.C:
			fmt.Fprintf(w, "  %s left\n", time.Until(end).Round(time.Second))
		}
	}
}
