package components

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// call is one EC2 API call a volume driver's code makes.
type call struct {
	Action string // the IAM action that authorizes the call
	Source string // where the call is: "owner/repo path@tag:line"
	Note   string // which function, when it runs, and how a boto3 resource method maps to the API
}

// Where the pinned code lives. Flocker 1.15.0 pins boto3 1.3.1
// (ClusterHQ/flocker requirements/flocker.txt@1.15.0:5), whose EC2 resource
// model is boto3/data/ec2/2015-10-01/resources-1.json (session.resource picks
// the newest resources-1 version, boto/boto3 boto3/session.py@1.3.1:353).
// REX-Ray 0.11 carries libStorage in its own tree (no libstorage entry in
// rexray/rexray Gopkg.lock@v0.11.4); the rexray/ebs:0.11.4 plugin runs it.
const (
	flockerEBS  = "ClusterHQ/flocker flocker/node/agents/ebs.py@1.15.0:"
	boto3EC2    = "boto/boto3 boto3/data/ec2/2015-10-01/resources-1.json@1.3.1:"
	rexrayEBS   = "rexray/rexray libstorage/drivers/storage/ebs/storage/ebs_storage.go@v0.11.4:"
	rexrayLinux = "rexray/rexray libstorage/drivers/integration/linux/linux.go@v0.11.4:"
)

// driverEC2Calls lists every EC2 API call each volume driver makes in this
// cluster, read from the driver's source at the pinned version. The agents'
// policy must allow each of them and grant no other EC2 action.
//
// Neither driver calls EC2 for its instance identity: Flocker reads
// instance-id from IMDS (ebs.py@1.15.0:1014, boto.utils.get_instance_metadata)
// and REX-Ray's executor reads the instance identity document and block
// device mapping from IMDS (libstorage/drivers/storage/ebs/utils/utils.go
// @v0.11.4:17-19, executor/ebs_executor.go:77).
var driverEC2Calls = map[string][]call{
	facts.VolumeDriverFlocker: {
		{"ec2:DescribeAvailabilityZones", flockerEBS + "520", "ec2_client: validate_region (default True, ebs.py:488 and :1409; agent.yml does not set it) lists the region's zones when the dataset agent starts; without it the agent dies with UnauthorizedOperation"},
		{"ec2:CreateVolume", flockerEBS + "1049", "_create_ebs_volume, io1 profiles: client.create_volume"},
		{"ec2:CreateVolume", flockerEBS + "1056", "_create_ebs_volume, other profiles: client.create_volume"},
		{"ec2:DescribeVolumes", flockerEBS + "1062", "_create_ebs_volume: Volume(id).load(), which is DescribeVolumes (" + boto3EC2 + "1989)"},
		{"ec2:CreateTags", flockerEBS + "1192", "create_volume_with_profile: Volume.create_tags, which is CreateTags (" + boto3EC2 + "2022); tags flocker-cluster-id, flocker-dataset-id, flocker-metadata-version, Name"},
		{"ec2:DescribeVolumes", flockerEBS + "619", "_get_ebs_volume_state: Volume.reload() (= load, boto/boto3 boto3/resources/factory.py@1.3.1:165), polled by _wait_for_volume_state_change after create, attach, detach and destroy"},
		{"ec2:DescribeVolumes", flockerEBS + "1078", "_list_ebs_volumes: ServiceResource.volumes pages, which is DescribeVolumes (" + boto3EC2 + "435); list_volumes, on every discovery loop"},
		{"ec2:DescribeVolumes", flockerEBS + "1095", "_get_ebs_volume: Volume(id).load(); attach_volume, detach_volume, destroy_volume, get_device_path"},
		{"ec2:AttachVolume", flockerEBS + "1127", "_attach_ebs_volume: Volume.attach_to_instance, which is AttachVolume (" + boto3EC2 + "1999)"},
		{"ec2:DetachVolume", flockerEBS + "1112", "_detach_ebs_volume: Volume.detach_from_instance, which is DetachVolume (" + boto3EC2 + "2062); detach_volume (ebs.py:1331) and the wrong-device clean-up of an attach (ebs.py:893)"},
		{"ec2:DescribeVolumes", flockerEBS + "1349", "destroy_volume: ebs_volume.load()"},
		{"ec2:DeleteVolume", flockerEBS + "1351", "destroy_volume: Volume.delete, which is DeleteVolume (" + boto3EC2 + "2038); runs when a dataset is deleted through the control service (Docker's volume rm deletes nothing: flocker/dockerplugin/_api.py@1.15.0:189)"},
		{"ec2:DescribeInstances", flockerEBS + "1398", "list_live_nodes: ServiceResource.instances.filter(running), which is DescribeInstances (" + boto3EC2 + "335); every discovery loop (flocker/node/agents/blockdevice.py@1.15.0:1775)"},
	},
	facts.VolumeDriverRexRay: {
		{"ec2:DescribeVolumes", rexrayEBS + "918", "getVolume: Volumes (:270), VolumeInspect (:291), VolumeCreate's name check (:322), VolumeAttach (:588), VolumeDetach (:665), attachVolume (:1082), waitVolumeComplete (:1241)"},
		{"ec2:DescribeInstances", rexrayEBS + "1338", "getInstance, from createVolume (:1118) to fill in the availability zone"},
		{"ec2:CreateVolume", rexrayEBS + "1152", "createVolume, from VolumeCreate (:336): docker volume create, or implicit create on mount (" + rexrayLinux + "193)"},
		{"ec2:CreateTags", rexrayEBS + "1219", "createTags from createVolume (:1158): Name=<docker volume name> (:1204)"},
		{"ec2:AttachVolume", rexrayEBS + "1101", "attachVolume from VolumeAttach (:626): docker mount (" + rexrayLinux + "220)"},
		{"ec2:DetachVolume", rexrayEBS + "691", "VolumeDetach: docker unmount (" + rexrayLinux + "407), and preempt: VolumeAttach with Force=REXRAY_PREEMPT detaches from the other instance first (:606-609, " + rexrayLinux + "222)"},
		{"ec2:DeleteVolume", rexrayEBS + "568", "VolumeRemove: docker volume rm (" + rexrayLinux + "557)"},
	},
}

// driverUnreachableEC2Calls are EC2 calls in the drivers' source that never
// run in this cluster. The policy must not grant them.
var driverUnreachableEC2Calls = map[string][]call{
	facts.VolumeDriverFlocker: {
		{"ec2:StartInstances", flockerEBS + "1404", "start_node: nothing calls ICloudAPI.start_node on the EBS backend in 1.15.0 (only gce.py calls its own), and the EC2 ServiceResource has no start_instances"},
	},
	facts.VolumeDriverRexRay: {
		{"ec2:CreateSnapshot", rexrayEBS + "521", "VolumeSnapshot returns ErrNotImplemented (:514); the call is in a /* */ comment"},
		{"ec2:CopySnapshot", rexrayEBS + "801", "SnapshotCopy returns ErrNotImplemented (:769); the call is in a /* */ comment"},
		{"ec2:DeleteSnapshot", rexrayEBS + "861", "SnapshotRemove returns ErrNotImplemented (:844); the call is in a /* */ comment"},
		{"ec2:DescribeSnapshots", rexrayEBS + "1039", "getSnapshot is commented out (:1001-1069); Snapshots and SnapshotInspect return ErrNotImplemented (:722, :744)"},
	},
}

// The accounts, zone and identifiers of the evaluated requests.
const (
	testAccount     = "123456789012"
	testRegion      = "us-east-1"
	testFlockerUUID = "0b6a3d2e-5f1c-4c5e-9a57-2f3c9d8e1a44"
	testRexRayName  = "mha-1a2b3c4d-moby-counter"
)

// testScope is the scope cluster.go builds for the agents of driver.
func testScope(driver string) PolicyScope {
	s := PolicyScope{Partition: "aws", Region: testRegion, Account: testAccount,
		SSMPrefix: "/marathon-ha/mha-1a2b3c4d/agents", DeleteTagKey: facts.TagName, DeleteTagValue: testRexRayName}
	if driver == facts.VolumeDriverFlocker {
		s.DeleteTagKey, s.DeleteTagValue = facts.TagFlockerClusterID, testFlockerUUID
	}
	return s
}

// driverVolumeTags are the tags each driver puts on the volumes it creates,
// as the driver's source writes them (not as this program names them).
func driverVolumeTags(driver string) map[string]string {
	switch driver {
	case facts.VolumeDriverFlocker: // ebs.py@1.15.0:56-58, 1181-1188
		return map[string]string{"flocker-cluster-id": testFlockerUUID, "flocker-dataset-id": "5d2f5e8c-0000-4000-8000-000000000001",
			"flocker-metadata-version": "1", "Name": "flocker-5d2f5e8c-0000-4000-8000-000000000001"}
	case facts.VolumeDriverRexRay: // ebs_storage.go@v0.11.4:1197-1206 (ebs.tag unset)
		return map[string]string{"Name": testRexRayName}
	}
	return nil
}

// request is what IAM evaluates for one call: the resources it touches and
// the condition keys of the request.
type request struct {
	Action    string
	Resources []string
	Context   map[string]string
}

// newRequest builds the request of a driver's call. Resource types follow the
// Service Authorization Reference for EC2: the Describe calls support no
// resource-level permissions ("*"); volume calls are on the volume, attach
// and detach also on the instance.
func newRequest(driver, action string, s PolicyScope) (request, error) {
	arn := func(kind, id string) string {
		return fmt.Sprintf("arn:%s:ec2:%s:%s:%s/%s", s.Partition, s.Region, s.Account, kind, id)
	}
	volume, instance := arn("volume", "vol-0123456789abcdef0"), arn("instance", "i-0123456789abcdef0")
	r := request{Action: action, Context: map[string]string{"aws:RequestedRegion": s.Region}}
	tagged := true
	switch action {
	case "ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeSnapshots":
		r.Resources, tagged = []string{"*"}, false
	case "ec2:CreateVolume", "ec2:CreateTags": // the new volume has no tags yet
		r.Resources, tagged = []string{volume}, false
	case "ec2:DeleteVolume":
		r.Resources = []string{volume}
	case "ec2:AttachVolume", "ec2:DetachVolume":
		r.Resources = []string{instance, volume}
	case "ec2:StartInstances":
		r.Resources, tagged = []string{instance}, false
	case "ec2:CreateSnapshot", "ec2:CopySnapshot", "ec2:DeleteSnapshot":
		r.Resources, tagged = []string{arn("snapshot", "snap-0123456789abcdef0"), volume}, false
	default:
		return r, fmt.Errorf("no resource model for %s: add it to newRequest", action)
	}
	if tagged {
		for k, v := range driverVolumeTags(driver) {
			r.Context["ec2:ResourceTag/"+k] = v
		}
	}
	return r, nil
}

// globMatch matches IAM's * and ? wildcards.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globMatch(pattern[1:], s[1:])
	}
	return s != "" && pattern[0] == s[0] && globMatch(pattern[1:], s[1:])
}

// conditionsHold evaluates a statement's conditions against the request
// context. Only StringEquals is understood; anything else fails closed.
func conditionsHold(cond map[string]map[string]string, ctx map[string]string) (bool, string) {
	for op, kv := range cond {
		if op != "StringEquals" {
			return false, "unsupported condition operator " + op
		}
		for k, want := range kv {
			got, ok := "", false
			for ck, cv := range ctx { // condition keys are case-insensitive
				if strings.EqualFold(ck, k) {
					got, ok = cv, true
				}
			}
			if !ok {
				return false, fmt.Sprintf("%s absent from the request", k)
			}
			if got != want {
				return false, fmt.Sprintf("%s is %q, statement wants %q", k, got, want)
			}
		}
	}
	return true, ""
}

// statementMatches says whether st applies to action on resource.
func statementMatches(st Statement, action, resource string, ctx map[string]string) (bool, string) {
	if !slices.ContainsFunc(st.Action, func(p string) bool { return globMatch(strings.ToLower(p), strings.ToLower(action)) }) {
		return false, "action not listed"
	}
	if !slices.ContainsFunc(st.Resource, func(p string) bool { return globMatch(p, resource) }) {
		return false, fmt.Sprintf("resource %s not in %v", resource, st.Resource)
	}
	return conditionsHold(st.Condition, ctx)
}

// evaluate returns "" when p allows r on every resource r touches, else why not.
func evaluate(p PolicyDocument, r request) string {
	for _, res := range r.Resources {
		var allowed bool
		var why []string
		for _, st := range p.Statement {
			ok, reason := statementMatches(st, r.Action, res, r.Context)
			switch {
			case ok && st.Effect == "Deny":
				return fmt.Sprintf("on %s: denied by statement %q", res, st.Sid)
			case ok && st.Effect == "Allow":
				allowed = true
			case reason != "action not listed":
				why = append(why, fmt.Sprintf("%s: %s", st.Sid, reason))
			}
		}
		if !allowed {
			if len(why) == 0 {
				return fmt.Sprintf("on %s: no statement lists %s", res, r.Action)
			}
			return fmt.Sprintf("on %s: %s", res, strings.Join(why, "; "))
		}
	}
	return ""
}

var sourceRE = regexp.MustCompile(`^[\w.-]+/[\w.-]+ [\w./-]+@[\w.]+:\d+$`)

func TestDriverEC2CallsAllowed(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			calls := driverEC2Calls[driver]
			if len(calls) == 0 {
				t.Fatalf("driverEC2Calls lists no EC2 call for volume driver %q", driver)
			}
			s := testScope(driver)
			p := AgentPolicy(driver, s)
			for _, c := range calls {
				if !sourceRE.MatchString(c.Source) {
					t.Errorf("%s: source %q is not \"owner/repo path@tag:line\"", c.Action, c.Source)
				}
				r, err := newRequest(driver, c.Action, s)
				if err != nil {
					t.Fatal(err)
				}
				if why := evaluate(p, r); why != "" {
					t.Errorf("%s calls %s at %s (%s), but the agents' policy does not allow it: %s", driver, c.Action, c.Source, c.Note, why)
				}
			}
		})
	}
}

func TestDriverPolicyLeastPrivilege(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			called := map[string]bool{}
			for _, c := range driverEC2Calls[driver] {
				called[strings.ToLower(c.Action)] = true
			}
			unreachable := map[string]call{}
			for _, c := range driverUnreachableEC2Calls[driver] {
				unreachable[strings.ToLower(c.Action)] = c
			}
			for _, st := range AgentPolicy(driver, testScope(driver)).Statement {
				if st.Effect != "Allow" {
					continue
				}
				for _, a := range st.Action {
					service, _, found := strings.Cut(strings.ToLower(a), ":")
					if !found || !globMatch(service, "ec2") {
						continue
					}
					switch u, isUnreachable := unreachable[strings.ToLower(a)]; {
					case strings.ContainsAny(a, "*?"):
						t.Errorf("statement %q grants the wildcard %s; grant the EC2 actions in driverEC2Calls[%q] by name", st.Sid, a, driver)
					case isUnreachable:
						t.Errorf("statement %q grants %s, which %s never calls here: %s (%s)", st.Sid, a, driver, u.Note, u.Source)
					case !called[strings.ToLower(a)]:
						t.Errorf("statement %q grants %s, which %s does not call at its pinned version (no entry in driverEC2Calls[%q]); drop it or cite the call", st.Sid, a, driver, driver)
					}
				}
			}
		})
	}
}

// TestPolicyEvaluator checks the evaluator refuses what IAM refuses, so that
// the tests above cannot pass vacuously.
func TestPolicyEvaluator(t *testing.T) {
	s := testScope(facts.VolumeDriverFlocker)
	p := AgentPolicy(facts.VolumeDriverFlocker, s)
	mustDeny := func(name string, r request) {
		t.Helper()
		if evaluate(p, r) == "" {
			t.Errorf("%s: allowed, want denied", name)
		}
	}
	vol := fmt.Sprintf("arn:aws:ec2:%s:%s:volume/vol-1", s.Region, s.Account)
	own := map[string]string{"aws:RequestedRegion": s.Region, "ec2:ResourceTag/" + facts.TagFlockerClusterID: testFlockerUUID}
	if why := evaluate(p, request{"ec2:DeleteVolume", []string{vol}, own}); why != "" {
		t.Errorf("deleting this cluster's volume: %s", why)
	}
	other := maps.Clone(own)
	other["ec2:ResourceTag/"+facts.TagFlockerClusterID] = "another-cluster"
	mustDeny("deleting another cluster's volume", request{"ec2:DeleteVolume", []string{vol}, other})
	mustDeny("deleting an untagged volume", request{"ec2:DeleteVolume", []string{vol}, map[string]string{"aws:RequestedRegion": s.Region}})
	mustDeny("describing volumes in another region", request{"ec2:DescribeVolumes", []string{"*"}, map[string]string{"aws:RequestedRegion": "eu-west-1"}})
	mustDeny("an action no statement lists", request{"ec2:TerminateInstances", []string{"*"}, own})
	if !globMatch("ec2:describe*", "ec2:describevolumes") || globMatch("ec2:describe?", "ec2:describevolumes") || !globMatch("arn:aws:ec2:*:*:volume/*", vol) {
		t.Error("globMatch does not follow IAM wildcards")
	}
}
