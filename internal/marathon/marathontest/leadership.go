package marathontest

import (
	"net/http"
	"time"
)

// Marathon 1.4.9's answers while its leadership is uncertain, which a
// client must survive (mesosphere/marathon v1.4.9):
//   - LeaderProxyFilter.doFilter runs before every resource ("/*",
//     MarathonRestModule.scala), /v2/leader and /ping included. An instance
//     that does not lead and knows no other leader (leaderHostPort None, or
//     itself) calls waitForConsistentLeadership: retries = 10, a 250 ms
//     sleep while retries >= 0, so 11 sleeps, 2.75 s, before its 503
//     "Could not determine the current leader" (LeaderProxyWait).
//   - An instance that knows another leader forwards to it
//     (JavaUrlConnectionRequestForwarder); a leader whose host is gone (a
//     crashed master: no RST, the SYN is unanswered) costs the whole
//     --leader_proxy_connection_timeout (5000 ms) and then 504
//     "Connection to leader timed out." (SocketTimeoutException).
//   - The leader itself answers GET /v2/leader from
//     electionService.leaderHostPort, read from ZooKeeper: while ZooKeeper
//     cannot be read that is None and the answer is 404 {"message":
//     "There is no leader"} (api/v2/LeaderResource.scala index), which
//     go-marathon and this repository's client must not take for "no such
//     thing" but for an election under way.
//   - Marathon abdicates (and exits: CuratorElectionService.stop(exit =
//     true)) when Curator reports its ZooKeeper connection SUSPENDED
//     (LeaderLatch -> notLeader) and when its scheduler driver loses its
//     Mesos master (MarathonScheduler.disconnected -> driver.stop ->
//     MarathonSchedulerService abdicates): Abdicate.

// FrameworkID is the Mesos framework id Marathon registered with, as
// /v2/info names it (frameworkId); every leader re-registers the same one
// (a failover of the framework, not a new one).
const FrameworkID = "4f2d8e1a-0000-4000-8000-000000000001-0000"

// DefaultLeaderProxyWait is waitForConsistentLeadership's wait: 11 x 250 ms.
const DefaultLeaderProxyWait = 11 * 250 * time.Millisecond

// leaderProxyRetries is how many times waitForConsistentLeadership looks
// again (retries = 10 down to 0).
const leaderProxyRetries = 11

// msgNoLeaderResource is LeaderResource's 404 message.
const msgNoLeaderResource = "There is no leader"

// leaderProxyWait is the wait before a leaderless instance's 503.
func (s *Server) leaderProxyWait() time.Duration {
	if s.opts.LeaderProxyWait > 0 {
		return s.opts.LeaderProxyWait
	}
	return DefaultLeaderProxyWait
}

// SetZooKeeperReadable says whether the Marathons can read ZooKeeper
// (false while its ensemble has no quorum, or a Marathon's server is gone
// and it has not reconnected). Unreadable, the leader still serves from
// memory but answers GET /v2/leader 404 "There is no leader", and the
// other instances, knowing no leader, wait and answer 503.
func (s *Server) SetZooKeeperReadable(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.zkUnreadable = !ok
}

// Abdicate ends the current leadership as Marathon 1.4.9 does when
// Curator reports SUSPENDED or its driver loses its Mesos master: the
// leading instance exits (its address refuses connections; Start or
// Member.Start brings it back as a candidate) and nobody leads until the
// next Elect.
func (s *Server) Abdicate() {
	s.mu.Lock()
	s.advance()
	if !s.leader {
		s.mu.Unlock()
		return
	}
	m := s.leaderMember
	s.leader, s.electedAt = false, time.Time{}
	s.mu.Unlock()
	if m != nil {
		m.Stop()
	} else {
		s.Stop()
	}
}

// Crash makes the member's master gone as a crashed EC2 instance is: its
// address still takes connections in this stand-in but never answers
// (the client waits until it gives up), and the other instances that
// forward to it wait their connection timeout and answer 504. If it led,
// the others still believe it leads until Elect or SetLeader.
func (m *Member) Crash() {
	m.s.mu.Lock()
	m.s.advance()
	m.crashed = true
	if m.s.leaderMember == m {
		m.s.electedAt = time.Time{}
	}
	m.s.mu.Unlock()
}

// Crash is Member.Crash for the Server's own instance.
func (s *Server) Crash() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.crashed = true
	if s.leaderMember == nil {
		s.electedAt = time.Time{}
	}
}

// hang holds a request to a crashed instance until its client gives up.
func hang(r *http.Request, rec *recorder) {
	<-r.Context().Done()
	rec.status = 0
}

// crashedAddr reports whether the instance at addr crashed; the caller
// holds s.mu.
func (s *Server) crashedAddr(addr string) bool {
	if addr == s.addr {
		return s.crashed
	}
	for _, m := range s.members {
		if m.addr == addr {
			return m.crashed
		}
	}
	return false
}

// proxyTimeout answers as the forwarder does when the leader's host is
// gone: nothing for the connection timeout, then 504.
func (s *Server) proxyTimeout(w http.ResponseWriter, r *http.Request) {
	connect := s.opts.LeaderProxyConnectionTimeout
	if connect <= 0 {
		connect = DefaultLeaderProxyConnectionTimeout
	}
	select {
	case <-time.After(connect):
		writeSendError(w, http.StatusGatewayTimeout, r.URL.Path, msgLeaderTimedOut)
	case <-r.Context().Done():
		gaveUp(w)
	}
}

// gaveUp logs a request whose client left before the answer as
// unanswered (Request.Status 0).
func gaveUp(w http.ResponseWriter) {
	if rec, ok := w.(*recorder); ok {
		rec.status = 0
	}
}

// Serving reports whether instance m (nil: the Server's own) serves and
// has not crashed: whether it can be elected.
func (s *Server) Serving(m *Member) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m == nil {
		return s.hs != nil && !s.crashed
	}
	return m.hs != nil && !m.crashed
}
