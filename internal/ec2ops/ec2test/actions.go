package ec2test

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// filter is one Filter.N of a Describe call: Name and its Values, which
// match if any value matches (EC2 API reference, Filter: values are ORed,
// filters are ANDed, "*" and "?" are wildcards).
type filter struct {
	name   string
	values []string
}

func parseFilters(form url.Values, known func(string) bool) ([]filter, *apiError) {
	var out []filter
	for i := 1; ; i++ {
		prefix := "Filter." + strconv.Itoa(i)
		name := form.Get(prefix + ".Name")
		if name == "" {
			if _, ok := form[prefix+".Name"]; ok {
				return nil, badRequest("InvalidParameterValue", "The filter '' is invalid")
			}
			return out, nil
		}
		if !known(name) {
			return nil, badRequest("InvalidParameterValue", "The filter '%s' is invalid", name)
		}
		out = append(out, filter{name: name, values: list(form, prefix+".Value")})
	}
}

// matches reports whether f accepts any of have (the resource's values for
// the filter's name).
func (f filter) matches(have ...string) bool {
	for _, want := range f.values {
		for _, h := range have {
			if wildcard(want, h) {
				return true
			}
		}
	}
	return false
}

// tagMatch handles tag:<key> and tag-key, the filters every resource has.
func tagMatch(f filter, tags map[string]string) (matched, handled bool) {
	if key, ok := strings.CutPrefix(f.name, "tag:"); ok {
		v, present := tags[key]
		return present && f.matches(v), true
	}
	if f.name == "tag-key" {
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		return f.matches(keys...), true
	}
	return false, false
}

// wildcard matches EC2 filter patterns: "*" any run, "?" one character,
// a backslash escapes the next character.
func wildcard(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	var match func(i, j int) bool
	match = func(i, j int) bool {
		for i < len(p) {
			switch p[i] {
			case '*':
				for k := j; k <= len(t); k++ {
					if match(i+1, k) {
						return true
					}
				}
				return false
			case '?':
				if j >= len(t) {
					return false
				}
			case '\\':
				if i+1 < len(p) {
					i++
				}
				fallthrough
			default:
				if j >= len(t) || t[j] != p[i] {
					return false
				}
			}
			i++
			j++
		}
		return j == len(t)
	}
	return match(0, 0)
}

func knownInstanceFilter(name string) bool {
	return strings.HasPrefix(name, "tag:") || slices.Contains([]string{"tag-key",
		"private-ip-address", "instance-state-name", "instance-id", "availability-zone", "vpc-id", "instance.group-id"}, name)
}

func knownVolumeFilter(name string) bool {
	return strings.HasPrefix(name, "tag:") || slices.Contains([]string{"tag-key",
		"status", "volume-id", "availability-zone", "attachment.instance-id", "attachment.status"}, name)
}

func (it *instance) matches(f filter) bool {
	if ok, handled := tagMatch(f, it.Tags); handled {
		return ok
	}
	switch f.name {
	case "private-ip-address":
		return it.PrivateIP != "" && f.matches(it.PrivateIP)
	case "instance-state-name":
		return f.matches(it.State)
	case "instance-id":
		return f.matches(it.ID)
	case "availability-zone":
		return f.matches(it.AvailabilityZone)
	case "vpc-id":
		return f.matches(it.VpcID)
	case "instance.group-id":
		return f.matches(it.SecurityGroups...)
	}
	return false
}

func (v *volume) matches(f filter) bool {
	if ok, handled := tagMatch(f, v.Tags); handled {
		return ok
	}
	switch f.name {
	case "status":
		return f.matches(v.State)
	case "volume-id":
		return f.matches(v.ID)
	case "availability-zone":
		return f.matches(v.AvailabilityZone)
	case "attachment.instance-id":
		return v.AttachedTo != "" && f.matches(v.AttachedTo)
	case "attachment.status":
		return v.AttachedTo != "" && f.matches(v.attachState)
	}
	return false
}

func xmlTags(tags map[string]string) []xmlTag {
	out := make([]xmlTag, 0, len(tags))
	for k, v := range tags {
		out = append(out, xmlTag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (s *Server) describeInstances(form url.Values) (any, *apiError) {
	ids := list(form, "InstanceId")
	for _, id := range ids {
		if s.findInstance(id) == nil {
			return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	filters, err := parseFilters(form, knownInstanceFilter)
	if err != nil {
		return nil, err
	}
	var found []xmlReservation
	for _, it := range s.instances {
		if len(ids) > 0 && !slices.Contains(ids, it.ID) {
			continue
		}
		if !all(filters, it.matches) {
			continue
		}
		found = append(found, xmlReservation{
			ReservationID: "r-" + strings.TrimPrefix(it.ID, "i-"),
			OwnerID:       "123456789012",
			Instances: []xmlInstance{{
				InstanceID:       it.ID,
				ImageID:          it.ImageID,
				InstanceState:    xmlState{Code: stateCodes[it.State], Name: it.State},
				PrivateIPAddress: it.PrivateIP,
				InstanceType:     it.InstanceType,
				LaunchTime:       timestamp(it.LaunchTime),
				Placement:        xmlPlacement{AvailabilityZone: it.AvailabilityZone, Tenancy: "default"},
				VpcID:            it.VpcID,
				GroupSet:         s.groupIdentifiers(it.SecurityGroups),
				TagSet:           xmlTags(it.Tags),
			}},
		})
	}
	pageItems, next, err := page(found, form, s.pageSize)
	if err != nil {
		return nil, err
	}
	return describeInstancesResponse{Xmlns: namespace, RequestID: s.requestID(), Reservations: pageItems, NextToken: next}, nil
}

func (s *Server) terminateInstances(form url.Values) (any, *apiError) {
	ids := list(form, "InstanceId")
	if len(ids) == 0 {
		return nil, badRequest("MissingParameter", "The request must contain the parameter InstanceId")
	}
	// All or nothing: one unknown id fails the whole call (API reference,
	// TerminateInstances).
	for _, id := range ids {
		if s.findInstance(id) == nil {
			return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		}
	}
	skip, err := boolParam(form, "SkipOsShutdown")
	if err != nil {
		return nil, err
	}
	resp := terminateInstancesResponse{Xmlns: namespace, RequestID: s.requestID()}
	for _, id := range ids {
		it := s.findInstance(id)
		prev := it.State
		// A second call on a terminating instance changes nothing: the
		// operation is idempotent (API reference, TerminateInstances).
		if prev != StateShuttingDown && prev != StateTerminated {
			it.State = StateShuttingDown
			it.shutdownAt = s.now()
			it.SkipOsShutdown = skip
			if s.onTerminate != nil {
				s.onTerminate(id, skip)
			}
		}
		resp.Instances = append(resp.Instances, xmlStateChange{
			InstanceID:    id,
			CurrentState:  xmlState{Code: stateCodes[it.State], Name: it.State},
			PreviousState: xmlState{Code: stateCodes[prev], Name: prev},
		})
	}
	return resp, nil
}

func (s *Server) describeVolumes(form url.Values) (any, *apiError) {
	ids := list(form, "VolumeId")
	for _, id := range ids {
		if s.findVolume(id) == nil {
			return nil, badRequest("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
		}
	}
	filters, err := parseFilters(form, knownVolumeFilter)
	if err != nil {
		return nil, err
	}
	var found []xmlVolume
	for _, v := range s.volumes {
		if len(ids) > 0 && !slices.Contains(ids, v.ID) {
			continue
		}
		if !all(filters, v.matches) {
			continue
		}
		xv := xmlVolume{
			VolumeID:         v.ID,
			Size:             v.SizeGiB,
			AvailabilityZone: v.AvailabilityZone,
			Status:           v.State,
			CreateTime:       timestamp(v.CreateTime),
			TagSet:           xmlTags(v.Tags),
			VolumeType:       v.VolumeType,
		}
		if v.AttachedTo != "" {
			xv.Attachments = []xmlAttachment{{
				VolumeID: v.ID, InstanceID: v.AttachedTo, Device: v.Device, Status: v.attachState,
				AttachTime: timestamp(v.AttachTime), DeleteOnTermination: v.DeleteOnTermination,
			}}
		}
		found = append(found, xv)
	}
	pageItems, next, err := page(found, form, s.pageSize)
	if err != nil {
		return nil, err
	}
	return describeVolumesResponse{Xmlns: namespace, RequestID: s.requestID(), Volumes: pageItems, NextToken: next}, nil
}

func (s *Server) deleteVolume(form url.Values) (any, *apiError) {
	id := form.Get("VolumeId")
	if id == "" {
		return nil, badRequest("MissingParameter", "The request must contain the parameter VolumeId")
	}
	v := s.findVolume(id)
	switch {
	case v == nil:
		return nil, badRequest("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	case v.AttachedTo != "":
		return nil, badRequest("VolumeInUse", "Volume %s is currently attached to %s", id, v.AttachedTo)
	case v.State != VolumeAvailable && v.State != VolumeError:
		return nil, &apiError{http.StatusBadRequest, "IncorrectState", "The volume '" + id + "' is '" + v.State + "'"}
	}
	s.volumes = slices.DeleteFunc(s.volumes, func(x *volume) bool { return x.ID == id })
	return deleteVolumeResponse{Xmlns: namespace, RequestID: s.requestID(), Return: true}, nil
}

func all(filters []filter, match func(filter) bool) bool {
	for _, f := range filters {
		if !match(f) {
			return false
		}
	}
	return true
}
