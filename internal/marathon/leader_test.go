package marathon_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// Marathon 1.4.9's answers during an election (marathontest
// leadership.go), each of which Leader must wait out rather than report:
// 404 "There is no leader" from a leader that cannot read ZooKeeper, 503
// after a leaderless instance's 11 looks of 250 ms, and 504 after the
// connection timeout from an instance that forwards to a crashed leader.
func TestLeaderWaitsOutMarathonsElectionAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		status     int
		// atLeader: the answer is the leader's own, not the member's.
		atLeader bool
		// fault makes the answer; heal ends it (the election's end).
		fault, heal func(s *marathontest.Server, m *marathontest.Member)
		// took is the least time the faulty answer takes.
		took time.Duration
	}{
		{"404 from a leader that cannot read ZooKeeper", "There is no leader", 404, true,
			func(s *marathontest.Server, _ *marathontest.Member) { s.SetZooKeeperReadable(false) },
			func(s *marathontest.Server, _ *marathontest.Member) { s.SetZooKeeperReadable(true) }, 0},
		{"503 after the wait for consistent leadership", "Could not determine the current leader", 503, false,
			func(s *marathontest.Server, _ *marathontest.Member) { s.SetLeader(false) },
			func(s *marathontest.Server, m *marathontest.Member) { s.Elect(m) }, 60 * time.Millisecond},
		{"504 from a member forwarding to a crashed leader", "Connection to leader timed out.", 504, false,
			func(s *marathontest.Server, _ *marathontest.Member) { s.Crash() },
			func(s *marathontest.Server, m *marathontest.Member) { s.Elect(m) }, 40 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := fast
			opts.LeaderProxyWait, opts.LeaderProxyConnectionTimeout = 60*time.Millisecond, 40*time.Millisecond
			s := marathontest.NewServer(opts)
			defer s.Close()
			m := s.AddMember()
			tc.fault(s, m)
			ask := m.URL()
			if tc.atLeader {
				ask = s.URL()
			}
			// Marathon's own answer, first: the faulty one, after its wait.
			start := time.Now()
			resp, err := http.Get(ask + "/v2/leader")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || time.Since(start) < tc.took {
				t.Fatalf("GET /v2/leader through the member: %d after %s, want %d after at least %s", resp.StatusCode, time.Since(start), tc.status, tc.took)
			}
			var once sync.Once
			p := &progress{onLine: func(int, string) { once.Do(func() { tc.heal(s, m) }) }}
			leader, err := newClient(t, ask, p).Leader(ctxTimeout(t, 5*time.Second))
			want := strings.TrimPrefix(s.Leader(), "http://")
			if err != nil || leader != want || want == "" {
				t.Fatalf("Leader = %q, %v; want %q after the election\n%s", leader, err, want, p)
			}
			if !strings.Contains(p.String(), tc.want) {
				t.Errorf("progress does not show Marathon's answer %q:\n%s", tc.want, p)
			}
		})
	}
}

// A client whose deadline is shorter than the wait for consistent
// leadership never sees the 503: it sees no answer, and moves on to the
// next Marathon, which leads.
func TestLeaderMovesOnFromAnInstanceStillWaiting(t *testing.T) {
	opts := fast
	opts.LeaderProxyWait = 2 * time.Second
	s := marathontest.NewServer(opts)
	defer s.Close()
	m := s.AddMember()
	s.SetLeader(false)
	go func() { time.Sleep(400 * time.Millisecond); s.Elect(m) }()
	p := &progress{}
	c := newClientTimeout(t, s.URL()+","+m.URL(), p, 300*time.Millisecond)
	leader, err := c.Leader(ctxTimeout(t, 5*time.Second))
	if err != nil || "http://"+leader != m.URL() {
		t.Fatalf("Leader = %q, %v; want the member\n%s", leader, err, p)
	}
	if !strings.Contains(p.String(), "no answer within 300ms") {
		t.Errorf("progress does not show the unanswered wait:\n%s", p)
	}
}

func newClientTimeout(t *testing.T, url string, p *progress, timeout time.Duration) *marathon.Client {
	t.Helper()
	c, err := marathon.New(url, marathon.WithHTTPTimeout(timeout), marathon.WithPollInterval(5*time.Millisecond),
		marathon.WithBackoff(5*time.Millisecond, 20*time.Millisecond), marathon.WithProgress(p))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
