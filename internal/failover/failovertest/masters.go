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
// Marathon. Marathon is marathontest's Server (master 1) and its Members
// (masters 2 to N), sharing the cluster's state as Marathon shares it in
// ZooKeeper; Mesos is a stand-in of /master/state per master. Both lead on
// master 1 at the start. When the instance of a master is terminated, its
// Marathon and Mesos master stop at once (connections refused); the other
// Marathons keep forwarding to the lost leader and answer 503 "Connection
// to leader refused." (marathontest members.go), and the other Mesos
// masters answer 503, until ZooKeeper expires the lost master's session
// (Options.SessionTimeout, facts.ZooKeeperSessionTimeout on a real
// cluster). Then the live master next in the election's order leads both
// (ZooKeeper's leader-election recipe: the lowest sequence number left),
// and the agents re-register with the new Mesos leader after
// Options.Reregistration. The agents and their tasks run on throughout.

// Defaults of the master options.
const (
	DefaultSessionTimeout = 80 * time.Millisecond
	DefaultReregistration = 20 * time.Millisecond
)

// Master is one master of the cluster.
type Master struct {
	Index       int // 1-based
	InstanceID  string
	PrivateIP   string
	MarathonURL string
	MesosURL    string
}

type master struct {
	Master
	member *marathontest.Member // nil for master 1, the Server's own instance
	mesos  *httptest.Server
	dead   bool
}

// startMasters adds the masters' instances to EC2, their Marathons and
// their Mesos masters.
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
		c.masters = append(c.masters, m)
	}
	c.mesosLeader = 0
	for h := range c.registered {
		c.active[h] = true
	}
}

// mesosState answers GET /master/state as Mesos 1.4 does (apache/mesos
// 1.4.1 src/master/http.cpp Master::Http::state): the leader answers its
// state, with "leader" its PID (master@ip:port) and "slaves" the agents it
// knows with "hostname" and "active"; another master redirects (307) to
// the leader ("//ip:port" + path, Master::Http::redirect), or answers 503
// while no leader is known.
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
	var slaves []slave
	for _, a := range c.agents {
		// An agent Mesos marked unreachable is no longer among its slaves
		// (Master::markUnreachable removes it; it is counted in
		// unreachable_slaves). A cut-off agent stays active until then:
		// its connection did not break.
		if c.registered[a.Host] && c.active[a.Host] && !c.mt.AgentUnreachable(a.Host) {
			slaves = append(slaves, slave{Hostname: a.Host, Active: !c.dead[a.Host]})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"leader": fmt.Sprintf("master@%s:%d", c.masters[i].PrivateIP, facts.MesosMasterPort), "slaves": slaves})
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
// graceful shutdown: either way its ZooKeeper session is left to expire,
// as when a master is lost) and, if it led, schedules the election after
// the session timeout. The caller holds c.mu; the stand-ins are stopped
// outside it, as their Close waits for requests in flight.
func (c *Cluster) loseMasterLocked(m *master) {
	if m.dead {
		return
	}
	m.dead = true
	c.checkQuorumLocked()
	marathonLed := c.mt.Leader() == m.MarathonURL
	if c.mesosLeader == m.Index-1 {
		c.mesosLeader = -1
		for h := range c.active {
			c.active[h] = false
		}
	}
	mesosLost := c.mesosLeader < 0
	go func() {
		if m.member != nil {
			m.member.Stop()
		} else {
			c.mt.Stop()
		}
		m.mesos.CloseClientConnections()
		m.mesos.Close()
	}()
	if !marathonLed && !mesosLost {
		return
	}
	c.timers = append(c.timers, time.AfterFunc(c.opts.SessionTimeout, func() { c.elect(marathonLed, mesosLost) }))
}

// elect makes the first live master lead what the lost master led, then
// lets the agents re-register with the Mesos leader.
func (c *Cluster) elect(marathon, mesos bool) {
	c.mu.Lock()
	var next *master
	for _, m := range c.masters {
		if !m.dead {
			next = m
			break
		}
	}
	if next == nil {
		c.mu.Unlock()
		return // no quorum: nothing is elected
	}
	if mesos {
		c.mesosLeader = next.Index - 1
		c.timers = append(c.timers, time.AfterFunc(c.opts.Reregistration, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			for h := range c.registered {
				c.active[h] = true
			}
		}))
	}
	c.mu.Unlock()
	if marathon {
		c.mt.Elect(next.member)
	}
}

// Masters lists the masters in order: master 1 leads at the start.
func (c *Cluster) Masters() []Master {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Master, len(c.masters))
	for i, m := range c.masters {
		out[i] = m.Master
	}
	return out
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
