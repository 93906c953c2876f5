package ctxsleep

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	ctx := context.Background()
	if err := Sleep(ctx, time.Millisecond); err != nil {
		t.Errorf("a whole sleep returned %v", err)
	}
	if err := Sleep(ctx, -time.Second); err != nil {
		t.Errorf("a negative sleep returned %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	// An hour: it returns only because the context has ended.
	if err := Sleep(cancelled, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("a sleep on an ended context returned %v, want context.Canceled", err)
	}
	if err := Sleep(cancelled, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("a zero sleep on an ended context returned %v, want context.Canceled", err)
	}
}
