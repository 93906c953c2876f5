package failovertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// The masters: each runs a ZooKeeper server, a Mesos master and a
// Marathon, and the three elect their leaders apart, so each may lead on
// another master (Options.MarathonLeader, MesosLeader, ZooKeeperLeader;
// master 1 by default). Marathon is marathontest's Server (master 1) and
// its Members (masters 2 to N), sharing the cluster's state as Marathon
// shares it in ZooKeeper; Mesos is a stand-in of /master/state per master;
// ZooKeeper answers the four-letter word srvr (zookeeper.go).
//
// When the instance of a master is terminated, its three die at once: its
// Marathon's address takes connections and never answers (a crashed EC2
// instance drops the packets), so the other Marathons that still believe
// it leads answer 504 after their connection timeout; its Mesos master and
// ZooKeeper refuse connections. What follows depends on what it led
// (mesosphere/marathon v1.4.9, apache/mesos 1.4.1, apache/zookeeper
// release-3.4.14; the budget's steps, failover.MasterBudgetWith):
//   - ZooKeeper's leader: the followers drop it after Options.SyncTimeout
//     (syncLimit x tickTime); meanwhile no Marathon can read ZooKeeper (the
//     leader answers /v2/leader 404 "There is no leader"). At the drop every
//     client is disconnected: the leading Marathon, Curator SUSPENDED,
//     exits (Abdicate) and restarts later as a candidate. After
//     Options.ZooKeeperElection the live server with the highest id leads
//     (FastLeaderElection: equal zxids, the higher sid wins) and restarts
//     every session's timer (SessionTrackerImpl): the lost master's and the
//     exited Marathon's sessions expire SessionTimeout later, and only then
//     is a Marathon (and, if the lost master led it, a Mesos master)
//     elected. A live leading Mesos master reconnects within its session
//     and keeps leading.
//   - otherwise its sessions expire Options.SessionTimeout after the kill.
//     If it led Mesos, the next live master in the contenders' order leads
//     Mesos and the agents re-register after Options.Reregistration; the
//     leading Marathon's driver loses its master and Marathon abdicates
//     then (MarathonScheduler.disconnected). If it led Marathon, the next
//     live master's Marathon leads.
// A Marathon leads Options.MarathonElection after its latch is free (the
// time to load its state and register with the Mesos leader). Marathon's
// framework is active on the Mesos leader while Marathon has a leader.
// The agents and their tasks run on throughout.

// Defaults of the master options.
const (
	DefaultSessionTimeout = 80 * time.Millisecond
	DefaultReregistration = 20 * time.Millisecond
	// DefaultMarathonElection is the time from a free latch to a
	// registered Marathon leader.
	DefaultMarathonElection = 10 * time.Millisecond
)

// Master is one master of the cluster.
type Master struct {
	Index       int // 1-based
	InstanceID  string
	PrivateIP   string
	MarathonURL string
	MesosURL    string
	// ZooKeeperAddr is its ZooKeeper's client address (host:port) on this
	// machine, for srvr.
	ZooKeeperAddr string
}

type master struct {
	Master
	member *marathontest.Member // nil for master 1, the Server's own instance
	mesos  *httptest.Server
	zk     *zkServer
	dead   bool
}

// MasterEvent is a step of the masters' failover as the stand-in made it
// happen: the truth a watch's timeline is compared with.
type MasterEvent struct {
	At   time.Time
	What string // one of the MasterEvent* names
	// Master is the master it concerns (1-based).
	Master int
}

// What the stand-in's masters do.
const (
	MasterEventZooKeeperDropped  = "ZooKeeper followers drop the leader"
	MasterEventZooKeeperLeader   = "ZooKeeper leader elected"
	MasterEventSessionsExpired   = "the lost master's sessions expire"
	MasterEventMesosLeader       = "Mesos leader elected"
	MasterEventAgentsRegistered  = "agents re-registered"
	MasterEventMarathonAbdicated = "Marathon abdicated"
	MasterEventMarathonLeader    = "Marathon leader elected"
)

// startMasters adds the masters' instances to EC2, their Marathons, their
// Mesos masters and their ZooKeepers, and elects the leaders the options
// name.
func (c *Cluster) startMasters() {
	ips := facts.MasterPrivateIPs(c.opts.Masters)
	for i, ip := range ips {
		m := &master{Master: Master{Index: i + 1, InstanceID: fmt.Sprintf("i-0a9e00000000100%02d", i+1), PrivateIP: ip}}
		if i == 0 {
			m.MarathonURL = c.mt.URL()
		} else {
			m.member = c.mt.AddMember()
			m.MarathonURL = m.member.URL()
		}
		tags := map[string]string{facts.TagName: fmt.Sprintf("%s-%s-master-%d", facts.Project, Stack, i+1)}
		if !c.opts.UntaggedMasters {
			tags[facts.TagProject] = facts.Project
			tags[facts.TagStack] = Stack
			tags[facts.TagClusterID] = ClusterID
			tags[facts.TagRole] = facts.RoleMaster
		}
		c.ec2.AddInstance(ec2test.Instance{ID: m.InstanceID, PrivateIP: ip, Tags: tags})
		idx := i
		m.mesos = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.mesosState(idx, w, r) }))
		m.MesosURL = m.mesos.URL
		m.zk = c.startZooKeeper(idx)
		m.ZooKeeperAddr = m.zk.addr
		c.masters = append(c.masters, m)
	}
	c.mesosLeader = c.opts.MesosLeader - 1
	c.zkLeader = c.opts.ZooKeeperLeader - 1
	if l := c.opts.MarathonLeader; l > 1 {
		c.mt.Elect(c.masters[l-1].member)
	}
	for h := range c.registered {
		c.active[h] = true
	}
}

// mesosState answers GET /master/state as Mesos 1.4 does (apache/mesos
// 1.4.1 src/master/http.cpp Master::Http::state): the leader answers its
// state, with "leader" its PID (master@ip:port), "slaves" the agents it
// knows with "hostname" and "active", and "frameworks" with Marathon's
// (id, "active" while it is registered, its "tasks" with "id" and
// "state"); another master redirects (307) to the leader ("//ip:port" +
// path, Master::Http::redirect), or answers 503 while no leader is known.
func (c *Cluster) mesosState(i int, w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/master/state" {
		http.NotFound(w, r)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.mesosLeader < 0:
		http.Error(w, "No leader elected", http.StatusServiceUnavailable)
		return
	case c.mesosLeader != i:
		w.Header().Set("Location", fmt.Sprintf("//%s:%d%s", c.masters[c.mesosLeader].PrivateIP, facts.MesosMasterPort, r.URL.Path))
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	type slave struct {
		Hostname string `json:"hostname"`
		Active   bool   `json:"active"`
	}
	type task struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	var slaves []slave
	var tasks []task
	for _, a := range c.agents {
		// An agent Mesos marked unreachable is no longer among its slaves
		// (Master::markUnreachable removes it; it is counted in
		// unreachable_slaves). A cut-off agent stays active until then:
		// its connection did not break.
		if c.registered[a.Host] && c.active[a.Host] && !c.mt.AgentUnreachable(a.Host) {
			slaves = append(slaves, slave{Hostname: a.Host, Active: !c.dead[a.Host]})
			for _, t := range c.mt.Tasks(facts.AppID) {
				if t.Host == a.Host {
					tasks = append(tasks, task{ID: t.ID, State: t.State})
				}
			}
		}
	}
	frameworks := []any{}
	if c.mt.Leader() != "" {
		frameworks = append(frameworks, map[string]any{"id": marathontest.FrameworkID, "name": "marathon", "active": true, "tasks": tasks})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"leader": fmt.Sprintf("master@%s:%d", c.masters[i].PrivateIP, facts.MesosMasterPort), "slaves": slaves, "frameworks": frameworks})
}

// masterOf is the master of an instance, or nil; the caller holds c.mu.
func (c *Cluster) masterOf(instanceID string) *master {
	for _, m := range c.masters {
		if m.InstanceID == instanceID {
			return m
		}
	}
	return nil
}

// loseMasterLocked stops what ran on master m (a crash or the end of a
// graceful shutdown: either way its ZooKeeper sessions are left to
// expire, as when a master is lost) and schedules what follows from what
// it led. The caller holds c.mu; the stand-ins are stopped outside it, as
// their Close waits for requests in flight.
func (c *Cluster) loseMasterLocked(m *master) {
	if m.dead {
		return
	}
	m.dead = true
	c.checkQuorumLocked()
	marathonLed := c.mt.Leader() == m.MarathonURL
	zkLed := c.zkLeader == m.Index-1
	mesosLed := c.mesosLeader == m.Index-1
	if mesosLed {
		c.mesosLeader = -1
		for h := range c.active {
			c.active[h] = false
		}
	}
	if m.member != nil {
		m.member.Crash()
	} else {
		c.mt.Crash()
	}
	go func() {
		m.mesos.CloseClientConnections()
		m.mesos.Close()
		m.zk.close()
	}()
	if !c.quorumLocked() {
		return // no quorum: nothing is elected
	}
	if !zkLed {
		c.after(c.opts.SessionTimeout, func() { c.sessionsExpired(m.Index, marathonLed, mesosLed) })
		return
	}
	c.zkLeader = -1
	c.mt.SetZooKeeperReadable(false)
	c.after(c.opts.SyncTimeout, func() {
		c.note(MasterEventZooKeeperDropped, m.Index)
		// Every client was disconnected: the leading Marathon exits.
		c.abdicate()
		c.after(c.opts.ZooKeeperElection, func() {
			c.mu.Lock()
			for i := len(c.masters) - 1; i >= 0; i-- {
				if !c.masters[i].dead {
					c.zkLeader = i
					break
				}
			}
			leader := c.zkLeader + 1
			c.mu.Unlock()
			c.mt.SetZooKeeperReadable(true)
			c.note(MasterEventZooKeeperLeader, leader)
			// The new leader restarts every session's timer.
			c.after(c.opts.SessionTimeout, func() { c.sessionsExpired(m.Index, true, mesosLed) })
		})
	})
}

// after runs f after d, unless the cluster is closed first. It may be
// called with or without c.mu held.
func (c *Cluster) after(d time.Duration, f func()) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	c.masterTimers = append(c.masterTimers, time.AfterFunc(d, func() {
		select {
		case <-c.stop:
		default:
			f()
		}
	}))
}

// stopMasterTimers stops what after scheduled.
func (c *Cluster) stopMasterTimers() {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	for _, t := range c.masterTimers {
		t.Stop()
	}
}

// note records a master event.
func (c *Cluster) note(what string, master int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.masterEvents = append(c.masterEvents, MasterEvent{At: time.Now(), What: what, Master: master})
}

// abdicate makes the leading Marathon exit, if one leads, and restart as a
// candidate after the unit's restart delay.
func (c *Cluster) abdicate() {
	url := c.mt.Leader()
	if url == "" {
		return
	}
	c.mu.Lock()
	var who *master
	for _, m := range c.masters {
		if m.MarathonURL == url {
			who = m
		}
	}
	c.mu.Unlock()
	if who == nil {
		return
	}
	c.mt.Abdicate()
	c.note(MasterEventMarathonAbdicated, who.Index)
	c.mu.Lock()
	c.abdicated = who.Index
	c.after(c.opts.scaled(5*time.Second), func() { // systemd RestartSec=5 (unit.service.tmpl)
		c.mu.Lock()
		dead := who.dead
		c.mu.Unlock()
		if dead {
			return
		}
		if who.member != nil {
			who.member.Start()
		} else {
			c.mt.Start()
		}
	})
	c.mu.Unlock()
}

// sessionsExpired: the lost master's ZooKeeper sessions are gone (and an
// exited Marathon's). Mesos elects if it led Mesos; Marathon elects if
// nobody leads it now or the lost master led it, or abdicates first when
// its driver loses the Mesos master.
func (c *Cluster) sessionsExpired(lost int, marathonLost, mesosLost bool) {
	c.note(MasterEventSessionsExpired, lost)
	if mesosLost {
		c.mu.Lock()
		next := c.nextLiveLocked(0)
		if next != nil {
			c.mesosLeader = next.Index - 1
			c.masterEvents = append(c.masterEvents, MasterEvent{At: time.Now(), What: MasterEventMesosLeader, Master: next.Index})
			c.after(c.opts.Reregistration, func() {
				c.mu.Lock()
				defer c.mu.Unlock()
				for h := range c.registered {
					c.active[h] = true
				}
				c.masterEvents = append(c.masterEvents, MasterEvent{At: time.Now(), What: MasterEventAgentsRegistered, Master: next.Index})
			})
		}
		c.mu.Unlock()
		if !marathonLost {
			c.abdicate() // the driver lost its master
		}
	}
	if c.mt.Leader() != "" && !marathonLost {
		return
	}
	c.after(c.opts.MarathonElection, func() {
		c.mu.Lock()
		next := c.nextLiveLocked(c.abdicated)
		c.mu.Unlock()
		if next == nil {
			return
		}
		if !c.mt.Serving(next.member) {
			return
		}
		c.mt.Elect(next.member)
		c.note(MasterEventMarathonLeader, next.Index)
	})
}

// nextLiveLocked is the first live master in the contenders' order (the
// lowest sequence number left: the masters booted in order), skipping
// master skip (1-based; 0: none) if another is live; nil if none. The
// caller holds c.mu.
func (c *Cluster) nextLiveLocked(skip int) *master {
	var fallback *master
	for _, m := range c.masters {
		switch {
		case m.dead:
		case m.Index == skip:
			fallback = m
		default:
			return m
		}
	}
	return fallback
}

// Masters lists the masters in order.
func (c *Cluster) Masters() []Master {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Master, len(c.masters))
	for i, m := range c.masters {
		out[i] = m.Master
	}
	return out
}

// MasterEvents lists what the masters did since Start, in order.
func (c *Cluster) MasterEvents() []MasterEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]MasterEvent(nil), c.masterEvents...)
}

// MesosLeader is the leading Mesos master's private IP, "" while there is
// none.
func (c *Cluster) MesosLeader() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mesosLeader < 0 {
		return ""
	}
	return c.masters[c.mesosLeader].PrivateIP
}

// ZooKeeperAddrs are the masters' ZooKeeper client addresses, in order.
func (c *Cluster) ZooKeeperAddrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.masters))
	for i, m := range c.masters {
		out[i] = m.ZooKeeperAddr
	}
	return out
}
