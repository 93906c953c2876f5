package components

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// VolumeDriverActions are the EC2 actions each volume driver calls in this
// cluster, and no more. Nothing here grants them to a human or stores a key:
// the agents get them through their instance profile only. Each action cites
// the call at the driver's pinned version; components/drivercalls_test.go
// lists every call, replays each driver's calls in their real order against
// AgentPolicy, and fails when the policy misses one or grants more.
//
// ec2:DeleteVolume is granted to neither driver: nothing in this cluster asks
// a driver to delete a volume (Mesos removes task containers with `docker rm
// -v`, which keeps named volumes: moby/moby daemon/mounts.go@v26.1.4
// removeMountPoints, "Do not remove named mountpoints"; Flocker's Docker
// plugin deletes nothing on Remove), and `pulumi destroy` deletes the volume
// with the operator's credentials (scripts/cleanup-volumes). Without it, a
// volume an agent could tag as its own (see AgentPolicy) still cannot be
// deleted by the agent.
var VolumeDriverActions = map[string][]string{
	// Flocker 1.15.0's EBS backend (ClusterHQ/flocker
	// flocker/node/agents/ebs.py@1.15.0), through boto3 1.3.1's EC2 resource
	// model (boto/boto3 boto3/data/ec2/2015-10-01/resources-1.json@1.3.1).
	// Flocker never calls DescribeRegions: validate_region lists the zones
	// and takes an unreachable endpoint for a bad region (ebs.py:518-528),
	// and nothing else in the 1.15.0 tree lists regions.
	// start_node (ebs.py:1404, StartInstances) has no caller; destroy_volume
	// (ebs.py:1351, DeleteVolume) runs only for a dataset deleted through the
	// control service's API, which nothing here calls.
	facts.VolumeDriverFlocker: {
		"ec2:AttachVolume",              // ebs.py:1127 Volume.attach_to_instance
		"ec2:CreateTags",                // ebs.py:1192 Volume.create_tags (flocker-cluster-id, ...)
		"ec2:CreateVolume",              // ebs.py:1049, :1056 client.create_volume
		"ec2:DescribeAvailabilityZones", // ebs.py:520 ec2_client validate_region, at agent start
		"ec2:DescribeInstances",         // ebs.py:1398 list_live_nodes, instances.filter
		"ec2:DescribeVolumes",           // ebs.py:1078 volumes pages; :1062, :1095, :1349 Volume.load; :619 Volume.reload
		"ec2:DetachVolume",              // ebs.py:1112 Volume.detach_from_instance
	},
	// REX-Ray 0.11.4's EBS storage driver, from libStorage in REX-Ray's own
	// tree (rexray/rexray
	// libstorage/drivers/storage/ebs/storage/ebs_storage.go@v0.11.4); its
	// executor reads only instance metadata. Every snapshot call
	// (CreateSnapshot :521, CopySnapshot :801, DeleteSnapshot :861,
	// DescribeSnapshots :1039) sits in a comment after "return
	// ErrNotImplemented", and Docker's volume API never reaches the snapshot
	// methods anyway (libstorage/drivers/integration/linux/linux.go@v0.11.4),
	// so REX-Ray's documented policy's snapshot, attribute, status,
	// DescribeTags and DescribeAvailabilityZones actions are not granted.
	// VolumeRemove (ebs_storage.go:568, DeleteVolume) runs only on `docker
	// volume rm`, which nothing here runs.
	facts.VolumeDriverRexRay: {
		"ec2:AttachVolume",      // ebs_storage.go:1101 attachVolume (docker mount)
		"ec2:CreateTags",        // ebs_storage.go:1219 createTags, Name=<volume name>
		"ec2:CreateVolume",      // ebs_storage.go:1152 createVolume (docker volume create)
		"ec2:DescribeInstances", // ebs_storage.go:1338 getInstance, the new volume's zone
		"ec2:DescribeVolumes",   // ebs_storage.go:918 getVolume (inspect, attach, detach, waits)
		"ec2:DetachVolume",      // ebs_storage.go:691 VolumeDetach (docker unmount; preempt's forced detach is off)
	},
}

// Tags Flocker 1.15.0 writes besides facts.TagFlockerClusterID, in the same
// CreateTags request (ClusterHQ/flocker flocker/node/agents/ebs.py@1.15.0:56-57
// DATASET_ID_LABEL, METADATA_VERSION_LABEL; :1181-1188 the values).
const (
	tagFlockerDatasetID       = "flocker-dataset-id"
	tagFlockerMetadataVersion = "flocker-metadata-version"
	flockerMetadataVersion    = "1"         // ebs.py:1182 METADATA_VERSION_LABEL: '1'
	flockerNamePattern        = "flocker-*" // ebs.py:1187 "Name": u"flocker-{}".format(dataset_id)
)

// DriverVolumeTagKeys are the tag keys each driver writes on a volume it has
// just created, all in one CreateTags request.
var DriverVolumeTagKeys = map[string][]string{
	facts.VolumeDriverFlocker: {facts.TagName, facts.TagFlockerClusterID, tagFlockerDatasetID, tagFlockerMetadataVersion},
	facts.VolumeDriverRexRay:  {facts.TagName}, // ebs_storage.go@v0.11.4:1197-1206, ebs.tag unset
}

// PolicyDocument is an IAM policy, marshalled to JSON.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Condition maps a condition operator to condition keys and their allowed
// values (IAM JSON policy elements: Condition).
type Condition map[string]map[string][]string

// Statement is one statement of a PolicyDocument.
type Statement struct {
	Sid       string            `json:"Sid"`
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal,omitempty"`
	Action    []string          `json:"Action"`
	Resource  []string          `json:"Resource,omitempty"`
	Condition Condition         `json:"Condition,omitempty"`
}

// PolicyScope holds what a policy is scoped to.
type PolicyScope struct {
	Partition, Region, Account string
	Zone                       string // the agents' zone, where the drivers create the app's volume
	ClusterID                  string // the agents' facts.TagClusterID tag, e.g. mha-1a2b3c4d
	SSMPrefix                  string // the role's secrets, e.g. /marathon-ha/mha-1a2b3c4d/agents
	// VolumeTagKey and VolumeTagValue are the tag by which the driver marks
	// this cluster's volume: Flocker flocker-cluster-id=<cluster UUID>,
	// REX-Ray Name=<Docker volume name> (components.VolumeName).
	VolumeTagKey, VolumeTagValue string
	// EBSKeyARN is the customer managed KMS key EBS encrypts new volumes
	// with by default in this region (preflight.go); empty when encryption
	// by default is off or uses the AWS managed key aws/ebs.
	EBSKeyARN string
}

// EBSKeyActions are what a principal creating, attaching and reading a
// volume encrypted with a customer managed key needs on that key (Amazon EBS
// User Guide, "Amazon EBS encryption" > "Permissions for IAM users", and
// "How Amazon EBS uses AWS KMS": EC2 calls GenerateDataKeyWithoutPlaintext
// and CreateGrant at CreateVolume and Decrypt at AttachVolume on the
// caller's behalf).
var EBSKeyActions = []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:ReEncrypt*"}

// ebsKeyStatements let the agents' driver use the account's default EBS key
// only through EC2 in this region (kms:ViaService), and create grants only
// for AWS resources (kms:GrantIsForAWSResource), as the EBS User Guide's
// example policy does.
func ebsKeyStatements(s PolicyScope) []Statement {
	if s.EBSKeyARN == "" {
		return nil
	}
	via := Condition{"StringEquals": {"kms:ViaService": {"ec2." + s.Region + ".amazonaws.com"}}}
	use := slices.DeleteFunc(slices.Clone(EBSKeyActions), func(a string) bool { return a == "kms:CreateGrant" })
	return []Statement{
		{Sid: "UseDefaultEBSKey", Effect: "Allow", Action: use, Resource: []string{s.EBSKeyARN}, Condition: via},
		{Sid: "GrantDefaultEBSKeyToEBS", Effect: "Allow", Action: []string{"kms:CreateGrant"}, Resource: []string{s.EBSKeyARN},
			Condition: Condition{"StringEquals": via["StringEquals"], "Bool": {"kms:GrantIsForAWSResource": {"true"}}}},
	}
}

// secretsStatements let a node read its own SecureStrings and nothing else.
func secretsStatements(s PolicyScope) []Statement {
	return []Statement{
		{
			Sid: "ReadOwnSecrets", Effect: "Allow",
			Action:   []string{"ssm:GetParameter", "ssm:GetParameters"},
			Resource: []string{fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s/*", s.Partition, s.Region, s.Account, s.SSMPrefix)},
		},
		{
			// SecureStrings use the account's aws/ssm key; decrypting through
			// SSM only (AWS KMS developer guide, kms:ViaService).
			Sid: "DecryptThroughSSM", Effect: "Allow",
			Action:    []string{"kms:Decrypt"},
			Resource:  []string{fmt.Sprintf("arn:%s:kms:%s:%s:key/*", s.Partition, s.Region, s.Account)},
			Condition: Condition{"StringEquals": {"kms:ViaService": {"ssm." + s.Region + ".amazonaws.com"}}},
		},
	}
}

// AgentPolicy is the agents' policy: the volume driver's EC2 actions, each
// scoped as tightly as the driver's real calls allow, and the agents'
// secrets. Condition keys per action and resource type are those of the
// Service Authorization Reference, "Actions, resources, and condition keys
// for Amazon EC2" (list_amazonec2.html).
//
//   - Describe*: no resource-level permissions, so "*" in the region.
//   - CreateVolume: a volume in the agents' zone (ec2:AvailabilityZone).
//     Neither driver tags at creation (REX-Ray ebs_storage.go@v0.11.4:1152
//     then createTags :1158; Flocker ebs.py@1.15.0:1056 then create_tags
//     :1192), so no aws:RequestTag condition can apply here. Only the volume
//     resource is listed: a CreateVolume from a snapshot also needs the
//     snapshot resource, so copying any snapshot's data is refused.
//   - CreateTags: only on volumes in the agents' zone that carry none of the
//     keys the driver writes yet (Null ec2:ResourceTag/<key>), only the
//     driver's keys (ForAllValues:StringEquals aws:TagKeys), and only with
//     this cluster's value (StringEquals aws:RequestTag/<key>). A volume of
//     another cluster, Flocker's or REX-Ray's, already has them and cannot be
//     retagged.
//   - AttachVolume, DetachVolume: both the volume (this cluster's tag) and
//     the instance (this cluster's agent, by its marathon-ha tags). Both
//     drivers detach by volume id alone (ebs_storage.go:685-691; boto3 1.3.1
//     resources-1.json:2060-2066, Volume.detach_from_instance), and the
//     reference lists the instance as optional for DetachVolume: the
//     volume's tag is what must hold, and the instance statement keeps the
//     detach allowed if AWS also checks the instance the volume is attached
//     to (Flocker's dead-node detach acts on another agent of this cluster;
//     REX-Ray's preempt would, but it is off: docs/fencing.md).
//
// Residual risk: EC2 keeps no condition key that tells a volume created a
// moment ago by this agent from an older one, so an agent can still give
// this cluster's tags to an untagged volume (for REX-Ray: one without a Name
// tag) in the agents' zone, then attach it to an agent and read it, and
// `pulumi destroy`'s clean-up, which finds volumes by these tags, would
// delete it. With REX-Ray the tag value is the Docker volume name, known
// here, so it is pinned exactly; Flocker's Name (flocker-<dataset id>) is
// pinned to its prefix. Only someone with root on an agent can make such
// calls: app containers cannot reach the instance role (the DOCKER-USER rule
// in userdata).
func AgentPolicy(driver string, s PolicyScope) PolicyDocument {
	arn := func(kind string) string {
		return fmt.Sprintf("arn:%s:ec2:%s:%s:%s/*", s.Partition, s.Region, s.Account, kind)
	}
	region := []string{s.Region}
	actions := VolumeDriverActions[driver]
	var describe []string
	for _, a := range actions {
		if strings.HasPrefix(a, "ec2:Describe") {
			describe = append(describe, a)
		}
	}
	var stmts []Statement
	add := func(st Statement) {
		st.Action = slices.DeleteFunc(st.Action, func(a string) bool { return !slices.Contains(actions, a) })
		if len(st.Action) > 0 {
			stmts = append(stmts, st)
		}
	}
	add(Statement{Sid: "Describe", Effect: "Allow", Action: describe, Resource: []string{"*"},
		Condition: Condition{"StringEquals": {"aws:RequestedRegion": region}}})
	add(Statement{Sid: "CreateVolumesInZone", Effect: "Allow", Action: []string{"ec2:CreateVolume"}, Resource: []string{arn("volume")},
		Condition: Condition{"StringEquals": {"aws:RequestedRegion": region, "ec2:AvailabilityZone": {s.Zone}}}})
	add(Statement{Sid: "TagNewVolumes", Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: []string{arn("volume")},
		Condition: tagNewVolumes(driver, s)})
	add(Statement{Sid: "AttachOwnVolumes", Effect: "Allow", Action: []string{"ec2:AttachVolume", "ec2:DetachVolume"}, Resource: []string{arn("volume")},
		Condition: Condition{"StringEquals": {"aws:RequestedRegion": region, "ec2:ResourceTag/" + s.VolumeTagKey: {s.VolumeTagValue}}}})
	add(Statement{Sid: "AttachToOwnAgents", Effect: "Allow", Action: []string{"ec2:AttachVolume", "ec2:DetachVolume"}, Resource: []string{arn("instance")},
		Condition: Condition{"StringEquals": {"aws:RequestedRegion": region,
			"ec2:ResourceTag/" + facts.TagClusterID: {s.ClusterID}, "ec2:ResourceTag/" + facts.TagRole: {facts.RoleAgent}}}})
	stmts = append(stmts, ebsKeyStatements(s)...)
	if driver == facts.VolumeDriverFlocker {
		stmts = append(stmts, secretsStatements(s)...)
	}
	return PolicyDocument{Version: "2012-10-17", Statement: stmts}
}

// tagNewVolumes is the condition of the CreateTags statement: the tags the
// driver writes on a volume it has just created, with this cluster's value.
func tagNewVolumes(driver string, s PolicyScope) Condition {
	keys := DriverVolumeTagKeys[driver]
	absent := map[string][]string{}
	for _, k := range keys {
		absent["ec2:ResourceTag/"+k] = []string{"true"}
	}
	c := Condition{
		"StringEquals": {"aws:RequestedRegion": {s.Region}, "ec2:AvailabilityZone": {s.Zone},
			"aws:RequestTag/" + s.VolumeTagKey: {s.VolumeTagValue}},
		"ForAllValues:StringEquals": {"aws:TagKeys": keys},
		"Null":                      absent,
	}
	if driver == facts.VolumeDriverFlocker {
		c["StringEquals"]["aws:RequestTag/"+tagFlockerMetadataVersion] = []string{flockerMetadataVersion}
		c["StringLike"] = map[string][]string{"aws:RequestTag/" + facts.TagName: {flockerNamePattern}}
	}
	return c
}

// FencerActions are the EC2 actions the masters' fencer (userdata
// run-mha-fencer, docs/fencing.md) calls, and no more.
var FencerActions = []string{"ec2:DescribeInstances", "ec2:TerminateInstances"}

// MasterPolicy is a master's policy: the fencer's two EC2 actions and,
// for the master that runs the Flocker control service (readsSecrets), its
// secrets. Per the Service Authorization Reference ("Actions, resources, and
// condition keys for Amazon EC2", list_amazonec2.html):
//
//   - DescribeInstances lists no resource type (resource-level permissions
//     are not supported): "*", in the cluster's region. The fencer finds the
//     lost agent's instance by its address and this cluster's tags.
//   - TerminateInstances requires the instance resource, whose condition
//     keys include aws:ResourceTag/${TagKey}: only this cluster's agents,
//     those tagged facts.TagClusterID=<cluster id> and facts.TagRole=agent.
//     Another cluster's agent, a master or an untagged instance cannot be
//     terminated, even by a stolen master credential.
//
// No volume action: EC2 releases a terminated instance's volumes by
// itself, so the masters never detach anything.
func MasterPolicy(s PolicyScope, readsSecrets bool) PolicyDocument {
	stmts := []Statement{
		{Sid: "FindLostAgents", Effect: "Allow", Action: []string{"ec2:DescribeInstances"}, Resource: []string{"*"},
			Condition: Condition{"StringEquals": {"aws:RequestedRegion": {s.Region}}}},
		{Sid: "FenceOwnAgents", Effect: "Allow", Action: []string{"ec2:TerminateInstances"},
			Resource: []string{fmt.Sprintf("arn:%s:ec2:%s:%s:instance/*", s.Partition, s.Region, s.Account)},
			Condition: Condition{"StringEquals": {
				"aws:ResourceTag/" + facts.TagClusterID: {s.ClusterID},
				"aws:ResourceTag/" + facts.TagRole:      {facts.RoleAgent},
			}}},
	}
	if readsSecrets {
		stmts = append(stmts, secretsStatements(s)...)
	}
	return PolicyDocument{Version: "2012-10-17", Statement: stmts}
}

var ec2AssumeRole = PolicyDocument{Version: "2012-10-17", Statement: []Statement{{
	Sid: "EC2AssumesRole", Effect: "Allow", Principal: map[string]string{"Service": "ec2.amazonaws.com"},
	Action: []string{"sts:AssumeRole"},
}}}

func (p PolicyDocument) json() (string, error) {
	b, err := json.Marshal(p)
	return string(b), err
}

// instanceRole is an IAM role with one inline policy, and its profile.
type instanceRole struct {
	Profile *iam.InstanceProfile
	Policy  *iam.RolePolicy // instances wait for it: they read secrets at boot
}

// newInstanceRole creates a role with one inline policy and its instance profile.
func newInstanceRole(ctx *pulumi.Context, name string, policy pulumi.StringOutput, namePrefix, profilePrefix pulumi.StringInput, tags pulumi.StringMap, parent pulumi.ResourceOption) (*instanceRole, error) {
	assume, err := ec2AssumeRole.json()
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		NamePrefix:       namePrefix,
		AssumeRolePolicy: pulumi.String(assume),
		Tags:             tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	rp, err := iam.NewRolePolicy(ctx, name+"-policy", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, parent)
	if err != nil {
		return nil, err
	}
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{
		NamePrefix: profilePrefix,
		Role:       role.Name,
		Tags:       tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	return &instanceRole{Profile: profile, Policy: rp}, nil
}
