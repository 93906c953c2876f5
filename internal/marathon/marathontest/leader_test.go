package marathontest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// A Member that does not lead forwards every request to the leader, as
// Marathon 1.4.9's LeaderProxyFilter and JavaUrlConnectionRequestForwarder
// do: the answer is the leader's, with X-Marathon-Leader and
// X-Marathon-Via, and both instances log the request.
func TestNonLeaderProxiesToTheLeader(t *testing.T) {
	s := marathontest.NewServer(marathontest.Options{})
	defer s.Close()
	m := s.AddMember()
	leaderAddr := strings.TrimPrefix(s.URL(), "http://")

	resp, err := http.Get(m.URL() + "/v2/leader")
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Leader string }
	err = json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || l.Leader != leaderAddr {
		t.Fatalf("GET /v2/leader on the member = %d %+v %v, want the Server's %s", resp.StatusCode, l, err, leaderAddr)
	}
	if got := resp.Header.Get("X-Marathon-Leader"); got != s.URL() {
		t.Errorf("X-Marathon-Leader %q, want %s", got, s.URL())
	}
	memberAddr := strings.TrimPrefix(m.URL(), "http://")
	if got := resp.Header.Get("X-Marathon-Via"); got != "1.1 "+memberAddr {
		t.Errorf("X-Marathon-Via %q, want 1.1 %s", got, memberAddr)
	}
	var at []string
	for _, r := range s.Requests() {
		at = append(at, r.Addr+" via="+r.Via)
	}
	// Logged as they finish: the leader's forwarded request first.
	if want := []string{leaderAddr + " via=1.1 " + memberAddr, memberAddr + " via="}; strings.Join(at, "|") != strings.Join(want, "|") {
		t.Errorf("request log %q, want %q (the member's, forwarded to the leader)", at, want)
	}

	// The state is the cluster's: an app PUT through the member is the
	// leader's.
	if a := call(t, "PUT", m.URL()+"/v2/apps/g/app", "", app); a.status != 201 {
		t.Fatalf("PUT through the member: %d %s", a.status, a.body)
	}
	if a := call(t, "GET", s.URL()+"/v2/apps/g/app", "", ""); a.status != 200 {
		t.Errorf("the leader does not have the app PUT through the member: %d", a.status)
	}
}

// The leader's master dies: the others still believe it leads and answer
// 503 "Connection to leader refused." until a new leader is elected; then
// every instance answers for the new one, the restarted old one included.
func TestLeaderLoss(t *testing.T) {
	s := marathontest.NewServer(marathontest.Options{})
	defer s.Close()
	m := s.AddMember()
	s.Stop()
	if a := call(t, "GET", m.URL()+"/v2/info", "", ""); a.status != 503 || !strings.Contains(a.body, "Connection to leader refused.") {
		t.Errorf("member while the leader is down: %d %s", a.status, a.body)
	}
	s.SetLeader(false) // the election: nobody leads
	if a := call(t, "GET", m.URL()+"/v2/info", "", ""); a.status != 503 || !strings.Contains(a.body, "Could not determine the current leader") {
		t.Errorf("member during the election: %d %s", a.status, a.body)
	}
	s.Elect(m)
	if got := s.Leader(); got != m.URL() {
		t.Errorf("Leader() = %q, want %s", got, m.URL())
	}
	memberAddr := strings.TrimPrefix(m.URL(), "http://")
	if a := call(t, "GET", m.URL()+"/v2/info", "", ""); a.status != 200 || !strings.Contains(a.body, `"leader":"`+memberAddr+`"`) {
		t.Errorf("the new leader: %d %s", a.status, a.body)
	}
	s.Start()
	if a := call(t, "GET", s.URL()+"/v2/info", "", ""); a.status != 200 || !strings.Contains(a.body, `"leader":"`+memberAddr+`"`) {
		t.Errorf("the restarted old leader does not answer for the new one: %d %s", a.status, a.body)
	}
	// DELETE /v2/leader abdicates: no leader until the next election.
	if a := call(t, "DELETE", s.URL()+"/v2/leader", "", ""); a.status != 200 || !strings.Contains(a.body, "Leadership abdicated") {
		t.Errorf("DELETE /v2/leader: %d %s", a.status, a.body)
	}
	if got := s.Leader(); got != "" {
		t.Errorf("Leader() after abdication = %q", got)
	}
	if a := call(t, "GET", m.URL()+"/v2/leader", "", ""); a.status != 503 {
		t.Errorf("after abdication: %d %s", a.status, a.body)
	}
}

// A request that already passed an instance is a loop (502), and a leader
// that does not answer in time is 504.
func TestProxyLoopAndTimeout(t *testing.T) {
	s := marathontest.NewServer(marathontest.Options{LeaderProxyReadTimeout: 50 * time.Millisecond})
	defer s.Close()
	m := s.AddMember()
	req, _ := http.NewRequest("GET", m.URL()+"/v2/info", nil)
	req.Header.Set("X-Marathon-Via", "1.1 "+strings.TrimPrefix(m.URL(), "http://"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 {
		t.Errorf("a looping request: %d, want 502", resp.StatusCode)
	}
	s.DelayNext("/v2/info", time.Second, 1)
	if a := call(t, "GET", m.URL()+"/v2/info", "", ""); a.status != 504 || !strings.Contains(a.body, "Connection to leader timed out.") {
		t.Errorf("a slow leader: %d %s", a.status, a.body)
	}
}
