package failover

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
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
		w.sampleInstance(sctx)
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

func (w *watcher) sampleInstance(ctx context.Context) {
	id := w.cfg.Target.InstanceID
	state, err := w.cfg.EC2.InstanceState(ctx, id)
	now := w.cfg.Now()
	var ae smithy.APIError
	switch {
	case err != nil && errors.As(err, &ae) && ae.ErrorCode() == "InvalidInstanceID.NotFound":
		w.record(EventShuttingDown, now, fmt.Sprintf("implied: instance %s is gone from the EC2 API", id))
		w.record(EventInstanceDown, now, fmt.Sprintf("instance %s is gone from the EC2 API", id))
	case err != nil:
		w.setLast("EC2", err.Error())
	case state == "shutting-down":
		w.setLast("EC2", "instance "+id+" "+state)
		w.record(EventShuttingDown, now, fmt.Sprintf("instance %s is %s", id, state))
	case state == "terminated":
		w.setLast("EC2", "instance "+id+" "+state)
		w.record(EventShuttingDown, now, fmt.Sprintf("implied: instance %s is terminated", id))
		w.record(EventInstanceDown, now, fmt.Sprintf("instance %s is %s", id, state))
	default:
		w.setLast("EC2", "instance "+id+" "+state)
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
