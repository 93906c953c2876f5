package workload

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter/mobycountertest"
)

func server(t *testing.T) (*mobycountertest.Server, *mobycounter.Client) {
	t.Helper()
	srv, err := mobycountertest.NewServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, mobycounter.New(srv.URL, mobycounter.WithTimeout(time.Second))
}

// fast is a writer at test speed.
func fast(app *mobycounter.Client) Config {
	return Config{App: app, Writer: writer, Seed: 1, MinGap: time.Millisecond, MaxGap: 3 * time.Millisecond,
		RequestTimeout: time.Second, Lead: 20 * time.Millisecond, Loss: Allowance{Crash: true, Bound: 10 * time.Millisecond}}
}

// Against a healthy app every click is acknowledged and read back, and a
// mark of the writer planted while it runs is reported as a phantom.
func TestWriterAgainstTheApp(t *testing.T) {
	_, app := server(t)
	ctx := context.Background()
	w, err := Start(ctx, fast(app))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WaitLead(ctx); err != nil {
		t.Fatal(err)
	}
	phantom := mobycounter.Mark{Writer: writer, Seq: 1_000_000}.String()
	if err := app.Write(ctx, phantom); err != nil {
		t.Fatal(err)
	}
	s := w.Finish(ctx, time.Now(), true)
	if s.Sent == 0 || s.OK != s.Sent || s.Present != s.Sent || len(s.Lost) != 0 || s.StoppedBy != StoppedByFinish {
		t.Errorf("sent %d, ok %d, present %d, lost %v, stopped by %q", s.Sent, s.OK, s.Present, s.Lost, s.StoppedBy)
	}
	if len(s.Phantoms) != 1 || s.Phantoms[0] != phantom {
		t.Errorf("phantoms %q, want the planted %s", s.Phantoms, phantom)
	}
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0], phantom) {
		t.Errorf("problems %q", p)
	}
	for i, c := range s.Clicks {
		if c.Seq != i+1 || c.SentAt.IsZero() || c.AnsweredAt.Before(c.SentAt) {
			t.Errorf("click %d: %+v", i, c)
		}
	}
}

// The writer stops by itself at its limit, without Finish.
func TestWriterStopsByItself(t *testing.T) {
	_, app := server(t)
	cfg := fast(app)
	cfg.Limit = 30 * time.Millisecond
	w, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.loop:
	case <-time.After(10 * time.Second):
		w.Stop()
		t.Fatal("the writer did not stop at its limit")
	}
	if s := w.Finish(context.Background(), time.Now(), false); s.StoppedBy != StoppedByLimit {
		t.Errorf("stopped by %q", s.StoppedBy)
	}
}

// A writer id the volume already holds is refused; Draw takes the next.
func TestWriterIDInUse(t *testing.T) {
	_, app := server(t)
	ctx := context.Background()
	if err := app.Write(ctx, mobycounter.Mark{Writer: writer, Seq: 1}.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(ctx, fast(app)); err == nil || !strings.Contains(err.Error(), "abcd1234: the volume already holds its clicks") {
		t.Errorf("start with a used id: %v", err)
	}
	ids := []uint32{writer, 0, 0x0000beef}
	cfg := fast(app)
	cfg.Draw = func() uint32 { id := ids[0]; ids = ids[1:]; return id }
	w, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s := w.Finish(ctx, time.Now(), false); s.Writer != "0000beef" {
		t.Errorf("writer %s, want the first unused draw 0000beef", s.Writer)
	}
}

// A lead shorter than the crash-loss bound could not show a loss beyond
// it: refused.
func TestLeadShorterThanTheBound(t *testing.T) {
	_, app := server(t)
	cfg := fast(app)
	cfg.Lead = cfg.Loss.Bound / 2
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "shorter than the crash-loss bound") {
		t.Errorf("start: %v", err)
	}
}

// Classify tells acknowledged, refused (not stored) and unanswered (may be
// stored) apart from what the client really gets.
func TestClassify(t *testing.T) {
	status := func(code int) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "x", code) }))
		t.Cleanup(s.Close)
		return s.URL
	}
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack() // read the click, then drop the connection
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(cut.Close)
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	t.Cleanup(func() { close(hang); slow.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	_, app := server(t)

	for _, tc := range []struct {
		name, url string
		want      Outcome
	}{
		{"ok", "", OK},
		{"the ELB's 503: no instance in service", status(http.StatusServiceUnavailable), Failed},
		{"the app's 500", status(http.StatusInternalServerError), Failed},
		{"the ELB's 502: the instance reset", status(http.StatusBadGateway), Unknown},
		{"the ELB's 504: the instance did not answer", status(http.StatusGatewayTimeout), Unknown},
		{"connection refused", refused, Failed},
		{"connection cut after sending", cut.URL, Unknown},
		{"no answer within the timeout", slow.URL, Unknown},
	} {
		c := app
		if tc.url != "" {
			c = mobycounter.New(tc.url, mobycounter.WithTimeout(50*time.Millisecond))
		}
		err := c.Write(context.Background(), mobycounter.Mark{Writer: writer, Seq: 1}.String())
		if got := Classify(err); got != tc.want {
			t.Errorf("%s: %v is %s, want %s", tc.name, err, got, tc.want)
		}
	}
}
