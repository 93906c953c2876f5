package failovertest

import (
	"errors"
	"fmt"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter/mobycountertest"
)

// What runs on the agents: the volume driver, Docker starting the app, and
// what a termination does to them.

// startRunningApp plays the volume driver and Docker on the agents: for
// the app's task staged or running on a live agent, the driver moves the
// volume there; once the task runs and the volume is attached, an app
// server starts there and listens on the instance's app port.
func (c *Cluster) startRunningApp() {
	// ec2test's terminate hook takes c.mu under ec2test's lock, so the
	// stand-ins are asked without c.mu held.
	for _, t := range c.mt.Tasks(facts.AppID) {
		if t.State != marathontest.TaskRunning && t.State != marathontest.TaskStaging {
			continue
		}
		inst := c.instanceOf(t.Host)
		c.mu.Lock()
		skip := inst == "" || c.dead[t.Host] || c.fenced[t.Host] || c.servers[t.Host] != nil
		c.mu.Unlock()
		if skip {
			continue
		}
		if !c.moveVolume(inst, t) || t.State != marathontest.TaskRunning {
			continue
		}
		c.startApp(t.Host, inst)
	}
}

func (c *Cluster) instanceOf(host string) string {
	c.mu.Lock() // ReplaceLostAgents adds agents
	defer c.mu.Unlock()
	for _, a := range c.agents {
		if a.Host == host {
			return a.InstanceID
		}
	}
	return ""
}

func (c *Cluster) hostOf(instanceID string) string {
	for _, a := range c.agents {
		if a.InstanceID == instanceID {
			return a.Host
		}
	}
	return ""
}

// moveVolume does what the volume driver on inst does to bring the app's
// volume there for task t, and reports whether it is attached there now.
func (c *Cluster) moveVolume(inst string, t marathontest.TaskStatus) bool {
	v, ok := c.ec2.Volume(VolumeID)
	if !ok {
		c.fail(fmt.Errorf("the app's volume %s is gone", VolumeID))
		return false
	}
	rexray := c.opts.VolumeDriver == facts.VolumeDriverRexRay
	switch {
	case v.AttachedTo == inst:
		return v.AttachState == "attached"
	case v.AttachedTo == "":
		c.logDriver("attach %s to %s", VolumeID, inst)
		if err := c.ec2.AttachVolume(VolumeID, inst, ""); err != nil {
			c.fail(fmt.Errorf("%s attaching %s to %s: %w", c.opts.VolumeDriver, VolumeID, inst, err))
		}
		return false
	case rexray && c.opts.Fencing:
		// Without preempt (REXRAY_PREEMPT=false, the fencing design) the
		// volume attached to another instance is not found for this one
		// and the mount fails at once (rexray/rexray v0.11.4
		// libstorage/drivers/integration/linux/linux.go and
		// libstorage/imports/config/imports_config.go mount.retryCount 0:
		// shared notes fencing.md section 4): the container does not
		// start, the task fails, and Marathon relaunches it after its
		// backoff. The wording is the stand-in's.
		if t.State == marathontest.TaskStaging {
			why := fmt.Sprintf("rexray: volume %s is attached to %s (%s), not to %s: VolumeDriver.Mount failed", VolumeID, v.AttachedTo, v.AttachState, inst)
			if c.mt.FailTask(facts.AppID, t.ID, why) {
				c.rec.add(Event{At: time.Now(), Kind: EventMountFailed, Instance: inst, Host: t.Host, Detail: why})
			}
		}
		return false
	case v.AttachState == "detaching" || v.AttachState == "busy":
		return false // on its way
	case rexray:
		// VolumeAttach with Force (REXRAY_PREEMPT): VolumeDetach Force=true
		// first, whatever the other instance does (rexray/rexray v0.11.4
		// libstorage/drivers/storage/ebs/storage/ebs_storage.go). The old
		// instance's mount loses the device now.
		c.revokeMountOf(v.AttachedTo, "force-detached by rexray on "+inst)
		c.rec.add(Event{At: time.Now(), Kind: EventVolumeForceDetach, Instance: v.AttachedTo, Detail: "by rexray on " + inst})
		c.logDriver("force-detach %s from %s", VolumeID, v.AttachedTo)
		if err := c.ec2.DetachVolume(VolumeID, true); err != nil {
			c.fail(fmt.Errorf("rexray force-detaching %s: %w", VolumeID, err))
		}
		return false
	}
	// Flocker: a volume on a running node is ATTACHED_ELSEWHERE, which it
	// only polls; on a node that is not running it is ATTACHED_TO_DEAD_NODE
	// and detached without force (ClusterHQ/flocker 1.15.0
	// flocker/node/agents/blockdevice.py, ebs.py list_live_nodes and
	// detach_volume).
	if other, ok := c.ec2.Instance(v.AttachedTo); ok && other.State == ec2test.StateRunning {
		return false
	}
	c.logDriver("detach %s from dead node %s", VolumeID, v.AttachedTo)
	if err := c.ec2.DetachVolume(VolumeID, false); err != nil {
		c.fail(fmt.Errorf("flocker detaching %s: %w", VolumeID, err))
	}
	return false
}

func (c *Cluster) revokeMountOf(instanceID, why string) {
	c.mu.Lock()
	m := c.mounts[c.hostOf(instanceID)]
	c.mu.Unlock()
	if m != nil {
		m.revoke(why)
	}
}

// startApp starts the app server on host, over a new mount of the volume
// on inst, and tells the ELB it listens on inst's app port.
func (c *Cluster) startApp(host, inst string) {
	var opts []mobycountertest.ServerOption
	switch {
	case c.opts.AgentWriteback:
		opts = append(opts, mobycountertest.WithWriteback(c.opts.scaled(facts.AgentDirtyExpire), c.opts.scaled(facts.AgentDirtyWriteback)))
	case c.opts.Writeback > 0:
		opts = append(opts, mobycountertest.WithWriteback(c.opts.Writeback*6/7, c.opts.Writeback/7))
	case c.opts.Buffered:
		opts = append(opts, mobycountertest.WithBuffered())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead[host] || c.fenced[host] || c.servers[host] != nil {
		return
	}
	id := new(int)
	opts = append(opts, mobycountertest.WithOnAck(func(click string) { c.rec.ack(*id, click) }))
	m := newMount(c.vol, c.rec, inst, host)
	srv, err := mobycountertest.NewServerOn(m, opts...)
	if err != nil {
		c.harnessErr = errors.Join(c.harnessErr, fmt.Errorf("starting the app on %s: %w", host, err))
		return
	}
	*id = c.rec.startServer(inst, host, time.Now())
	c.servers[host], c.serverID[host], c.mounts[host] = srv, *id, m
	c.backend = host
	if err := c.elb.SetInstanceBackend(inst, srv.URL); err != nil {
		c.harnessErr = errors.Join(c.harnessErr, err)
	}
}

func (c *Cluster) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.harnessErr = errors.Join(c.harnessErr, err)
}

func (c *Cluster) logDriver(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.driverLog = append(c.driverLog, c.opts.VolumeDriver+": "+fmt.Sprintf(format, a...))
}

// onTerminate runs when EC2 accepts the termination of an instance. A
// crash (skipOsShutdown) stops its Mesos agent and crashes its app server
// now; a graceful termination lets the app serve through the OS shutdown,
// then flushes it and stops it and the Mesos agent. It runs under ec2test's
// lock and calls only the other stand-ins.
func (c *Cluster) onTerminate(instanceID string, skipOsShutdown bool) {
	detail := "graceful: the OS shuts down first"
	if skipOsShutdown {
		detail = "SkipOsShutdown"
	}
	c.rec.add(Event{At: time.Now(), Kind: EventTerminateRequested, Instance: instanceID, Detail: detail})
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.masterOf(instanceID); m != nil {
		if skipOsShutdown {
			c.loseMasterLocked(m)
			return
		}
		c.timers = append(c.timers, time.AfterFunc(c.opts.OSShutdown, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.loseMasterLocked(m)
		}))
		return
	}
	host := c.hostOf(instanceID)
	if host == "" || c.dead[host] {
		return
	}
	c.dead[host] = true
	if skipOsShutdown {
		c.stopLocked(host, instanceID, false)
		return
	}
	c.timers = append(c.timers, time.AfterFunc(c.opts.OSShutdown, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.stopLocked(host, instanceID, true)
	}))
}

// stopLocked stops what ran on host: the app server (flushed first when
// clean, its buffered clicks lost otherwise), so nothing listens on the
// instance's app port, and the Mesos agent.
func (c *Cluster) stopLocked(host, instanceID string, clean bool) {
	m := c.mounts[host]
	if !clean && m != nil {
		m.revoke("instance stopped without OS shutdown") // nothing it holds reaches the volume any more
	}
	if srv := c.servers[host]; srv != nil {
		reason := "crash: the instance stopped without OS shutdown"
		if clean {
			reason = "OS shutdown: stopped, flushed and unmounted"
			if err := srv.Shutdown(); err != nil {
				c.harnessErr = errors.Join(c.harnessErr, fmt.Errorf("flushing the app on %s at its shutdown: %w", host, err))
			}
		} else {
			srv.Close() // a crash: what is only in the page cache is lost
		}
		c.rec.stopServer(c.serverID[host], time.Now(), reason)
		delete(c.servers, host)
	}
	if m != nil {
		m.revoke("instance stopped")
	}
	if err := c.elb.SetInstanceBackend(instanceID, ""); err != nil {
		c.harnessErr = errors.Join(c.harnessErr, err)
	}
	if c.registered[host] && !c.mesosStopped[host] {
		c.mt.KillAgent(host)
		c.mesosStopped[host] = true
	}
}
