package failover

import (
	"context"
	"fmt"
)

// sampleEC2 reads the killed instance's state, the app's volume and, once
// Marathon named the new host, that host's instance.
func (w *watcher) sampleEC2(ctx context.Context) {
	w.mu.Lock()
	w.report.Samples.EC2++
	instanceDone := w.seen[EventInstanceDown]
	volumeDone := w.cfg.Target.VolumeID == "" || w.seen[EventVolumeAttached]
	newHost, newInstance := w.newHost, w.newInstance
	w.mu.Unlock()
	if instanceDone && volumeDone && (newHost == "" || newInstance != "") {
		return
	}
	defer w.maybeFinish()
	sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
	defer cancel()
	if !instanceDone {
		w.sampleInstance(sctx, w.cfg.EC2, w.cfg.Target.InstanceID)
	}
	if !volumeDone {
		w.sampleVolume(sctx)
	}
	if newHost != "" && newInstance == "" {
		in, err := w.cfg.EC2.FindByPrivateIP(sctx, Scope(w.cfg.Outputs), newHost)
		if err != nil {
			w.setLast("EC2", err.Error())
			return
		}
		w.mu.Lock()
		if w.newHost == newHost { // not moved on to another replacement meanwhile
			w.newInstance, w.report.NewInstanceID = in.ID, in.ID
		}
		w.mu.Unlock()
	}
}

// sampleVolume follows the app's EBS volume from the killed instance to
// the new one, as EC2 describes its attachment.
func (w *watcher) sampleVolume(ctx context.Context) {
	id, killed := w.cfg.Target.VolumeID, w.cfg.Target.InstanceID
	v, err := w.cfg.EC2.DescribeVolume(ctx, id)
	now := w.cfg.Now()
	if err != nil {
		w.setLast("volume", err.Error())
		return
	}
	where := "available"
	if v.AttachedTo != "" {
		where = fmt.Sprintf("%s to %s", v.AttachState, v.AttachedTo)
	}
	w.setLast("volume", "volume "+id+" "+where)
	if v.AttachedTo != killed {
		w.record(EventVolumeDetached, now, fmt.Sprintf("volume %s is %s", id, where))
	}
	if v.AttachedTo != "" && v.AttachedTo != killed && v.AttachState == "attached" {
		w.record(EventVolumeAttached, now, fmt.Sprintf("volume %s attached to %s", id, v.AttachedTo))
	}
}
