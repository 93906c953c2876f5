// Package ctxsleep is the pause of the tools' polling loops: a duration, or
// less if the context ends first.
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends and then returns ctx's error. A d of
// zero or less waits nothing and returns ctx's error, if any.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
