package components

import (
	"fmt"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// TestMasterPolicyFencesOnlyOwnAgents evaluates the masters' policy
// (iameval_test.go) on the calls the fencer makes and on those it must
// never be able to make: it may terminate this cluster's agents and find
// instances, nothing else. Both masters' policies are checked: the Flocker
// control master's (with its secrets) and every other master's.
func TestMasterPolicyFencesOnlyOwnAgents(t *testing.T) {
	scope := PolicyScope{Partition: "aws", Region: testRegion, Account: testAccount, Zone: testZone, ClusterID: testClusterID,
		SSMPrefix: SSMPrefix(testClusterID, facts.RoleMaster)}
	instance := func(region, id string, tags map[string]string) iamResource {
		return iamResource{fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, testAccount, id), "instance", resourceKeys(region+"a", tags)}
	}
	tags := func(cluster, role string) map[string]string {
		t := map[string]string{facts.TagName: "dev-x"}
		if cluster != "" {
			t[facts.TagClusterID] = cluster
		}
		if role != "" {
			t[facts.TagRole] = role
		}
		return t
	}
	ownAgent := instance(testRegion, "i-0a1b2c3d4e5f60718", tags(testClusterID, facts.RoleAgent))
	appVolume := iamResource{fmt.Sprintf("arn:aws:ec2:%s:%s:volume/vol-1", testRegion, testAccount), "volume",
		resourceKeys(testZone, map[string]string{facts.TagName: testRexRayName, facts.TagClusterID: testClusterID})}
	in := func(region string, action string, res ...iamResource) iamRequest {
		return iamRequest{Action: action, Context: map[string][]string{"aws:RequestedRegion": {region}}, Resources: res}
	}
	cases := []struct {
		name    string
		req     iamRequest
		allowed bool
	}{
		{"terminate this cluster's agent", in(testRegion, "ec2:TerminateInstances", ownAgent), true},
		{"find instances", in(testRegion, "ec2:DescribeInstances", iamResource{ARN: "*"}), true},
		{"find instances in another region", in(otherRegion, "ec2:DescribeInstances", iamResource{ARN: "*"}), false},
		{"terminate another cluster's agent", in(testRegion, "ec2:TerminateInstances", instance(testRegion, "i-1", tags(otherClusterID, facts.RoleAgent))), false},
		{"terminate this cluster's master", in(testRegion, "ec2:TerminateInstances", instance(testRegion, "i-2", tags(testClusterID, facts.RoleMaster))), false},
		{"terminate an instance with the agent role of no cluster", in(testRegion, "ec2:TerminateInstances", instance(testRegion, "i-3", tags("", facts.RoleAgent))), false},
		{"terminate an untagged instance", in(testRegion, "ec2:TerminateInstances", instance(testRegion, "i-4", tags("", ""))), false},
		{"terminate a same-tagged agent in another region", in(otherRegion, "ec2:TerminateInstances", instance(otherRegion, "i-5", tags(testClusterID, facts.RoleAgent))), false},
		{"stop this cluster's agent", in(testRegion, "ec2:StopInstances", ownAgent), false},
		{"detach the app's volume", in(testRegion, "ec2:DetachVolume", appVolume, ownAgent), false},
		{"detach the app's volume, naming no instance", in(testRegion, "ec2:DetachVolume", appVolume), false},
		{"attach the app's volume", in(testRegion, "ec2:AttachVolume", ownAgent, appVolume), false},
		{"delete the app's volume", in(testRegion, "ec2:DeleteVolume", appVolume), false},
		{"tag an instance as this cluster's agent", iamRequest{Action: "ec2:CreateTags", Context: map[string][]string{"aws:RequestedRegion": {testRegion},
			"aws:RequestTag/" + facts.TagClusterID: {testClusterID}, "aws:TagKeys": {facts.TagClusterID}}, Resources: []iamResource{instance(testRegion, "i-4", nil)}}, false},
	}
	for _, readsSecrets := range []bool{false, true} {
		p := MasterPolicy(scope, readsSecrets)
		for _, c := range cases {
			if why := evaluate(p, c.req); (why == "") != c.allowed {
				t.Errorf("secrets %v, %s: allowed=%v (%s), want %v", readsSecrets, c.name, why == "", why, c.allowed)
			}
		}
	}
	// The EC2 actions granted are the fencer's, no more.
	var granted []string
	for _, st := range MasterPolicy(scope, true).Statement {
		for _, a := range st.Action {
			if len(a) > 4 && a[:4] == "ec2:" {
				granted = append(granted, a)
			}
		}
	}
	if fmt.Sprint(granted) != fmt.Sprint(FencerActions) {
		t.Errorf("EC2 actions granted to the masters %v, want %v", granted, FencerActions)
	}
}
