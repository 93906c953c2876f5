package marathontest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"time"
)

// Headers of Marathon 1.4.9's leader proxy (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/api/LeaderProxyFilter.scala:
// LeaderProxyFilter.HEADER_MARATHON_LEADER,
// JavaUrlConnectionRequestForwarder.HEADER_VIA and HEADER_FORWARDED_FOR)
// and the forwarder's answers when the leader cannot be reached
// (ERROR_STATUS_LOOP, ERROR_STATUS_CONNECTION_REFUSED,
// ERROR_STATUS_GATEWAY_TIMEOUT).
const (
	headerLeader       = "X-Marathon-Leader"
	headerVia          = "X-Marathon-Via"
	headerForwardedFor = "X-Forwarded-For"
	msgProxyLoop       = "Detected proxying loop."
	msgLeaderRefused   = "Connection to leader refused."
	msgLeaderTimedOut  = "Connection to leader timed out."
)

// The forwarder's timeouts, Marathon 1.4.9's defaults
// (src/main/scala/mesosphere/marathon/LeaderProxyConf.scala:
// --leader_proxy_connection_timeout 5000 ms, --leader_proxy_read_timeout
// 10000 ms).
const (
	DefaultLeaderProxyConnectionTimeout = 5 * time.Second
	DefaultLeaderProxyReadTimeout       = 10 * time.Second
)

// Member is another Marathon instance of a Server's cluster, as on another
// master: an address of its own, the cluster's state (which Marathon keeps
// in ZooKeeper, shared by every instance), and no leadership unless
// elected (Server.Elect). Like every instance it answers through the
// leader proxy (Server.handle): while another instance leads, it forwards
// each request there.
type Member struct {
	s       *Server
	addr    string
	hs      *httptest.Server
	crashed bool // Crash: its master is gone (leadership.go)
}

// AddMember adds a Marathon instance to the cluster, serving at once and
// not the leader.
func (s *Server) AddMember() *Member {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("marathontest: reserving a port: %v", err))
	}
	addr := l.Addr().String()
	l.Close()
	m := &Member{s: s, addr: addr}
	s.mu.Lock()
	s.members = append(s.members, m)
	s.mu.Unlock()
	m.Start()
	return m
}

// URL is the member's base URL.
func (m *Member) URL() string { return "http://" + m.addr }

// Start serves on the member's address (again, after Stop).
func (m *Member) Start() {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.hs != nil {
		panic("marathontest: Member.Start called while serving")
	}
	l, err := net.Listen("tcp", m.addr)
	if err != nil {
		panic(fmt.Sprintf("marathontest: listening on the member's address %s: %v", m.addr, err))
	}
	m.hs = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(m.serve)}}
	m.hs.Start()
	m.crashed = false
}

// Stop stops the member, as its master or its Marathon died: connections
// to it are refused. If it led, the other instances still believe it
// leads (they answer 503 "Connection to leader refused." when they
// forward) until Elect or SetLeader(false) says otherwise, as they would
// until ZooKeeper expired its session and a new leader was elected; the
// periodic jobs stop.
func (m *Member) Stop() {
	m.s.mu.Lock()
	m.s.advance()
	hs := m.hs
	m.hs = nil
	if m.s.leaderMember == m {
		m.s.electedAt = time.Time{}
	}
	m.s.mu.Unlock()
	if hs != nil {
		hs.Close()
	}
}

func (m *Member) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer m.s.record(r, body, rec, m.addr, time.Now())
	m.s.mu.Lock()
	f := m.s.takeFault(m, r.Method, r.URL.Path)
	crashed := m.crashed
	m.s.mu.Unlock()
	if crashed {
		hang(r, rec)
		return
	}
	if !delay(f, r, rec) {
		return
	}
	m.s.handle(rec, r, body, m)
}

// Elect makes m the leader from now (nil: the Server's own instance), as
// the instances' ZooKeeper election would; the periodic jobs' timers start
// again. The leader must be serving.
func (s *Server) Elect(m *Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	s.leaderMember, s.leader = m, true
	if !s.leaderServing() {
		panic("marathontest: Elect of an instance that is not serving")
	}
	s.electedAt = s.opts.Now()
}

// Leader is the leading instance's base URL, "" while there is none.
func (s *Server) Leader() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.leader {
		return ""
	}
	return "http://" + s.leaderAddr()
}

// leaderAddr is the leading instance's host:port, as Marathon publishes it
// (--hostname:--http_port); the caller holds s.mu.
func (s *Server) leaderAddr() string {
	if s.leaderMember != nil {
		return s.leaderMember.addr
	}
	return s.addr
}

// leaderServing reports whether the leading instance serves; the caller
// holds s.mu.
func (s *Server) leaderServing() bool {
	if s.leaderMember != nil {
		return s.leaderMember.hs != nil
	}
	return s.hs != nil
}

// leaderResource is /v2/leader (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/api/v2/LeaderResource.scala), served
// by the leader alone (the proxy sends it there): GET names the leader,
// {"leader": "host:port"}; DELETE abdicates, and the cluster has no leader
// until the next election (SetLeader or Elect).
func (s *Server) leaderResource(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		if s.zkUnreadable {
			writeMessage(w, http.StatusNotFound, msgNoLeaderResource)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"leader": s.leaderAddr()})
	case http.MethodDelete:
		s.leader, s.electedAt = false, time.Time{}
		writeMessage(w, http.StatusOK, "Leadership abdicated")
	default:
		writeMessage(w, http.StatusMethodNotAllowed, "HTTP method not allowed")
	}
}

// proxy forwards a request received by the instance at self to the leader
// at leader, as JavaUrlConnectionRequestForwarder.forward does (same
// file): a request that already passed self is a loop (502); otherwise the
// request goes to the leader with its headers but Host and Connection,
// plus X-Marathon-Via "1.1 self" and X-Forwarded-For, within the
// connection and read timeouts; the leader's status, headers and body come
// back with X-Marathon-Via added. A refused connection is 503 "Connection
// to leader refused.", a timeout 504, any other failure 500.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, body []byte, self, leader string) {
	via := "1.1 " + self
	if strings.Contains(strings.Join(r.Header.Values(headerVia), ","), via) {
		writeSendError(w, http.StatusBadGateway, r.URL.Path, msgProxyLoop)
		return
	}
	connect, read := s.opts.LeaderProxyConnectionTimeout, s.opts.LeaderProxyReadTimeout
	if connect <= 0 {
		connect = DefaultLeaderProxyConnectionTimeout
	}
	if read <= 0 {
		read = DefaultLeaderProxyReadTimeout
	}
	var reqBody io.Reader
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodDelete {
		reqBody = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+leader+r.URL.RequestURI(), reqBody)
	if err != nil {
		writeSendError(w, http.StatusInternalServerError, r.URL.Path, "Server Error")
		return
	}
	for name, values := range r.Header {
		if !strings.EqualFold(name, "Host") && !strings.EqualFold(name, "Connection") {
			req.Header[name] = append([]string(nil), values...)
		}
	}
	req.Header.Add(headerVia, via)
	forwarded := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		forwarded = host
	}
	if prev := r.Header.Get(headerForwardedFor); prev != "" {
		forwarded = prev + "," + forwarded
	}
	req.Header.Set(headerForwardedFor, forwarded)
	client := &http.Client{
		Transport: &http.Transport{DialContext: (&net.Dialer{Timeout: connect}).DialContext, ResponseHeaderTimeout: read},
		// HttpURLConnection.setInstanceFollowRedirects(false)
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		var netErr net.Error
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			writeSendError(w, http.StatusServiceUnavailable, r.URL.Path, msgLeaderRefused)
		case errors.As(err, &netErr) && netErr.Timeout():
			writeSendError(w, http.StatusGatewayTimeout, r.URL.Path, msgLeaderTimedOut)
		default:
			writeSendError(w, http.StatusInternalServerError, r.URL.Path, "Server Error")
		}
		return
	}
	defer resp.Body.Close()
	for name, values := range resp.Header {
		for _, v := range values {
			w.Header().Add(name, v)
		}
	}
	w.Header().Add(headerVia, via)
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
