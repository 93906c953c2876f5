package ec2test

import (
	"fmt"
	"time"
)

// The volume drivers on the agents call AttachVolume and DetachVolume; the
// tools never do. These methods let a test harness play the driver with
// EC2's rules (EC2 API reference, AttachVolume and DetachVolume; EC2 User
// Guide, "Detach an Amazon EBS volume from an instance"). Errors carry the
// EC2 error code EC2 would answer with.

// AttachVolume attaches the volume to the instance as device (default
// /dev/xvdf): "attaching" for the attach delay, then "attached". EC2
// refuses a volume that is not available (VolumeInUse), one in another
// zone (InvalidVolume.ZoneMismatch) and an instance that is not running
// (IncorrectState).
func (s *Server) AttachVolume(volumeID, instanceID, device string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	v, it := s.findVolume(volumeID), s.findInstance(instanceID)
	switch {
	case v == nil:
		//lint:ignore ST1005 EC2's own message, quoted
		return fmt.Errorf("InvalidVolume.NotFound: The volume '%s' does not exist.", volumeID)
	case it == nil:
		return fmt.Errorf("InvalidInstanceID.NotFound: The instance ID '%s' does not exist", instanceID)
	case v.AttachedTo != "" || v.State != VolumeAvailable:
		return fmt.Errorf("VolumeInUse: %s is already attached to an instance", volumeID)
	case v.AvailabilityZone != it.AvailabilityZone:
		return fmt.Errorf("InvalidVolume.ZoneMismatch: The volume '%s' is not in the same availability zone as instance '%s'", volumeID, instanceID)
	case it.State != StateRunning:
		//lint:ignore ST1005 EC2's own message, quoted
		return fmt.Errorf("IncorrectState: Instance '%s' is not 'running'.", instanceID)
	}
	if device == "" {
		device = "/dev/xvdf"
	}
	v.AttachedTo, v.Device, v.State = instanceID, device, VolumeInUse
	v.attachState, v.attachAt, v.detachAt = "attaching", s.now().Add(s.attachDelay), time.Time{}
	v.AttachTime = s.now()
	if s.attachDelay == 0 {
		v.attachState = "attached"
	}
	return nil
}

// DetachVolume detaches the volume from its instance. With force ("Forces
// detachment if the previous detachment attempt did not occur cleanly ...
// use this option only as a last resort to detach a volume from a failed
// instance", API reference) it is "detaching" for the detach delay, then
// available, whatever the instance does. Without force the stand-in takes
// the OS to hold the volume until the instance stops: the attachment is
// "busy" until the instance is terminated, then detaches as on
// termination. A volume that is not attached is refused (IncorrectState).
func (s *Server) DetachVolume(volumeID string, force bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	v := s.findVolume(volumeID)
	switch {
	case v == nil:
		//lint:ignore ST1005 EC2's own message, quoted
		return fmt.Errorf("InvalidVolume.NotFound: The volume '%s' does not exist.", volumeID)
	case v.AttachedTo == "":
		//lint:ignore ST1005 EC2's own message, quoted
		return fmt.Errorf("IncorrectState: Volume '%s' is in the '%s' state.", volumeID, v.State)
	case v.attachState == "detaching":
		return nil // already on its way
	}
	if force {
		v.attachState, v.detachAt = "detaching", s.now().Add(s.detachDelay)
		s.advance()
		return nil
	}
	if it := s.findInstance(v.AttachedTo); it == nil || it.State == StateTerminated {
		v.attachState, v.detachAt = "detaching", s.now().Add(s.detachDelay)
		s.advance()
		return nil
	}
	v.attachState, v.detachAt = "busy", time.Time{}
	return nil
}
