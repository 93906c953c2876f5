package ec2test

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
)

// GetInstanceMetadataDefaults as the EC2 API reference describes it
// (docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetInstanceMetadataDefaults.html
// and API_InstanceMetadataDefaultsResponse.html) and aws-sdk-go-v2
// service/ec2 v1.344.2 sends and reads it (serializers.go
// awsEc2query_serializeOpDocumentGetInstanceMetadataDefaultsInput: DryRun
// only; deserializers.go
// awsEc2query_deserializeOpDocumentGetInstanceMetadataDefaultsOutput and
// awsEc2query_deserializeDocumentInstanceMetadataDefaultsResponse: an
// accountLevel element holding httpEndpoint, httpPutResponseHopLimit,
// httpTokens, httpTokensEnforced, instanceMetadataTags, managedBy and
// managedExceptionMessage).
//
// A setting the account never made is absent from accountLevel, and an
// account that made none answers an empty accountLevel: "no preference"
// (ModifyInstanceMetadataDefaults: "To remove a parameter's account-level
// default setting, specify no-preference"). terraform-provider-aws reads an
// all-empty answer as "no settings" (internal/service/ec2/
// ec2_instance_metadata_defaults.go, Read: itypes.IsZero(output)); that
// AWS sends the element empty rather than leaving it out is UNVERIFIED,
// and readers must take both as no preference.
func init() {
	params["GetInstanceMetadataDefaults"] = patterns(`DryRun`)
	actions["GetInstanceMetadataDefaults"] = (*Server).getInstanceMetadataDefaults
}

// MetadataDefaults are an account's default instance metadata options in
// the stand-in's region; "" (0 for the hop limit) is no preference.
type MetadataDefaults struct {
	HttpTokens           string // optional | required
	HttpEndpoint         string // enabled | disabled
	HttpTokensEnforced   string // enabled | disabled: "When enforcement is enabled, the instance can't launch unless IMDSv2 (HttpTokens) is set to required"
	InstanceMetadataTags string // enabled | disabled
	HopLimit             int32  // 1 to 64
	// ManagedBy is account, or declarative-policy when an AWS
	// Organizations declarative policy sets them ("can't be modified by
	// the account"); ManagedExceptionMessage is that policy's own message.
	ManagedBy               string
	ManagedExceptionMessage string
}

// metadataValues are the values each setting takes (aws-sdk-go-v2
// service/ec2 v1.344.2 types/enums.go: HttpTokensState,
// InstanceMetadataEndpointState, HttpTokensEnforcedState,
// InstanceMetadataTagsState, ManagedBy).
var metadataValues = map[string][]string{
	"HttpTokens": {"optional", "required"}, "HttpEndpoint": {"enabled", "disabled"},
	"HttpTokensEnforced": {"enabled", "disabled"}, "InstanceMetadataTags": {"enabled", "disabled"},
	"ManagedBy": {"account", "declarative-policy"},
}

// SetInstanceMetadataDefaults sets the account's defaults, as
// ModifyInstanceMetadataDefaults or a declarative policy would. A value EC2
// does not know, or a hop limit outside 1 to 64
// (ModifyInstanceMetadataDefaults: "Possible values: Integers from 1 to
// 64"), is a bug of the test and panics.
func (s *Server) SetInstanceMetadataDefaults(d MetadataDefaults) {
	for name, v := range map[string]string{"HttpTokens": d.HttpTokens, "HttpEndpoint": d.HttpEndpoint,
		"HttpTokensEnforced": d.HttpTokensEnforced, "InstanceMetadataTags": d.InstanceMetadataTags, "ManagedBy": d.ManagedBy} {
		if v != "" && !slices.Contains(metadataValues[name], v) {
			panic(fmt.Sprintf("ec2test: %s %q is none of %v", name, v, metadataValues[name]))
		}
	}
	if d.HopLimit < 0 || d.HopLimit > 64 {
		panic(fmt.Sprintf("ec2test: HttpPutResponseHopLimit %d is outside 1 to 64", d.HopLimit))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.imds = d
}

type xmlMetadataDefaults struct {
	HttpEndpoint            string `xml:"httpEndpoint,omitempty"`
	HopLimit                int32  `xml:"httpPutResponseHopLimit,omitempty"`
	HttpTokens              string `xml:"httpTokens,omitempty"`
	HttpTokensEnforced      string `xml:"httpTokensEnforced,omitempty"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags,omitempty"`
	ManagedBy               string `xml:"managedBy,omitempty"`
	ManagedExceptionMessage string `xml:"managedExceptionMessage,omitempty"`
}

type getInstanceMetadataDefaultsResponse struct {
	XMLName      xml.Name            `xml:"GetInstanceMetadataDefaultsResponse"`
	Xmlns        string              `xml:"xmlns,attr"`
	RequestID    string              `xml:"requestId"`
	AccountLevel xmlMetadataDefaults `xml:"accountLevel"`
}

func (s *Server) getInstanceMetadataDefaults(url.Values) (any, *apiError) {
	d := s.imds
	return getInstanceMetadataDefaultsResponse{Xmlns: namespace, RequestID: s.requestID(), AccountLevel: xmlMetadataDefaults{
		HttpEndpoint: d.HttpEndpoint, HopLimit: d.HopLimit, HttpTokens: d.HttpTokens, HttpTokensEnforced: d.HttpTokensEnforced,
		InstanceMetadataTags: d.InstanceMetadataTags, ManagedBy: d.ManagedBy, ManagedExceptionMessage: d.ManagedExceptionMessage,
	}}, nil
}
