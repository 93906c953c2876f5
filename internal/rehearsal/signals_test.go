package rehearsal_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/rehearsal"
)

// lines is a writer that hands every write to a channel.
type lines chan string

func (l lines) Write(p []byte) (int, error) { l <- string(p); return len(p), nil }

func TestHandleSignals(t *testing.T) {
	sigs := make(chan os.Signal)
	out := make(lines, 4)
	ctx, stop := rehearsal.HandleSignals(context.Background(), sigs, out, "rehearsal-x",
		func() []string { return []string{"pulumi destroy --yes --stack rehearsal-x"} })
	defer stop()

	sigs <- os.Interrupt
	<-ctx.Done()
	if cause := context.Cause(ctx); cause == nil || !strings.Contains(cause.Error(), "received interrupt") {
		t.Errorf("cause %v, want the signal", cause)
	}
	if msg := <-out; !strings.Contains(msg, "stack rehearsal-x is destroyed before exit") {
		t.Errorf("first signal says %q", msg)
	}

	sigs <- syscall.SIGTERM // the CI runner's follow-up
	msg := <-out
	for _, want := range []string{"terminated again", "destroy of stack rehearsal-x is still running", "pulumi destroy --yes --stack rehearsal-x"} {
		if !strings.Contains(msg, want) {
			t.Errorf("second signal's message lacks %q: %q", want, msg)
		}
	}
}

func TestHandleSignalsStop(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	ctx, stop := rehearsal.HandleSignals(context.Background(), sigs, make(lines, 1), "x", func() []string { return nil })
	stop()
	<-ctx.Done() // stop releases the context
	if context.Cause(ctx) != context.Canceled {
		t.Errorf("cause after stop %v, want plain cancellation", context.Cause(ctx))
	}
}

func TestDetectOperatorCIDR(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
		errSub string
	}{
		{"address", 200, "198.51.100.23\n", "198.51.100.23/32", ""},
		{"ipv6", 200, "2001:db8::1\n", "", "not an IPv4 address"},
		{"garbage", 200, "<html>", "", "not an IPv4 address"},
		{"error", 503, "", "", "HTTP 503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, err := rehearsal.DetectOperatorCIDR(ctx, srv.Client(), srv.URL)
			if got != tc.want || (err == nil) != (tc.errSub == "") || err != nil && (!strings.Contains(err.Error(), tc.errSub) || !strings.Contains(err.Error(), "--operator-cidr")) {
				t.Errorf("got %q, %v; want %q, error with %q and the flag to use", got, err, tc.want, tc.errSub)
			}
		})
	}
}
