package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/components"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/failover"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
	"github.com/marathon-ha/marathon-ha/userdata"
)

const testPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRZ1bXkwOzd6tKhsYlQ0lGQ8o2T0c8V3n3mJHkCqW1D op@example"

// Resource type tokens the tests look at.
const (
	tInstance  = "aws:ec2/instance:Instance"
	tSG        = "aws:ec2/securityGroup:SecurityGroup"
	tRule      = "aws:ec2/securityGroupRule:SecurityGroupRule"
	tELB       = "aws:elb/loadBalancer:LoadBalancer"
	tRole      = "aws:iam/role:Role"
	tPolicy    = "aws:iam/rolePolicy:RolePolicy"
	tProfile   = "aws:iam/instanceProfile:InstanceProfile"
	tKeyPair   = "aws:ec2/keyPair:KeyPair"
	tParameter = "aws:ssm/parameter:Parameter"
	tCommand   = "command:local:Command"
)

func baseConfig(kv ...string) map[string]string {
	c := map[string]string{"aws:region": "us-east-1", "publicKey": testPublicKey, "operatorCidr": "203.0.113.7/32"}
	for i := 0; i < len(kv); i += 2 {
		c[kv[i]] = kv[i+1]
	}
	return c
}

func flockerConfig(kv ...string) map[string]string {
	return baseConfig(append([]string{"volumeDriver", "flocker"}, kv...)...)
}

func run(t testing.TB, stack string, cfg map[string]string) *pulumimock.Result {
	t.Helper()
	res, err := pulumimock.Run(program, pulumimock.NewMocks(), stack, cfg, false)
	if err != nil {
		t.Fatalf("program failed under mocks: %v", err)
	}
	return res
}

func count(res *pulumimock.Result) map[string]int {
	m := map[string]int{}
	for _, r := range res.Resources {
		m[r.Type]++
	}
	return m
}

func TestResourcesPerComponent(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]string
		want map[string]int
	}{
		{"rexray, two agents", baseConfig(), map[string]int{
			"marathon-ha:index:Cluster": 1, "marathon-ha:index:Network": 1, "marathon-ha:index:KeyPair": 1,
			"marathon-ha:index:Masters": 1, "marathon-ha:index:Agents": 1, "marathon-ha:index:LoadBalancer": 1,
			"marathon-ha:index:AppDeployment": 1,
			"aws:ec2/vpc:Vpc":                 1, "aws:ec2/internetGateway:InternetGateway": 1, "aws:ec2/subnet:Subnet": 1,
			"aws:ec2/routeTable:RouteTable": 1, "aws:ec2/routeTableAssociation:RouteTableAssociation": 1,
			tSG: 3, tRule: 17, tKeyPair: 1, tInstance: 1, tELB: 1,
			// the agents: a group of one launch template, which registers
			// its instances with the ELB itself (no attachment)
			tGroup: 1, tLaunchTemplate: 1,
			// all five master addresses, reserved from the first up
			"aws:ec2/subnetCidrReservation:SubnetCidrReservation": 5,
			// the agents' and the masters' fencer's
			tRole: 2, tPolicy: 2, tProfile: 2,
			tCommand: 2, "random:index/randomId:RandomId": 1,
			"pulumi:index:Stash": 1 + 1 + 2 + 1, // the recorded zone (components/placement.go) and volume driver (driverswitch.go), the master's and the agents' group's user data (keptUserData), the imported key pair's name (components/keypair.go)
		}},
		{"flocker, three agents", flockerConfig("agentCount", "3", "exposeFlockerApi", "true"), map[string]int{
			"marathon-ha:index:Cluster": 1, "marathon-ha:index:Network": 1, "marathon-ha:index:KeyPair": 1,
			"marathon-ha:index:FlockerPKI": 1, "marathon-ha:index:Masters": 1, "marathon-ha:index:Agents": 1,
			"marathon-ha:index:LoadBalancer": 1, "marathon-ha:index:AppDeployment": 1,
			"aws:ec2/vpc:Vpc": 1, "aws:ec2/internetGateway:InternetGateway": 1, "aws:ec2/subnet:Subnet": 1,
			"aws:ec2/routeTable:RouteTable": 1, "aws:ec2/routeTableAssociation:RouteTableAssociation": 1,
			tSG: 3, tRule: 18, tKeyPair: 1, tInstance: 4, tELB: 1,
			"aws:ec2/subnetCidrReservation:SubnetCidrReservation": 5, "aws:elb/attachment:Attachment": 3,
			tRole: 2, tPolicy: 2, tProfile: 2, tCommand: 2,
			"random:index/randomId:RandomId": 1, "random:index/randomUuid:RandomUuid": 4,
			"pulumi:index:Stash": 1 + 1 + 4 + 1,
			// CA, control service, plugin and one per agent
			"tls:index/privateKey:PrivateKey": 6, "tls:index/selfSignedCert:SelfSignedCert": 1,
			"tls:index/certRequest:CertRequest": 5, "tls:index/locallySignedCert:LocallySignedCert": 5,
			// master 3; agents 3 shared + 2 each
			tParameter: 3 + 3 + 2*3,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := count(run(t, "dev", tt.cfg))
			delete(got, "pulumi:providers:aws")
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("resources by type:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestEveryResourceHasAComponentParent(t *testing.T) {
	res := run(t, "dev", flockerConfig())
	components := map[string]bool{}
	for _, r := range res.Resources {
		if strings.HasPrefix(r.Type, "marathon-ha:") {
			if !regexp.MustCompile(`^marathon-ha:index:[A-Z][A-Za-z]+$`).MatchString(r.Type) {
				t.Errorf("component type token %q is not marathon-ha:index:<Type>", r.Type)
			}
			components[r.Key()] = true
		}
	}
	for _, r := range res.Resources {
		switch {
		case r.Type == "marathon-ha:index:Cluster":
			if !strings.HasPrefix(r.Parent, "pulumi:pulumi:Stack::") {
				t.Errorf("the cluster's parent is %q, want the stack", r.Parent)
			}
		case strings.HasPrefix(r.Type, "pulumi:providers:"):
		case !components[r.Parent]:
			t.Errorf("%s has parent %q, not a marathon-ha component", r.Key(), r.Parent)
		}
	}
	// Each kind of child sits under the component that owns it.
	owner := map[string]string{
		"aws:ec2/vpc:Vpc": "Network", tSG: "Network", tRule: "Network", tKeyPair: "KeyPair",
		tELB: "LoadBalancer", tParameter: "FlockerPKI", "tls:index/privateKey:PrivateKey": "FlockerPKI",
	}
	for _, r := range res.Resources {
		if want, ok := owner[r.Type]; ok && !strings.HasPrefix(r.Parent, "marathon-ha:index:"+want+"::") {
			t.Errorf("%s is under %s, want a %s", r.Key(), r.Parent, want)
		}
	}
	for _, inst := range res.OfType(tInstance) {
		want := "Agents"
		if inst.String("privateIp") == facts.MasterPrivateIP {
			want = "Masters"
		}
		if !strings.HasPrefix(inst.Parent, "marathon-ha:index:"+want+"::") {
			t.Errorf("instance %s is under %s, want %s", inst.Name, inst.Parent, want)
		}
	}
}

// ruleKey describes a rule by its group, direction, ports and peer.
func ruleKey(res *pulumimock.Result, r pulumimock.Resource) string {
	sgName := map[string]string{}
	for _, sg := range res.OfType(tSG) {
		sgName[sg.Name+"-id"] = strings.TrimPrefix(sg.Name, "marathon-ha-network-")
	}
	peer := sgName[r.String("sourceSecurityGroupId")]
	if cidrs, ok := r.Input("cidrBlocks").([]any); ok {
		peer = fmt.Sprint(cidrs...)
	}
	return fmt.Sprintf("%s %s %s %v-%v from/to %s", sgName[r.String("securityGroupId")], r.String("type"), r.String("protocol"), r.Input("fromPort"), r.Input("toPort"), peer)
}

func TestSecurityGroupRules(t *testing.T) {
	op := "203.0.113.7/32"
	want := []string{
		"master ingress tcp 22-22 from/to " + op,
		"master ingress tcp 5050-5050 from/to " + op,
		"master ingress tcp 8080-8080 from/to " + op,
		"master ingress tcp 2181-2181 from/to agents",
		"master ingress tcp 5050-5050 from/to agents",
		"master ingress tcp 4523-4523 from/to agents",
		"master ingress tcp 4524-4524 from/to agents",
		"master egress -1 0-0 from/to 0.0.0.0/0",
		"agents ingress tcp 22-22 from/to " + op,
		"agents ingress tcp 5051-5051 from/to " + op,
		"agents ingress tcp 5051-5051 from/to master",
		"agents ingress tcp 7000-9000 from/to master",
		"agents ingress tcp 7000-9000 from/to agents",
		"agents ingress tcp 8500-8500 from/to elb",
		"agents egress -1 0-0 from/to 0.0.0.0/0",
		"elb ingress tcp 80-80 from/to 0.0.0.0/0",
		"elb egress tcp 8500-8500 from/to agents",
	}
	check := func(t *testing.T, res *pulumimock.Result, want []string) {
		t.Helper()
		var got []string
		for _, r := range res.OfType(tRule) {
			got = append(got, ruleKey(res, r))
			if r.String("description") == "" {
				t.Errorf("rule %s has no description of its reason", r.Name)
			}
			if r.String("type") == "ingress" && slices.Contains(toStrings(r.Input("cidrBlocks")), "0.0.0.0/0") && r.Input("fromPort") != float64(80) {
				t.Errorf("rule %s opens port %v to the world", r.Name, r.Input("fromPort"))
			}
		}
		sort.Strings(got)
		w := slices.Clone(want)
		sort.Strings(w)
		if strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
		}
	}
	t.Run("default", func(t *testing.T) { check(t, run(t, "dev", baseConfig()), want) })
	t.Run("flocker API exposed", func(t *testing.T) {
		check(t, run(t, "dev", flockerConfig("exposeFlockerApi", "true")), append(want, "master ingress tcp 4523-4523 from/to "+op))
	})
	t.Run("app port follows config", func(t *testing.T) {
		res := run(t, "dev", baseConfig("appPort", "7500"))
		var got []string
		for _, r := range res.OfType(tRule) {
			got = append(got, ruleKey(res, r))
		}
		for _, w := range []string{"agents ingress tcp 7500-7500 from/to elb", "elb egress tcp 7500-7500 from/to agents"} {
			if !slices.Contains(got, w) {
				t.Errorf("no rule %q in %v", w, got)
			}
		}
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func TestLoadBalancer(t *testing.T) {
	res := run(t, "dev", baseConfig())
	lbs := res.OfType(tELB)
	if len(lbs) != 1 {
		t.Fatalf("%d load balancers", len(lbs))
	}
	lb := lbs[0]
	hc, _ := lb.Input("healthCheck").(map[string]any)
	wantHC := map[string]any{"target": "HTTP:8500/v1/ping", "interval": 5.0, "timeout": 2.0, "healthyThreshold": 2.0, "unhealthyThreshold": 2.0}
	if fmt.Sprint(hc) != fmt.Sprint(wantHC) {
		t.Errorf("health check = %v, want %v (the minimums AWS allows, as the 2015 demo)", hc, wantHC)
	}
	listeners := asSlice(lb.Input("listeners"))
	wantL := "[map[instancePort:8500 instanceProtocol:http lbPort:80 lbProtocol:http]]"
	if fmt.Sprint(listeners) != wantL {
		t.Errorf("listeners = %v, want %s", listeners, wantL)
	}
	if lb.Input("crossZoneLoadBalancing") != true || lb.Input("connectionDraining") != true || lb.Input("connectionDrainingTimeout") != 5.0 {
		t.Errorf("cross-zone %v, draining %v / %v s; want on, on, 5 s", lb.Input("crossZoneLoadBalancing"), lb.Input("connectionDraining"), lb.Input("connectionDrainingTimeout"))
	}
	// The agents are registered by one attachment each, not the ELB's
	// instances: TestELBMembershipIsOneAttachmentPerAgent.
	if !lb.DeleteBeforeReplace {
		t.Error("the ELB has a fixed name: a replacement must delete it first")
	}
}

// policyOf returns the decoded inline policy of an IAM role policy.
func policyOf(t *testing.T, r pulumimock.Resource) components.PolicyDocument {
	t.Helper()
	var p components.PolicyDocument
	if err := json.Unmarshal([]byte(r.String("policy")), &p); err != nil {
		t.Fatalf("policy of %s: %v", r.Name, err)
	}
	return p
}

func actionsOf(p components.PolicyDocument) []string {
	var out []string
	for _, s := range p.Statement {
		out = append(out, s.Action...)
	}
	sort.Strings(out)
	return out
}

func TestIAM(t *testing.T) {
	// No agent deletes a volume: pulumi destroy does, with the operator's
	// credentials (components.VolumeDriverActions).
	rexray := []string{
		"ec2:AttachVolume", "ec2:CreateTags", "ec2:CreateVolume", "ec2:DescribeInstances",
		"ec2:DescribeVolumes", "ec2:DetachVolume",
	}
	flocker := []string{
		"ec2:AttachVolume", "ec2:CreateTags", "ec2:CreateVolume", "ec2:DescribeAvailabilityZones",
		"ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DetachVolume", "kms:Decrypt", "ssm:GetParameter", "ssm:GetParameters",
	}
	// scoped checks what the agents' EC2 statements are limited to: the
	// region, the zone, this cluster's agents and the volume tag the driver
	// writes (components/drivercalls_test.go evaluates them call by call).
	scoped := func(t *testing.T, p components.PolicyDocument, res *pulumimock.Result, tagKey, tagValue string) {
		t.Helper()
		clusterID := res.Outputs[stackoutputs.ClusterID].Value.(string)
		zone := res.Outputs[stackoutputs.AvailabilityZone].Value.(string)
		want := map[string]map[string]string{
			"Describe":            {"aws:RequestedRegion": "us-east-1"},
			"CreateVolumesInZone": {"aws:RequestedRegion": "us-east-1", "ec2:AvailabilityZone": zone},
			"TagNewVolumes":       {"aws:RequestedRegion": "us-east-1", "ec2:AvailabilityZone": zone, "aws:RequestTag/" + tagKey: tagValue},
			"AttachOwnVolumes":    {"aws:RequestedRegion": "us-east-1", "ec2:ResourceTag/" + tagKey: tagValue},
			"AttachToOwnAgents": {"aws:RequestedRegion": "us-east-1", "ec2:ResourceTag/" + facts.TagClusterID: clusterID,
				"ec2:ResourceTag/" + facts.TagRole: facts.RoleAgent},
		}
		for _, s := range p.Statement {
			if !strings.HasPrefix(s.Action[0], "ec2:") {
				continue
			}
			w, ok := want[s.Sid]
			if !ok {
				t.Errorf("unexpected EC2 statement %q", s.Sid)
			}
			delete(want, s.Sid)
			for k, v := range w {
				if got := s.Condition["StringEquals"][k]; !slices.Equal(got, []string{v}) {
					t.Errorf("statement %q: StringEquals %s is %v, want [%s]", s.Sid, k, got, v)
				}
			}
			if s.Sid == "TagNewVolumes" && s.Condition["Null"]["ec2:ResourceTag/"+tagKey][0] != "true" {
				t.Errorf("CreateTags not limited to volumes without a %s tag: %v", tagKey, s.Condition)
			}
		}
		for sid := range want {
			t.Errorf("no EC2 statement %q", sid)
		}
	}
	t.Run("rexray", func(t *testing.T) {
		res := run(t, "dev", baseConfig())
		pols := res.OfType(tPolicy)
		slices.SortFunc(pols, func(a, b pulumimock.Resource) int { return strings.Compare(a.Name, b.Name) })
		if len(pols) != 2 || pols[0].Name != "marathon-ha-agents-policy" || pols[1].Name != "marathon-ha-masters-fencer-policy" {
			t.Fatalf("policies %v: want the agents' and the masters' fencer's", pols)
		}
		p := policyOf(t, pols[0])
		if got := slices.Compact(actionsOf(p)); strings.Join(got, " ") != strings.Join(rexray, " ") {
			t.Errorf("agent actions\n got %v\nwant %v", got, rexray)
		}
		clusterID := res.Outputs[stackoutputs.ClusterID].Value.(string)
		scoped(t, p, res, facts.TagName, clusterID+"-moby-counter")
		fencer := policyOf(t, pols[1])
		if got := actionsOf(fencer); strings.Join(got, " ") != strings.Join(components.FencerActions, " ") {
			t.Errorf("master actions %v: want only the fencer's %v", got, components.FencerActions)
		}
		fencesOwnAgents(t, fencer, clusterID)
	})
	t.Run("flocker", func(t *testing.T) {
		res := run(t, "dev", flockerConfig())
		var agent, master components.PolicyDocument
		for _, r := range res.OfType(tPolicy) {
			if strings.Contains(r.Name, "agents") {
				agent = policyOf(t, r)
			} else {
				master = policyOf(t, r)
			}
		}
		if got := slices.Compact(actionsOf(agent)); strings.Join(got, " ") != strings.Join(flocker, " ") {
			t.Errorf("agent actions\n got %v\nwant %v", got, flocker)
		}
		if got := actionsOf(master); strings.Join(got, " ") != "ec2:DescribeInstances ec2:TerminateInstances kms:Decrypt ssm:GetParameter ssm:GetParameters" {
			t.Errorf("master actions %v: want only fencing and reading its own secrets", got)
		}
		// The Flocker cluster UUID the volume clean-up deletes by
		// (scripts/cleanup-volumes: MHA_FLOCKER_CLUSTER_UUID).
		var uuid string
		for _, r := range res.OfType("command:local:Command") {
			if env, ok := r.Input("environment").(map[string]any); ok && env["MHA_FLOCKER_CLUSTER_UUID"] != nil {
				uuid = env["MHA_FLOCKER_CLUSTER_UUID"].(string)
			}
		}
		if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(uuid) {
			t.Fatalf("volume clean-up's Flocker cluster UUID %q", uuid)
		}
		scoped(t, agent, res, facts.TagFlockerClusterID, uuid)
		clusterID := res.Outputs[stackoutputs.ClusterID].Value.(string)
		fencesOwnAgents(t, master, clusterID)
		for _, s := range master.Statement {
			if s.Sid == "ReadOwnSecrets" && s.Resource[0] != "arn:aws:ssm:us-east-1:123456789012:parameter/marathon-ha/"+clusterID+"/master/*" {
				t.Errorf("master reads %v, want only its own prefix", s.Resource)
			}
		}
	})
	t.Run("no access keys anywhere", func(t *testing.T) {
		for _, r := range run(t, "dev", flockerConfig()).Resources {
			if strings.HasPrefix(r.Type, "aws:iam/user") || strings.HasPrefix(r.Type, "aws:iam/accessKey") {
				t.Errorf("%s: long-lived AWS credentials must not exist", r.Key())
			}
		}
	})
}

// fencesOwnAgents checks the masters' TerminateInstances is scoped to this
// cluster's agents by their tags (components/iameval_test.go evaluates it).
func fencesOwnAgents(t *testing.T, p components.PolicyDocument, clusterID string) {
	t.Helper()
	for _, s := range p.Statement {
		if !slices.Contains(s.Action, "ec2:TerminateInstances") {
			continue
		}
		eq := s.Condition["StringEquals"]
		if len(s.Condition) != 1 || len(eq) != 2 || !slices.Equal(eq["aws:ResourceTag/"+facts.TagClusterID], []string{clusterID}) ||
			!slices.Equal(eq["aws:ResourceTag/"+facts.TagRole], []string{facts.RoleAgent}) || s.Resource[0] != "arn:aws:ec2:us-east-1:123456789012:instance/*" {
			t.Errorf("TerminateInstances on %v if %v: want this cluster's agents only", s.Resource, s.Condition)
		}
		return
	}
	t.Error("no statement allows ec2:TerminateInstances: the fencer cannot fence")
}

func TestInstances(t *testing.T) {
	for _, driver := range []string{"rexray", "flocker"} {
		t.Run(driver, func(t *testing.T) {
			res := run(t, "dev", baseConfig("volumeDriver", driver))
			for _, inst := range res.OfType(tInstance) {
				master := inst.String("privateIp") == facts.MasterPrivateIP
				root, _ := inst.Input("rootBlockDevice").(map[string]any)
				if root["encrypted"] != true || root["deleteOnTermination"] != true || root["volumeSize"] != 30.0 {
					t.Errorf("%s root volume %v: want encrypted, deleted with the instance, 30 GiB", inst.Name, root)
				}
				md, _ := inst.Input("metadataOptions").(map[string]any)
				wantTokens := map[bool]string{true: "required", false: "optional"}[master]
				if md["httpTokens"] != wantTokens || md["httpPutResponseHopLimit"] != 1.0 {
					t.Errorf("%s IMDS %v: want httpTokens %s, hop limit 1", inst.Name, md, wantTokens)
				}
				ud := userDataOf(t, inst)
				if !strings.HasPrefix(ud, "#cloud-config") || strings.Contains(ud, "PRIVATE KEY") || strings.Contains(ud, "BEGIN CERTIFICATE") {
					t.Errorf("%s user data is not a cloud-config free of keys and certificates", inst.Name)
				}
				if inst.Input("userDataReplaceOnChange") != true {
					t.Errorf("%s: changed user data must replace the node", inst.Name)
				}
				if !slices.Contains(inst.IgnoreChanges, "ami") {
					t.Errorf("%s: a newer AMI must not replace a running node (ignoreChanges %v)", inst.Name, inst.IgnoreChanges)
				}
				if master != inst.DeleteBeforeReplace {
					t.Errorf("%s deleteBeforeReplace = %v: only the master (fixed private IP) needs it", inst.Name, inst.DeleteBeforeReplace)
				}
				if inst.String("instanceType") != "m4.large" || inst.String("ami") != "ami-0123456789abcdef0" {
					t.Errorf("%s type %s AMI %s", inst.Name, inst.String("instanceType"), inst.String("ami"))
				}
				if !master && !slices.Contains(inst.Dependencies, tCommand+"::marathon-ha-agents-volume-cleanup") {
					t.Errorf("agent %s does not depend on the volume clean-up, so destroy would run it too early: %v", inst.Name, inst.Dependencies)
				}
				if !master && !strings.Contains(ud, fmt.Sprint(facts.MasterPrivateIP)) {
					t.Errorf("agent %s user data does not name the master %s", inst.Name, facts.MasterPrivateIP)
				}
			}
		})
	}
}

func TestTagsOnEverything(t *testing.T) {
	res := run(t, "dev", flockerConfig())
	clusterID := res.Outputs[stackoutputs.ClusterID].Value.(string)
	untaggable := map[string]bool{tRule: true, tPolicy: true, "aws:ec2/routeTableAssociation:RouteTableAssociation": true,
		// no tags argument in terraform-provider-aws
		"aws:ec2/subnetCidrReservation:SubnetCidrReservation": true, "aws:elb/attachment:Attachment": true}
	for _, r := range res.Resources {
		if !strings.HasPrefix(r.Type, "aws:") || untaggable[r.Type] {
			continue
		}
		tags, _ := r.Input("tags").(map[string]any)
		if tags[facts.TagProject] != facts.Project || tags[facts.TagStack] != "dev" || tags[facts.TagClusterID] != clusterID || tags[facts.TagRole] == nil || tags["Name"] == nil {
			t.Errorf("%s tags %v: want project, stack, cluster id, role and Name", r.Key(), tags)
		}
	}
	for _, inst := range res.OfType(tInstance) {
		want := map[bool]string{true: facts.RoleMaster, false: facts.RoleAgent}[inst.String("privateIp") == facts.MasterPrivateIP]
		if tags, _ := inst.Input("tags").(map[string]any); tags[facts.TagRole] != want {
			t.Errorf("%s role tag %v, want %s", inst.Name, tags[facts.TagRole], want)
		}
	}
}

func TestFlockerSecrets(t *testing.T) {
	res := run(t, "dev", flockerConfig())
	clusterID := res.Outputs[stackoutputs.ClusterID].Value.(string)
	var names []string
	for _, p := range res.OfType(tParameter) {
		names = append(names, p.String("name"))
		if p.String("type") != "SecureString" || !p.IsSecret("value") {
			t.Errorf("parameter %s: type %s, secret %v; want a SecureString from a Pulumi secret", p.String("name"), p.String("type"), p.IsSecret("value"))
		}
	}
	sort.Strings(names)
	pre := "/marathon-ha/" + clusterID
	want := []string{pre + "/agents/1/node.crt", pre + "/agents/1/node.key", pre + "/agents/2/node.crt", pre + "/agents/2/node.key",
		pre + "/agents/cluster.crt", pre + "/agents/plugin.crt", pre + "/agents/plugin.key",
		pre + "/master/cluster.crt", pre + "/master/control-service.crt", pre + "/master/control-service.key"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("SSM parameters\n got %v\nwant %v", names, want)
	}
	subjects := map[string]bool{}
	for _, csr := range res.OfType("tls:index/certRequest:CertRequest") {
		s, _ := csr.Input("subject").(map[string]any)
		cn := fmt.Sprint(s["commonName"])
		subjects[regexp.MustCompile(`^node-[0-9a-f-]{36}$`).ReplaceAllString(cn, "node-<uuid>")] = true
		if s["organizationalUnit"] == nil {
			t.Errorf("certificate %s has no OU: Flocker checks the cluster UUID there", cn)
		}
	}
	for _, cn := range []string{"control-service", "user-plugin", "node-<uuid>"} {
		if !subjects[cn] {
			t.Errorf("no certificate with CN %s (have %v)", cn, subjects)
		}
	}
	for _, inst := range res.OfType(tInstance) {
		for _, p := range res.OfType(tParameter) {
			role := map[bool]string{true: "master", false: "agents"}[inst.String("privateIp") == facts.MasterPrivateIP]
			if strings.Contains(p.String("name"), "/"+role+"/") && !slices.Contains(inst.Dependencies, p.Key()) {
				t.Errorf("%s boots without waiting for its secret %s", inst.Name, p.String("name"))
			}
		}
	}
}

func TestNamesNeverCollide(t *testing.T) {
	long := "a-forty-character-stack-name-for-demo-01"
	if len(long) != 40 {
		t.Fatalf("test stack name is %d characters", len(long))
	}
	names := func(stack string) map[string]string {
		res := run(t, stack, flockerConfig())
		m := map[string]string{"elb": res.OfType(tELB)[0].String("name"), "keypair": res.OfType(tKeyPair)[0].String("keyName")}
		for _, sg := range res.OfType(tSG) {
			m["sg "+sg.Name] = sg.String("namePrefix")
		}
		for _, r := range res.OfType(tRole) {
			m["role "+r.Name] = r.String("namePrefix")
		}
		for _, p := range res.OfType(tProfile) {
			m["profile "+p.Name] = p.String("namePrefix")
		}
		m["volume"] = res.Outputs[stackoutputs.VolumeName].Value.(string)
		return m
	}
	dev, demo, longNames := names("dev"), names("demo"), names(long)
	elbName := regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$`)
	for _, m := range []map[string]string{dev, demo, longNames} {
		if n := m["elb"]; len(n) > 32 || !elbName.MatchString(n) {
			t.Errorf("ELB name %q breaks AWS's rule: at most 32 letters, digits and hyphens, no hyphen at either end", n)
		}
		for k, v := range m {
			if strings.HasPrefix(k, "role ") && len(v) > 38 {
				t.Errorf("%s name prefix %q is longer than the 38 characters AWS allows", k, v)
			}
			if v == "" {
				t.Errorf("%s has no name", k)
			}
		}
	}
	for k := range dev {
		if dev[k] == demo[k] || dev[k] == longNames[k] || demo[k] == longNames[k] {
			t.Errorf("%s collides between stacks: %q %q %q", k, dev[k], demo[k], longNames[k])
		}
	}
	if !strings.HasPrefix(dev["elb"], "dev-mha-") || !strings.HasPrefix(longNames["elb"], "a-forty-") {
		t.Errorf("ELB names %q, %q do not start with their stack's name", dev["elb"], longNames["elb"])
	}
}

func TestOutputs(t *testing.T) {
	res := run(t, "dev", baseConfig())
	plain := map[string]any{}
	for k, v := range res.Outputs {
		if !v.Known || v.Secret {
			t.Errorf("output %s known=%v secret=%v", k, v.Known, v.Secret)
		}
		plain[k] = v.Value
	}
	o, err := stackoutputs.FromMap(plain)
	if err != nil {
		t.Fatalf("the tools cannot read the outputs: %v", err)
	}
	checks := map[string][2]string{
		"marathonUrl": {o.MarathonURL, `^http://198\.51\.100\.\d+:8080$`},
		"mesosUrl":    {o.MesosURL, `^http://198\.51\.100\.\d+:5050$`},
		"appUrl":      {o.AppURL, `^http://dev-mha-[0-9a-f]{8}-\d+\.us-east-1\.elb\.amazonaws\.com$`},
		"masterIps":   {o.MasterPublicIP + " " + o.MasterPrivateIP, `^198\.51\.100\.\d+ 10\.42\.1\.10$`},
		// The group's agents are not Pulumi's: the tools find them by tag.
		"agents":    {fmt.Sprint(o.AgentInstanceIDs, o.AgentPrivateIPs, o.SSHAgents), `^\[\] \[\] \[\]$`},
		"zone":      {o.AvailabilityZone + " " + o.Region, `^us-east-1a us-east-1$`},
		"cluster":   {o.ClusterID + " " + o.Stack + " " + o.VolumeDriver + " " + o.AppID, `^mha-[0-9a-f]{8} dev rexray /marathon-ha/moby-counter$`},
		"ssh":       {o.SSHMaster, `^ssh ubuntu@198\.51\.100\.\d+$`},
		"app":       {o.AppVersion + " " + o.AppTaskHost, `^2026-11-24T10:00:00.000Z 10\.42\.1\.101$`},
		"partition": {o.ELBSecurityGroupID + " " + strconv.Itoa(o.AppPort), `^\S+ 8500$`},
	}
	for name, c := range checks {
		if !regexp.MustCompile(c[1]).MatchString(c[0]) {
			t.Errorf("%s = %q, want %s", name, c[0], c[1])
		}
	}
	if o.Failover.AgentPingTimeoutSeconds != facts.AgentPingTimeout.Seconds() || o.Failover.MaxAgentPingTimeouts != facts.MaxAgentPingTimeouts || o.Failover.ELBIntervalSeconds != 5 || o.Failover.ELBHealthyThreshold != 2 {
		t.Errorf("failover settings %+v", o.Failover)
	}
	if o.Failover != failover.DefaultSettings() {
		t.Errorf("a default stack exports failover settings %+v, the default budget assumes %+v", o.Failover, failover.DefaultSettings())
	}
	if got := run(t, "dev", baseConfig("agentPingTimeoutSeconds", "6")).Outputs[stackoutputs.Failover].Value.(map[string]any)["agentPingTimeoutSeconds"]; got != 6.0 {
		t.Errorf("failover settings do not follow config: ping timeout %v", got)
	}
}

func TestAppDeploymentStep(t *testing.T) {
	res := run(t, "dev", baseConfig())
	deploy, ok := res.Named(tCommand, "marathon-ha-app-deploy")
	if !ok {
		t.Fatal("no deploy command")
	}
	if deploy.String("create") != "go run ./scripts/deploy-app --manifest -" || deploy.String("update") != deploy.String("create") {
		t.Errorf("create %q update %q", deploy.String("create"), deploy.String("update"))
	}
	if deploy.String("delete") != "go run ./scripts/deploy-app --delete --skip-if-unreachable --timeout 5m0s --app-id '/marathon-ha/moby-counter'" {
		t.Errorf("delete %q", deploy.String("delete"))
	}
	if deploy.Input("triggers") != nil || !deploy.DeleteBeforeReplace {
		t.Errorf("triggers %v, deleteBeforeReplace %v: a replacement must never delete the new app", deploy.Input("triggers"), deploy.DeleteBeforeReplace)
	}
	env, _ := deploy.Input("environment").(map[string]any)
	if !regexp.MustCompile(`^http://198\.51\.100\.\d+:8080$`).MatchString(fmt.Sprint(env["MHA_MARATHON_URL"])) {
		t.Errorf("MHA_MARATHON_URL %v", env["MHA_MARATHON_URL"])
	}
	for _, dep := range []string{tInstance + "::marathon-ha-masters-1", tGroup + "::marathon-ha-agents-group"} {
		if !slices.Contains(deploy.Dependencies, dep) {
			t.Errorf("deploy does not wait for %s (deps %v)", dep, deploy.Dependencies)
		}
	}
	var app map[string]any
	if err := json.Unmarshal([]byte(deploy.String("stdin")), &app); err != nil {
		t.Fatalf("stdin is not the manifest: %v", err)
	}
	docker := app["container"].(map[string]any)["docker"].(map[string]any)
	clusterID := res.Outputs[stackoutputs.ClusterID].Value.(string)
	got := fmt.Sprint(asSlice(docker["portMappings"]), asSlice(docker["parameters"]), asSlice(app["constraints"]))
	for _, want := range []string{"hostPort:8500", "key:volume-driver value:rexray/ebs", "key:volume value:" + clusterID + "-moby-counter:/data", "[zone CLUSTER us-east-1a]"} {
		if !strings.Contains(got, want) {
			t.Errorf("manifest lacks %s: %s", want, got)
		}
	}
	if app["id"] != facts.AppID || docker["image"] != facts.AppImage {
		t.Errorf("id %v image %v", app["id"], docker["image"])
	}

	cleanup, ok := res.Named(tCommand, "marathon-ha-agents-volume-cleanup")
	if !ok {
		t.Fatal("no volume clean-up command")
	}
	if cleanup.String("create") != "" || cleanup.String("delete") != "go run ./scripts/cleanup-volumes" {
		t.Errorf("clean-up create %q delete %q: want only a delete", cleanup.String("create"), cleanup.String("delete"))
	}
	cenv, _ := cleanup.Input("environment").(map[string]any)
	if cenv["MHA_CLUSTER_ID"] != clusterID || cenv["MHA_REGION"] != "us-east-1" || cenv["MHA_VOLUME_DRIVER"] != "rexray" || cenv["MHA_VOLUME_NAME"] != clusterID+"-moby-counter" {
		t.Errorf("clean-up environment %v", cenv)
	}
}

func TestConfigErrorsStopBeforeAnyResource(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]string
		want string
	}{
		{"no region", map[string]string{"publicKey": testPublicKey, "operatorCidr": "203.0.113.7/32"}, "aws:region: is not set"},
		{"one agent", baseConfig("agentCount", "1"), "marathon-ha:agentCount"},
		{"world-open", baseConfig("operatorCidr", "0.0.0.0/0"), "marathon-ha:operatorCidr"},
		{"zone the region lacks", baseConfig("availabilityZone", "us-east-1f"), `marathon-ha:availabilityZone = "us-east-1f": is not an available zone of us-east-1; available: us-east-1a, us-east-1b, us-east-1c`},
		{"unknown key pair", baseConfig("publicKey", "", "keyName", "nope"), `looking up EC2 key pair "nope" (config marathon-ha:keyName)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := pulumimock.Run(program, pulumimock.NewMocks(), "dev", tt.cfg, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			for _, r := range res.Resources {
				if r.Custom && !strings.HasPrefix(r.Type, "pulumi:providers:") {
					t.Errorf("%s was registered before the config error", r.Key())
				}
			}
		})
	}
}

func TestExistingKeyPair(t *testing.T) {
	m := pulumimock.NewMocks()
	m.KeyPairs = []string{"team-key"}
	res, err := pulumimock.Run(program, m, "dev", baseConfig("publicKey", "", "keyName", "team-key"), false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.OfType(tKeyPair)); n != 0 {
		t.Errorf("%d key pairs created for an existing one", n)
	}
	for _, inst := range res.OfType(tInstance) {
		if inst.String("keyName") != "team-key" {
			t.Errorf("%s key %q", inst.Name, inst.String("keyName"))
		}
	}
}

func TestPreview(t *testing.T) {
	res, err := pulumimock.Run(program, pulumimock.NewMocks(), "dev", flockerConfig(), true)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	if len(res.OfType(tInstance)) != 3 {
		t.Errorf("preview registered %d instances", len(res.OfType(tInstance)))
	}
}

// BenchmarkProgram runs the whole program under mocks, so a slowdown of the
// program itself (rendering, policies, graph building) shows.
func BenchmarkProgram(b *testing.B) {
	cfg := flockerConfig("agentCount", "3")
	for b.Loop() {
		if _, err := pulumimock.Run(program, pulumimock.NewMocks(), "bench", cfg, false); err != nil {
			b.Fatal(err)
		}
	}
}

func pulumimockRun(cfg map[string]string) (*pulumimock.Result, error) {
	return pulumimock.Run(program, pulumimock.NewMocks(), "dev", cfg, false)
}

// userDataOf inflates an instance's gzipped, base64-encoded user data, as
// EC2 and cloud-init would.
func userDataOf(t *testing.T, inst pulumimock.Resource) string {
	t.Helper()
	if inst.Type != tLaunchTemplate && inst.String("userData") != "" {
		t.Errorf("%s sets userData; the nodes send gzipped userDataBase64", inst.Name)
	}
	encoded := inst.String("userDataBase64")
	if inst.Type == tLaunchTemplate { // a launch template takes it base64-encoded as userData
		encoded = inst.String("userData")
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("%s userDataBase64: %v", inst.Name, err)
	}
	if len(raw) > userdata.MaxSize {
		t.Errorf("%s user data is %d bytes, over EC2's %d", inst.Name, len(raw), userdata.MaxSize)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s user data is not gzipped: %v", inst.Name, err)
	}
	doc, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s user data: %v", inst.Name, err)
	}
	return string(doc)
}
