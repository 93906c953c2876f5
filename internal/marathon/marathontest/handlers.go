package marathontest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Marathon's messages, verbatim (mesosphere/marathon 1.4:
// src/main/scala/mesosphere/marathon/Exceptions.scala AppLockedException,
// UnknownAppException; api/LeaderProxyFilter.scala
// ERROR_STATUS_NO_CURRENT_LEADER).
const (
	msgLocked   = "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'."
	msgNoLeader = "Could not determine the current leader"
)

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// serve is the handler of the Server's own instance; FailNext and
// DelayNext faults apply to it alone.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer s.record(r, body, rec, s.addr, time.Now())

	s.mu.Lock()
	f := s.takeFault(nil, r.Method, r.URL.Path)
	crashed := s.crashed
	s.mu.Unlock()
	if crashed {
		hang(r, rec)
		return
	}
	if !delay(f, r, rec) {
		return
	}
	if f != nil && f.status != 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.advance()
		s.writeFault(rec, r.URL.Path, f.status)
		return
	}
	s.handle(rec, r, body, nil)
}

// delay waits out f's delay, if any, and reports whether the client is
// still there to answer.
func delay(f *fault, r *http.Request, rec *recorder) bool {
	if f == nil || f.delay <= 0 {
		return true
	}
	select {
	case <-time.After(f.delay):
		return true
	case <-r.Context().Done():
		rec.status = 0 // the client gave up before an answer
		return false
	}
}

// record logs a request an instance (at addr) received.
func (s *Server) record(r *http.Request, body []byte, rec *recorder, addr string, received time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Accept: r.Header.Get("Accept"), Body: body, Status: rec.status, Addr: addr,
		Via: r.Header.Get(headerVia), Took: time.Since(received)})
}

// handle answers a request to instance self (nil: the Server's own) as
// Marathon 1.4.9's LeaderProxyFilter does before any resource sees it
// (mesosphere/marathon v1.4.9 src/main/scala/mesosphere/marathon/api/
// LeaderProxyFilter.scala doFilter, mapped to "/*" by
// MarathonRestModule.scala): the leader serves it and names itself in
// X-Marathon-Leader; an instance that knows no other leader (none elected,
// or ZooKeeper unreadable) looks again every 250 ms, 11 times
// (LeaderProxyWait), and then answers 503 "Could not determine the current
// leader"; any other instance forwards it to the leader (proxy), which
// ends in 504 after the connection timeout when the leader's master
// crashed (leadership.go).
func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte, self *Member) {
	wait := s.leaderProxyWait()
	step := wait / leaderProxyRetries
	for tries := 0; ; tries++ {
		s.mu.Lock()
		s.advance()
		switch {
		case s.leader && s.leaderMember == self:
			defer s.mu.Unlock()
			w.Header().Set(headerLeader, "http://"+s.leaderAddr())
			s.route(w, r, body)
			return
		case s.leader && !s.zkUnreadable:
			leader, selfAddr := s.leaderAddr(), s.addr
			if self != nil {
				selfAddr = self.addr
			}
			crashed := s.crashedAddr(leader)
			s.mu.Unlock()
			if crashed {
				s.proxyTimeout(w, r)
				return
			}
			s.proxy(w, r, body, selfAddr, leader)
			return
		}
		s.mu.Unlock()
		if tries >= leaderProxyRetries {
			writeNoLeader(w, r.URL.Path)
			return
		}
		select {
		case <-time.After(step):
		case <-r.Context().Done():
			gaveUp(w)
			return
		}
	}
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	path := r.URL.Path
	switch {
	case path == "/ping":
		s.ping(w, r)
	case path == "/v2/info" && r.Method == http.MethodGet:
		s.info(w)
	case path == "/v2/leader":
		s.leaderResource(w, r)
	case path == "/v2/deployments" && r.Method == http.MethodGet:
		s.listDeployments(w)
	case path == "/v2/apps" && r.Method == http.MethodGet:
		s.listApps(w, r)
	case strings.HasPrefix(path, "/v2/apps/"):
		rest := strings.Trim(strings.TrimPrefix(path, "/v2/apps"), "/")
		if id, ok := strings.CutSuffix(rest, "/tasks"); ok && r.Method == http.MethodGet {
			s.appTasks(w, "/"+id)
			return
		}
		id := "/" + rest
		switch r.Method {
		case http.MethodGet:
			s.getApp(w, id)
		case http.MethodPut:
			s.putApp(w, r, id, body)
		case http.MethodDelete:
			s.deleteApp(w, r, id)
		default:
			writeMessage(w, http.StatusMethodNotAllowed, "HTTP method not allowed")
		}
	default:
		writeMessage(w, http.StatusNotFound, "Not Found: "+path)
	}
}

func (s *Server) info(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name":        "marathon",
		"version":     marathonVersion(),
		"elected":     true,
		"leader":      s.leaderAddr(),
		"frameworkId": FrameworkID,
		"http_config": map[string]any{"http_port": 8080, "https_port": 8443},
		"marathon_config": map[string]any{
			"master": "zk://127.0.0.1:2181/mesos", "task_launch_timeout": 300000,
			"local_port_min": 10000, "local_port_max": 20000,
			// The timers the stand-in runs, in ms as InfoResource.scala writes them.
			"task_lost_expunge_initial_delay": s.opts.ExpungeInitialDelay.Milliseconds(),
			"task_lost_expunge_interval":      s.opts.ExpungeInterval.Milliseconds(),
			"reconciliation_initial_delay":    s.opts.ReconciliationInitialDelay.Milliseconds(),
			"reconciliation_interval":         s.opts.ReconciliationInterval.Milliseconds(),
		},
		"zookeeper_config": map[string]any{"zk": "zk://127.0.0.1:2181/marathon"},
	})
}

func (s *Server) listDeployments(w http.ResponseWriter) {
	out := []any{}
	for _, d := range s.deployments {
		action := map[string]any{"action": d.action, "app": d.appID}
		out = append(out, map[string]any{
			"id":             d.id,
			"version":        d.version,
			"affectedApps":   []string{d.appID},
			"affectedPods":   []string{},
			"steps":          []any{map[string]any{"actions": []any{action}}},
			"currentActions": []any{map[string]any{"action": d.action, "app": d.appID, "readinessCheckResults": []any{}}},
			"currentStep":    1,
			"totalSteps":     1,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	withTasks := false
	for _, e := range r.URL.Query()["embed"] {
		withTasks = withTasks || e == "apps.tasks"
	}
	out := []any{}
	for _, id := range sortedAppIDs(s.apps) {
		out = append(out, s.appJSON(s.apps[id], withTasks))
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": out})
}

// getApp answers GET /v2/apps/{id}. Marathon embeds the tasks here whether
// or not embed=app.tasks is given (the 2015 demo's failnode.sh reads
// "host" from this answer without it).
func (s *Server) getApp(w http.ResponseWriter, id string) {
	ap, ok := s.apps[id]
	if !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("App '%s' does not exist", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"app": s.appJSON(ap, true)})
}

func (s *Server) appTasks(w http.ResponseWriter, id string) {
	ap, ok := s.apps[id]
	if !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("App '%s' does not exist", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": s.tasksJSON(ap)})
}

func (s *Server) putApp(w http.ResponseWriter, r *http.Request, id string, raw []byte) {
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid JSON",
			"details": []any{map[string]any{"path": "/", "errors": []string{err.Error()}}}})
		return
	}
	if path, msg := validateUnreachableStrategy(body["unreachableStrategy"]); path != "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Object is not valid",
			"details": []any{map[string]any{"path": path, "errors": []string{msg}}}})
		return
	}
	if !s.unlock(w, r, id) {
		return
	}
	d, created := s.upsert(id, body)
	s.advance()
	status := http.StatusOK
	if created {
		w.Header().Set("Location", id)
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"deploymentId": d.id, "version": d.version})
}

// deleteApp removes the app at once, as Marathon stores the target group
// when the deployment starts, and keeps a StopApplication deployment that
// locks the id for DeploymentDuration.
func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request, id string) {
	if _, ok := s.apps[id]; !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("App '%s' does not exist", id))
		return
	}
	if !s.unlock(w, r, id) {
		return
	}
	delete(s.apps, id)
	version, at := s.version()
	d := s.startDeployment(id, version, "StopApplication", at)
	writeJSON(w, http.StatusOK, map[string]any{"deploymentId": d.id, "version": d.version})
}

func (s *Server) appJSON(ap *app, withTasks bool) map[string]any {
	out := copyJSON(ap.def).(map[string]any)
	out["version"] = ap.version
	out["versionInfo"] = map[string]any{"lastScalingAt": ap.version, "lastConfigChangeAt": ap.changedAt}
	now := s.opts.Now()
	counts := map[string]int{}
	for _, t := range ap.tasks {
		counts[t.state(now, s.opts.StagingDuration)]++
		// TaskForStatistics (core/appinfo/TaskForStatistics.scala):
		// healthy when every result is alive, unhealthy when one is not.
		if hs := s.health(ap, t, now); len(hs) > 0 {
			if hs[0].(map[string]any)["alive"] == true {
				counts["healthy"]++
			} else {
				counts["unhealthy"]++
			}
		}
	}
	out["tasksStaged"] = counts[TaskStaging]
	out["tasksRunning"] = counts[TaskRunning]
	out["tasksHealthy"] = counts["healthy"]
	out["tasksUnhealthy"] = counts["unhealthy"]
	deps := []any{}
	for _, d := range s.lockedBy(ap.id) {
		deps = append(deps, map[string]any{"id": d.id})
	}
	out["deployments"] = deps
	if withTasks {
		out["tasks"] = s.tasksJSON(ap)
	}
	return out
}

// tasksJSON lists the app's tasks as Marathon 1.4.9 writes them
// (mesosphere/marathon v1.4.9 api/v2/json/Formats.scala TaskWrites and
// EnrichedTaskWrites): id and state (Condition.toMesosTaskStateOrStaging);
// for an active task (staging, running, unreachable: Condition.Active)
// startedAt (null until TASK_RUNNING), stagedAt, ports and version;
// ipAddresses once the executor reported them; appId, slaveId and host
// from the agent; servicePorts only when non-empty (AppTasksResource and
// the app's tasks embed pass none); healthCheckResults only when there are
// some. An unreachable task stays in the list, state TASK_UNREACHABLE,
// until the expunge job removes it. AppTasksResource answers a Set, in no
// particular order; the stand-in lists the oldest first, so a client that
// takes the first task after a failover gets the unreachable one.
func (s *Server) tasksJSON(ap *app) []any {
	now := s.opts.Now()
	out := []any{}
	for _, t := range ap.tasks {
		state := t.state(now, s.opts.StagingDuration)
		started := t.stagedAt.Add(s.opts.StagingDuration)
		tj := map[string]any{
			"id": t.id, "appId": ap.id, "host": t.host, "slaveId": t.slaveID, "state": state,
			"stagedAt": formatTime(t.stagedAt), "startedAt": nil, "version": t.version, "ports": t.ports,
		}
		if state == TaskRunning || (state == TaskUnreachable && t.ran(s.opts.StagingDuration)) {
			tj["startedAt"] = formatTime(started)
			tj["ipAddresses"] = []any{map[string]any{"ipAddress": dockerBridgeIP, "protocol": "IPv4"}}
		}
		if hs := s.health(ap, t, now); len(hs) > 0 {
			tj["healthCheckResults"] = hs
		}
		out = append(out, tj)
	}
	return out
}

func (s *Server) writeFault(w http.ResponseWriter, path string, status int) {
	switch status {
	case http.StatusConflict:
		locks := []*deployment{{id: "00000000-1111-4000-8000-000000000000"}}
		if id, ok := strings.CutPrefix(path, "/v2/apps"); ok {
			if l := s.lockedBy(id); len(l) > 0 {
				locks = l
			}
		}
		writeLocked(w, locks)
	case http.StatusServiceUnavailable:
		writeNoLeader(w, path)
	default:
		writeMessage(w, status, http.StatusText(status))
	}
}

// unlock handles a change to an app that running deployments lock: with
// ?force=true they are cancelled, as Marathon does; without, the request is
// answered 409 and unlock reports false.
func (s *Server) unlock(w http.ResponseWriter, r *http.Request, id string) bool {
	locks := s.lockedBy(id)
	if len(locks) == 0 {
		return true
	}
	if r.URL.Query().Get("force") != "true" {
		writeLocked(w, locks)
		return false
	}
	s.cancelDeployments(id)
	return true
}

func writeLocked(w http.ResponseWriter, locks []*deployment) {
	deps := []any{}
	for _, d := range locks {
		deps = append(deps, map[string]any{"id": d.id})
	}
	writeJSON(w, http.StatusConflict, map[string]any{"message": msgLocked, "deployments": deps})
}

// writeNoLeader answers as Jetty's sendError does for LeaderProxyFilter: an
// HTML page, not JSON.
func writeNoLeader(w http.ResponseWriter, path string) {
	writeSendError(w, http.StatusServiceUnavailable, path, msgNoLeader)
}

// writeSendError is Jetty's error page for response.sendError(status, msg),
// which LeaderProxyFilter and the request forwarder use.
func writeSendError(w http.ResponseWriter, status int, path, msg string) {
	w.Header().Set("Content-Type", "text/html;charset=ISO-8859-1")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n"+
		"<title>Error %d %s</title>\n</head>\n<body><h2>HTTP ERROR %d</h2>\n<p>Problem accessing %s. Reason:\n<pre>    %s</pre></p>\n</body>\n</html>\n",
		status, msg, status, path, msg)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; qs=2")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
