package ec2test

import "encoding/xml"

// namespace is the XML namespace of EC2 API version 2016-11-15, the version
// aws-sdk-go-v2's ec2 client sends (serializers.go: Version=2016-11-15).
const namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// The element names below are those of the EC2 API reference
// (docs.aws.amazon.com/AWSEC2/latest/APIReference, "Response Elements") and
// of aws-sdk-go-v2's ec2 deserializers.go, which matches them case-insensitively.

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type xmlPlacement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	Tenancy          string `xml:"tenancy"`
}

type xmlInstance struct {
	InstanceID       string       `xml:"instanceId"`
	ImageID          string       `xml:"imageId"`
	InstanceState    xmlState     `xml:"instanceState"`
	PrivateIPAddress string       `xml:"privateIpAddress,omitempty"`
	InstanceType     string       `xml:"instanceType"`
	LaunchTime       string       `xml:"launchTime"`
	Placement        xmlPlacement `xml:"placement"`
	VpcID            string       `xml:"vpcId,omitempty"`
	GroupSet         []xmlGroupID `xml:"groupSet>item"`
	TagSet           []xmlTag     `xml:"tagSet>item"`
}

// xmlGroupID is a GroupIdentifier (API reference): an instance's group.
type xmlGroupID struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type xmlReservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []xmlInstance `xml:"instancesSet>item"`
}

type describeInstancesResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []xmlReservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

type xmlStateChange struct {
	InstanceID    string   `xml:"instanceId"`
	CurrentState  xmlState `xml:"currentState"`
	PreviousState xmlState `xml:"previousState"`
}

type terminateInstancesResponse struct {
	XMLName   xml.Name         `xml:"TerminateInstancesResponse"`
	Xmlns     string           `xml:"xmlns,attr"`
	RequestID string           `xml:"requestId"`
	Instances []xmlStateChange `xml:"instancesSet>item"`
}

type xmlAttachment struct {
	VolumeID            string `xml:"volumeId"`
	InstanceID          string `xml:"instanceId"`
	Device              string `xml:"device"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type xmlVolume struct {
	VolumeID         string          `xml:"volumeId"`
	Size             int32           `xml:"size"`
	SnapshotID       string          `xml:"snapshotId"`
	AvailabilityZone string          `xml:"availabilityZone"`
	Status           string          `xml:"status"`
	CreateTime       string          `xml:"createTime"`
	Attachments      []xmlAttachment `xml:"attachmentSet>item"`
	TagSet           []xmlTag        `xml:"tagSet>item"`
	VolumeType       string          `xml:"volumeType"`
	Encrypted        bool            `xml:"encrypted"`
}

type describeVolumesResponse struct {
	XMLName   xml.Name    `xml:"DescribeVolumesResponse"`
	Xmlns     string      `xml:"xmlns,attr"`
	RequestID string      `xml:"requestId"`
	Volumes   []xmlVolume `xml:"volumeSet>item"`
	NextToken string      `xml:"nextToken,omitempty"`
}

type deleteVolumeResponse struct {
	XMLName   xml.Name `xml:"DeleteVolumeResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	Return    bool     `xml:"return"`
}

// errorResponse is the EC2 error document (API reference, "Error codes for
// the Amazon EC2 API": <Response><Errors><Error><Code>...), which
// aws-sdk-go-v2 reads with aws/protocol/ec2query.GetErrorResponseComponents.
type errorResponse struct {
	XMLName   xml.Name `xml:"Response"`
	Code      string   `xml:"Errors>Error>Code"`
	Message   string   `xml:"Errors>Error>Message"`
	RequestID string   `xml:"RequestID"`
}
