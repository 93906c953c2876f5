package ec2ops

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// appVolumes are the selectors of the app's run-time volume the scope
// names: REX-Ray's by its Name tag (the volume carries no other tag of the
// stack), Flocker's by its cluster-id tag. VolumeSelector refuses a
// selector that could match another cluster's volume.
func (s SweepScope) appVolumes() ([]VolumeSelector, error) {
	var sels []VolumeSelector
	if s.VolumeName != "" {
		sels = append(sels, VolumeSelector{Driver: facts.VolumeDriverRexRay, ClusterID: s.ClusterID, VolumeName: s.VolumeName})
	}
	if s.FlockerClusterUUID != "" {
		sels = append(sels, VolumeSelector{Driver: facts.VolumeDriverFlocker, ClusterID: s.ClusterID, FlockerClusterUUID: s.FlockerClusterUUID})
	}
	for _, sel := range sels {
		if err := sel.validate(); err != nil {
			return nil, err
		}
	}
	return sels, nil
}

func volumeTags(v types.Volume) map[string]string {
	tags := map[string]string{}
	for _, t := range v.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags
}
