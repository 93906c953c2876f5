package ec2test

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// params lists, per action, the request parameters EC2 accepts as the
// stand-in models them: the members of each action's input in the EC2 API
// reference (docs.aws.amazon.com/AWSEC2/latest/APIReference, "Request
// Parameters"), in the form aws-sdk-go-v2 service/ec2 v1.344.2 sends them
// (serializers.go, awsEc2query_serializeOpDocument<Action>Input: a list is
// Name.1, Name.2, ...; a filter is Filter.N.Name and Filter.N.Value.M).
// Action and Version come with every call. Anything else is refused with
// UnknownParameter, as EC2 does ("An unknown or unrecognized parameter was
// supplied", API reference, "Error codes for the Amazon EC2 API"), so a
// client that sends a field the stand-in does not model fails here instead
// of passing silently.
var params = map[string][]*regexp.Regexp{
	"DescribeInstances": patterns(`DryRun`, `MaxResults`, `NextToken`, `InstanceId\.\d+`, filterParam),
	// TerminateInstancesInput: DryRun, Force, InstanceIds, SkipOsShutdown.
	// SkipOsShutdown "specifies whether to bypass the graceful OS shutdown
	// process when the instance is terminated. Default: false"
	// (api_op_TerminateInstances.go). Force is in notModelled.
	"TerminateInstances": patterns(`DryRun`, `InstanceId\.\d+`, `SkipOsShutdown`, `Force`),
	"DescribeVolumes":    patterns(`DryRun`, `MaxResults`, `NextToken`, `VolumeId\.\d+`, filterParam),
	"DeleteVolume":       patterns(`DryRun`, `VolumeId`),
}

// notModelled are parameters EC2 accepts but the stand-in does not model:
// refused with an error saying so, rather than ignored.
var notModelled = map[string][]string{
	// Force "forces the instances to terminate" when a graceful shutdown
	// does not complete in time; nothing of marathon-ha sends it.
	"TerminateInstances": {"Force"},
}

const filterParam = `Filter\.\d+\.(Name|Value\.\d+)`

func patterns(ps ...string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(ps))
	for i, p := range ps {
		out[i] = regexp.MustCompile(`^(` + p + `)$`)
	}
	return out
}

// checkParams refuses a parameter the action does not take. Unknown actions
// pass here and are refused with InvalidAction by the dispatcher.
func checkParams(action string, form url.Values) *apiError {
	allowed, ok := params[action]
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "Action" || k == "Version" {
			continue
		}
		known := false
		for _, re := range allowed {
			if re.MatchString(k) {
				known = true
				break
			}
		}
		if !known {
			return badRequest("UnknownParameter", "The parameter %s is not recognized", k)
		}
		for _, nm := range notModelled[action] {
			if k == nm {
				return badRequest("UnknownParameter", "ec2test does not model %s %s: the parameter is valid on EC2 but this stand-in would ignore it", action, k)
			}
		}
	}
	return nil
}

// boolParam reads a Query-API boolean ("true" or "false", as the SDK's
// query encoder writes it); absent is false.
func boolParam(form url.Values, name string) (bool, *apiError) {
	v, ok := form[name]
	if !ok {
		return false, nil
	}
	switch strings.Join(v, ",") {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badRequest("InvalidParameterValue", "Invalid value '%s' for %s: a boolean is true or false", strings.Join(v, ","), name)
}
