package marathon

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// go-marathon's /ping goes through Marathon 1.4.9's leader proxy like every
// path (api/MarathonRestModule.scala, filter("/*")): a leaderless Marathon
// holds it facts.MarathonLeaderWait before its 503. The transport bounds it
// by the client's timeout, records nothing and moves no endpoint.
func TestPingIsBoundedAndUnrecorded(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ping" {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
		select { // a leaderless Marathon's wait, or longer (a lost leader)
		case <-time.After(facts.MarathonLeaderWait):
			http.Error(w, facts.MarathonNoLeader, http.StatusServiceUnavailable)
		case <-release:
		}
	}))
	defer srv.Close()
	ends := &endpoints{urls: []string{srv.URL, "http://192.0.2.1:8080"}, progress: io.Discard}
	tr := &libTransport{base: http.DefaultTransport, timeout: 100 * time.Millisecond, libURL: srv.URL, ends: ends}
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := tr.RoundTrip(req)
	if took := time.Since(start); err == nil || took > facts.MarathonLeaderWait/2 {
		t.Errorf("/ping: response %v, error %v after %s: want it cut at the 100ms timeout", resp, err, took)
	}
	if tr.take() != nil || ends.current() != srv.URL {
		t.Errorf("/ping was recorded or moved the endpoint to %s", ends.current())
	}

	// With a timeout above the wait, the 503 comes back whole.
	tr.timeout = facts.MarathonLeaderWait + time.Second
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || len(body) == 0 {
		t.Errorf("/ping: %d %q, want the leaderless 503 with its body", resp.StatusCode, body)
	}
}
