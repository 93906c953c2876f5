package failovertest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// Partitions and fencing (docs/fencing.md). The cluster's times are the
// real cluster's scaled by DetectionDelay / (facts.AgentPingTimeout x
// facts.MaxAgentPingTimeouts): with the default 60 ms, one real second is
// 5 ms.

// scaled converts a duration of the real cluster to the test's time.
func (o *Options) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * float64(o.DetectionDelay) / float64(facts.AgentPingTimeout*facts.MaxAgentPingTimeouts))
}

// Scaled converts a duration of the real cluster (a facts value) to the
// cluster's time.
func (c *Cluster) Scaled(d time.Duration) time.Duration { return c.opts.scaled(d) }

// checkFencing refuses a self-fence that would end after the masters'
// earliest verdict: the inequality config.Validate holds the real
// cluster's keys to (facts.SelfFenceLead).
func (o *Options) checkFencing() error {
	if !o.Fencing {
		return nil
	}
	lead := o.scaled(facts.SelfFenceLead)
	if o.SelfFenceAfter+lead > o.DetectionDelay {
		return fmt.Errorf("failovertest: Options.SelfFenceAfter %s + the self-fence lead %s (facts.SelfFenceLead scaled) is more than DetectionDelay %s: the agent would fence itself after the masters could act; lower SelfFenceAfter",
			o.SelfFenceAfter, lead, o.DetectionDelay)
	}
	return nil
}

// SetPartitioned cuts the agent of instanceID off from the masters (cut
// true) or heals it. A cut agent's Mesos agent no longer answers the
// masters' pings, and the agent reaches no master, but the ELB still
// reaches it: its app keeps serving and acknowledging clicks. With
// Options.Fencing the agent fences itself once it has not reached a quorum
// of the masters for Options.SelfFenceAfter (see selfFenceAt), as every
// agent does when the masters lose their quorum (checkQuorumLocked).
// Healing restores both directions: unless the agent has fenced itself or its instance is
// gone, Mesos hears it again (marathontest HealAgent: a verdict not yet
// given is cancelled; otherwise it re-registers and its task, still
// running, is added back). A fenced agent stays fenced. It calls nothing
// of the EC2 stand-in, so an ec2test hook (a security-group swap) may call
// it under ec2test's lock.
func (c *Cluster) SetPartitioned(instanceID string, cut bool) {
	host := c.hostOf(instanceID)
	if host == "" {
		c.fail(fmt.Errorf("SetPartitioned: %s is not an agent's instance", instanceID))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut[host] == cut {
		return
	}
	c.cut[host] = cut
	c.cutSeq[host]++ // a heal resets the self-fence clock: a timer of an earlier cut is void
	now := time.Now()
	kind := EventPartitionHealed
	if cut {
		kind = EventPartitionCut
	}
	c.rec.add(Event{At: now, Kind: kind, Instance: instanceID, Host: host})
	if c.dead[host] {
		return
	}
	mesosUp := c.registered[host] && !c.mesosStopped[host]
	if cut {
		if mesosUp {
			c.mt.PartitionAgent(host)
		}
		if c.opts.Fencing && !c.fenced[host] {
			c.scheduleSelfFenceLocked(host, instanceID, now)
		}
		return
	}
	if mesosUp {
		c.mt.HealAgent(host)
	}
}

// quorumLocked reports whether more than half of the masters are alive:
// whether an agent that is not cut off reaches a quorum of them. The
// caller holds c.mu.
func (c *Cluster) quorumLocked() bool {
	alive := 0
	for _, m := range c.masters {
		if !m.dead {
			alive++
		}
	}
	return alive*2 > len(c.masters)
}

// checkQuorumLocked starts every agent's self-fence clock when the masters
// lose their quorum: an agent cannot tell the masters' loss from its own
// isolation (docs/fencing.md: with one master, the app goes down with it).
// The caller holds c.mu.
func (c *Cluster) checkQuorumLocked() {
	if !c.opts.Fencing || c.quorumLocked() {
		return
	}
	now := time.Now()
	for _, a := range c.agents {
		if !c.dead[a.Host] && !c.fenced[a.Host] && !c.cut[a.Host] {
			c.scheduleSelfFenceLocked(a.Host, a.InstanceID, now)
		}
	}
}

// scheduleSelfFenceLocked starts the agent's self-fence clock at lost, the
// moment it lost the masters. The caller holds c.mu.
func (c *Cluster) scheduleSelfFenceLocked(host, instanceID string, lost time.Time) {
	due, seq := c.selfFenceAt(lost), c.cutSeq[host]
	c.selfFences[host] = selfFenceDue{instanceID: instanceID, due: due, seq: seq}
	c.timers = append(c.timers, time.AfterFunc(due.Sub(lost), func() { c.selfFence(host, instanceID, due, seq) }))
}

// selfFenceDue is a scheduled self-fence: of which instance, when, for
// which cut (cutSeq).
type selfFenceDue struct {
	instanceID string
	due        time.Time
	seq        int
}

// runDueSelfFence runs host's self-fence now, and returns once it is done,
// if it was due by now: the cluster's events then happen in the order of
// their times, not in the order a loaded test host happens to run their
// goroutines. The fencer calls it before it acts on a host, so a self-fence
// the design puts before the masters' verdict (checkFencing) is never
// overtaken by a timer that fired late; one the model puts after the
// verdict is not due yet and still comes after the fence.
func (c *Cluster) runDueSelfFence(host string) {
	c.mu.Lock()
	f, ok := c.selfFences[host]
	c.mu.Unlock()
	if ok && !time.Now().Before(f.due) {
		c.selfFence(host, f.instanceID, f.due, f.seq)
	}
}

// SelfFenceLateness is how late, at most, the test host finished a
// self-fence: after it was due plus its action budget
// (facts.SelfFenceActionBudget, scaled). The design allows the agent's own
// scheduling delay within facts.FenceMargin; a round whose host was later
// than the scaled margin did not run the design's premise, and a test may
// discard it.
func (c *Cluster) SelfFenceLateness() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fenceLate
}

// selfFenceAt is when an agent cut off at cut fences itself: its service
// probes the masters every facts.SelfFenceProbeInterval (from the
// cluster's start), a probe fails after facts.SelfFenceProbeTimeout, and it
// fences at the end of the first failed probe that starts SelfFenceAfter or
// more after the last one that succeeded (the last probe before the cut).
func (c *Cluster) selfFenceAt(cut time.Time) time.Time {
	every, timeout := c.opts.scaled(facts.SelfFenceProbeInterval), c.opts.scaled(facts.SelfFenceProbeTimeout)
	lastOK := c.startedAt.Add((cut.Sub(c.startedAt) - 1) / every * every)
	probes := (c.opts.SelfFenceAfter + every - 1) / every
	return lastOK.Add(probes * every).Add(timeout)
}

// selfFence is the agent's mha-self-fence service acting: it kills the
// app's container (the server takes no click from now on), syncs the page
// cache to the volume, still attached here, unmounts it, blocks the app
// port (the ELB's checks fail) and stops the Mesos agent, which never
// registers again.
func (c *Cluster) selfFence(host, instanceID string, due time.Time, seq int) {
	// Its timer and runDueSelfFence may both call it: the second waits for
	// the first to finish and then finds the host fenced.
	c.selfFenceMu.Lock()
	defer c.selfFenceMu.Unlock()
	c.mu.Lock()
	if c.fenced[host] || c.dead[host] || c.cutSeq[host] != seq || (!c.cut[host] && c.quorumLocked()) {
		c.mu.Unlock()
		return
	}
	c.fenced[host] = true
	srv, id, m := c.servers[host], c.serverID[host], c.mounts[host]
	delete(c.servers, host) // the mount stays: a termination meanwhile revokes it (stopLocked)
	c.mu.Unlock()

	detail := "no app ran here"
	if srv != nil {
		err := srv.Shutdown() // docker kill, then sync: nothing acknowledged after the sync
		c.rec.stopServer(id, time.Now(), "self-fence")
		detail = "app killed, page cache synced to the volume"
		if err != nil {
			detail = fmt.Sprintf("app killed, sync failed: %v", err)
		}
	}
	if m != nil {
		m.revoke("unmounted by the self-fence")
	}
	if err := c.elb.SetInstanceBackend(instanceID, ""); err != nil {
		c.fail(err)
	}
	c.mu.Lock()
	if c.registered[host] && !c.mesosStopped[host] {
		c.mt.KillAgent(host)
		c.mesosStopped[host] = true
	}
	now := time.Now()
	c.fenceLate = max(c.fenceLate, now.Sub(due.Add(c.opts.scaled(facts.SelfFenceActionBudget))))
	c.mu.Unlock()
	c.rec.add(Event{At: now, Kind: EventSelfFenced, Instance: instanceID, Host: host, Detail: detail})
	c.ec2.AppendConsole(instanceID, fenceLine(now, facts.FenceEventSelfFenced, instanceID, host, ""))
}

// fenceLine is one console line of the fences (facts.FenceLogPrefix).
func fenceLine(at time.Time, event, instanceID, host, detail string) string {
	line := fmt.Sprintf("%s %s %s instance=%s host=%s", facts.FenceLogPrefix, at.UTC().Format(time.RFC3339Nano), event, instanceID, host)
	if detail != "" {
		line += " detail=" + detail
	}
	return line + "\n"
}

// fencer is the STONITH service of the leading master (docs/fencing.md):
// every facts.FencerPollInterval it lists Marathon's tasks, and for each
// host with a TASK_UNREACHABLE task it finds the instance by private IP
// among this cluster's agents (tags) and terminates it with
// SkipOsShutdown through the EC2 API, then waits up to
// facts.FenceConfirmTimeout for EC2 to report it terminated. A failure is
// recorded and retried at the next poll; a fenced host is never
// un-fenced. There is exactly one: it acts only while a Marathon leads, on
// that leader's behalf.
func (c *Cluster) fencer(ctx context.Context) {
	defer c.done.Done()
	api := c.ec2.Client()
	tick := time.NewTicker(c.opts.scaled(facts.FencerPollInterval))
	defer tick.Stop()
	fenced, lost := map[string]bool{}, map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		leader := c.masterLeading()
		if leader == "" {
			continue
		}
		for _, t := range c.mt.Tasks(facts.AppID) {
			if t.State != marathontest.TaskUnreachable || fenced[t.Host] {
				continue
			}
			c.runDueSelfFence(t.Host)
			if !lost[t.Host] {
				lost[t.Host] = true
				c.fenceEvent(leader, EventFenceLost, facts.FenceEventLost, c.instanceOf(t.Host), t.Host, "task "+t.ID)
			}
			fenced[t.Host] = c.fence(ctx, api, leader, t.Host)
		}
	}
}

// masterLeading is the instance id of the master whose Marathon leads, ""
// while none does.
func (c *Cluster) masterLeading() string {
	url := c.mt.Leader()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.masters {
		if url != "" && m.MarathonURL == url && !m.dead {
			return m.InstanceID
		}
	}
	return ""
}

func (c *Cluster) fenceEvent(master, kind, consoleEvent, instanceID, host, detail string) {
	now := time.Now()
	c.rec.add(Event{At: now, Kind: kind, Instance: instanceID, Host: host, Detail: detail})
	c.ec2.AppendConsole(master, fenceLine(now, consoleEvent, instanceID, host, detail))
}

// fence fences host once and reports whether EC2 confirmed it.
func (c *Cluster) fence(ctx context.Context, api *ec2.Client, master, host string) bool {
	failed := func(instanceID, why string) bool {
		c.fenceEvent(master, EventFenceFailed, facts.FenceEventFailed, instanceID, host, why)
		return false
	}
	id, state, err := c.findAgent(ctx, api, host)
	if err != nil {
		return failed("", err.Error())
	}
	confirm := c.opts.scaled(facts.FenceConfirmTimeout)
	if state != ec2test.StateShuttingDown && state != ec2test.StateTerminated {
		// The call is bounded like the wait: an answer that does not come
		// is a failed fence, retried at the next poll, which finds the
		// instance shutting down if the call took effect after all.
		call, cancel := context.WithTimeout(ctx, confirm)
		_, err := api.TerminateInstances(call, &ec2.TerminateInstancesInput{InstanceIds: []string{id}, SkipOsShutdown: aws.Bool(true)})
		cancel()
		if err != nil {
			return failed(id, "TerminateInstances: "+err.Error())
		}
		// The record and the console line carry one time, EC2's receipt of
		// the call, as fenceEvent's do. The real fencer logs after the call
		// returns (run-mha-fencer.tmpl fence_log), but in the cluster's
		// scaled time the stand-in's answer takes no time: a clock read
		// after the return added however long a loaded test host took to
		// deliver it.
		calls := c.ec2.Calls("TerminateInstances")
		at := calls[len(calls)-1].At
		c.rec.add(Event{At: at, Kind: EventFenceRequested, Instance: id, Host: host, Detail: "SkipOsShutdown"})
		c.ec2.AppendConsole(master, fenceLine(at, facts.FenceEventFencing, id, host, ""))
	}
	wait, cancel := context.WithTimeout(ctx, confirm)
	defer cancel()
	for state != ec2test.StateTerminated {
		select {
		case <-wait.Done():
			return failed(id, fmt.Sprintf("instance still %s after %s", state, confirm))
		case <-time.After(time.Millisecond):
		}
		out, err := api.DescribeInstances(wait, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err == nil && len(out.Reservations) == 1 && len(out.Reservations[0].Instances) == 1 {
			state = string(out.Reservations[0].Instances[0].State.Name)
		}
	}
	in, _ := c.ec2.Instance(id)
	c.fenceEvent(master, EventFenceConfirmed, facts.FenceEventFenced, id, host, "EC2: terminated at "+in.TerminatedAt.UTC().Format(time.RFC3339Nano))
	return true
}

// findAgent finds the instance of this cluster's agent at host, as the
// fencer does: by private IP and the cluster's tags, the live one first.
func (c *Cluster) findAgent(ctx context.Context, api *ec2.Client, host string) (id, state string, err error) {
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("private-ip-address"), Values: []string{host}},
		{Name: aws.String("tag:" + facts.TagClusterID), Values: []string{ClusterID}},
		{Name: aws.String("tag:" + facts.TagRole), Values: []string{facts.RoleAgent}},
	}})
	if err != nil {
		return "", "", fmt.Errorf("DescribeInstances: %w", err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			s := string(in.State.Name)
			if id == "" || state == ec2test.StateTerminated {
				id, state = aws.ToString(in.InstanceId), s
			}
		}
	}
	if id == "" {
		return "", "", errors.New("no agent of cluster " + ClusterID + " has private IP " + host)
	}
	return id, state, nil
}
