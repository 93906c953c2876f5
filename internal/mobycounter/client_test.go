package mobycounter_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter/mobycountertest"
)

func startApp(t *testing.T, dir string, opts ...mobycountertest.ServerOption) *mobycountertest.Server {
	t.Helper()
	s, err := mobycountertest.NewServer(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestWriteReadPing(t *testing.T) {
	app := startApp(t, t.TempDir())
	c := mobycounter.New(app.URL + "/")
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Read(ctx); err != nil || len(got) != 0 {
		t.Fatalf("fresh app: %v, %v", got, err)
	}
	written := []string{"100:200", "300:40"}
	for _, click := range written {
		if err := c.Write(ctx, click); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Read(ctx)
	if err != nil || !slices.Equal(got, written) {
		t.Fatalf("read %v, %v; want %v", got, err, written)
	}
	raw, err := os.ReadFile(app.Path())
	if err != nil || string(raw) != `["100:200","300:40"]` {
		t.Errorf("data file holds %s (%v), want what JSON.stringify writes", raw, err)
	}
}

func TestWriteRefusesMalformedClicks(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	defer srv.Close()
	for _, click := range []string{"", "1:", "a:b", "1:2\n3:4", "1:2:3"} {
		if err := mobycounter.New(srv.URL).Write(context.Background(), click); err == nil {
			t.Errorf("click %q accepted", click)
		}
	}
	if calls != 0 {
		t.Errorf("%d requests sent for malformed clicks", calls)
	}
}

func TestErrorsNameTheURLAndTheAnswer(t *testing.T) {
	elb := mobycountertest.NewELB()
	defer elb.Close()
	err := mobycounter.New(elb.URL).Ping(context.Background())
	var se *mobycounter.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable {
		t.Fatalf("ping through an ELB without backend: %v, want a 503 StatusError", err)
	}
	for _, want := range []string{elb.URL + "/v1/ping", "503", "Service Unavailable"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>It works!</html>"))
	}))
	defer html.Close()
	_, err = mobycounter.New(html.URL).Read(context.Background())
	if err == nil || !strings.Contains(err.Error(), html.URL+"/v1/whales") || !strings.Contains(err.Error(), "It works!") {
		t.Errorf("reading from something else: %v", err)
	}
	if err := mobycounter.New(html.URL).Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "something else") {
		t.Errorf("pinging something else: %v", err)
	}

	if err := mobycounter.New("elb.example.com").Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Errorf("URL without scheme: %v", err)
	}
}

func TestEveryCallHasATimeout(t *testing.T) {
	// The handler never answers; release lets it return before Close, which
	// otherwise waits for it (the server does not notice the client gone
	// while a request body is unread).
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	c := mobycounter.New(hang.URL, mobycounter.WithTimeout(20*time.Millisecond))
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"ping":  func() error { return c.Ping(ctx) },
		"write": func() error { return c.Write(ctx, "1:2") },
		"read":  func() error { _, err := c.Read(ctx); return err },
	} {
		if err := call(); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 20ms") {
			t.Errorf("%s against a hung server: %v", name, err)
		}
	}
}

func TestClicksAreUnique(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9]+:[0-9]+$`)
	a := mobycounter.NewClicker(rand.New(rand.NewPCG(1, 2)))
	b := mobycounter.NewClicker(rand.New(rand.NewPCG(3, 4)))
	seen := map[string]bool{}
	for range 500 {
		for _, c := range []string{a.Next(), b.Next()} {
			if !shape.MatchString(c) || seen[c] {
				t.Fatalf("click %q is malformed or repeated", c)
			}
			seen[c] = true
		}
	}
	if got := mobycounter.NewClick(7, 3); got != "7:3" {
		t.Errorf("NewClick(7, 3) = %q", got)
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		name                string
		written, read, want []string
	}{
		{"nothing lost", []string{"1:1", "1:2"}, []string{"0:9", "1:1", "1:2"}, nil},
		{"last clicks lost", []string{"1:1", "1:2", "1:3"}, []string{"1:1"}, []string{"1:2", "1:3"}},
		{"all lost", []string{"1:1"}, nil, []string{"1:1"}},
		{"duplicate written once read", []string{"1:1", "1:1"}, []string{"1:1"}, []string{"1:1"}},
		{"nothing written", nil, []string{"1:1"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mobycounter.Missing(tc.written, tc.read); !slices.Equal(got, tc.want) {
				t.Errorf("Missing = %v, want %v", got, tc.want)
			}
		})
	}
}
