package failovertest

import (
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// seen is what the harness has already put in the record from the
// stand-ins' state.
type seen struct {
	unreachable map[string]bool // task ids
	terminated  map[string]bool // instance ids
	attachedTo  string          // the volume's attachment last seen
	attachTime  time.Time
	attached    bool // that attachment's "attached" recorded
}

// observe records, with the stand-ins' own times, what changed since the
// last look: Mesos's verdicts (marathontest), terminations and the
// volume's moves (ec2test).
func (c *Cluster) observe() {
	s := &c.seen
	if s.unreachable == nil {
		s.unreachable, s.terminated = map[string]bool{}, map[string]bool{}
		if v, ok := c.ec2.Volume(VolumeID); ok {
			s.attachedTo, s.attachTime, s.attached = v.AttachedTo, v.AttachTime, v.AttachState == "attached"
		}
	}
	for _, t := range c.mt.Tasks(facts.AppID) {
		if t.State == marathontest.TaskUnreachable && !s.unreachable[t.ID] {
			s.unreachable[t.ID] = true
			c.rec.add(Event{At: t.UnreachableAt, Kind: EventTaskUnreachable, Instance: c.instanceOf(t.Host), Host: t.Host, Detail: "task " + t.ID})
		}
	}
	for _, a := range c.agents {
		if in, ok := c.ec2.Instance(a.InstanceID); ok && !in.TerminatedAt.IsZero() && !s.terminated[a.InstanceID] {
			s.terminated[a.InstanceID] = true
			c.rec.add(Event{At: in.TerminatedAt, Kind: EventInstanceTerminated, Instance: a.InstanceID, Host: a.Host})
		}
	}
	v, ok := c.ec2.Volume(VolumeID)
	if !ok {
		return
	}
	if s.attachedTo != "" && (v.AttachedTo != s.attachedTo || !v.AttachTime.Equal(s.attachTime)) {
		at := v.DetachedAt
		if at.IsZero() {
			at = time.Now()
		}
		c.rec.add(Event{At: at, Kind: EventVolumeDetached, Instance: s.attachedTo})
		s.attachedTo, s.attached = "", false
	}
	if v.AttachedTo != "" && s.attachedTo == "" {
		s.attachedTo, s.attachTime = v.AttachedTo, v.AttachTime
	}
	if v.AttachedTo != "" && v.AttachState == "attached" && !s.attached {
		s.attached = true
		c.rec.add(Event{At: v.AttachTime.Add(c.opts.AttachDelay), Kind: EventVolumeAttached, Instance: v.AttachedTo})
	}
}
