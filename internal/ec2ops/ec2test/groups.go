package ec2test

import (
	"encoding/xml"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// VPC security groups, as the EC2 API reference describes the actions the
// partition drill calls (docs.aws.amazon.com/AWSEC2/latest/APIReference:
// CreateSecurityGroup, AuthorizeSecurityGroupIngress,
// AuthorizeSecurityGroupEgress, RevokeSecurityGroupEgress,
// DescribeSecurityGroups, ModifyInstanceAttribute, DeleteSecurityGroup,
// CreateTags), with the parameter names aws-sdk-go-v2 service/ec2 v1.344.2
// sends (serializers.go: IpPermissions.N.Groups.M.GroupId,
// IpPermissions.N.IpRanges.M.CidrIp, TagSpecification.N.Tag.M.Key) and the
// element names its deserializers.go reads (securityGroupInfo,
// ipPermissionsEgress, groupSet, ...).
//
// The account has no default VPC (marathon-ha builds its own), so every
// group is a VPC group addressed by id; the parameters that name groups for
// a default VPC (GroupName) or describe one legacy rule at the top level
// (CidrIp, IpProtocol, FromPort, ToPort, SourceSecurityGroupName) are
// refused as not modelled.

// VpcID is the VPC of seeded instances and groups that name none.
const VpcID = "vpc-0a1b2c3d4e5f60718"

// Limits of the default quotas (Amazon VPC User Guide, "Amazon VPC quotas",
// Security groups): inbound or outbound rules per security group 60,
// security groups per network interface 5.
const (
	MaxRulesPerDirection = 60
	MaxGroupsPerENI      = 5
)

// SecurityGroup is a VPC security group as the stand-in holds it.
type SecurityGroup struct {
	ID, Name, Description string
	VpcID                 string // "" means VpcID when seeded
	Tags                  map[string]string
	// Ingress and Egress are the rules, one peer each.
	Ingress, Egress []Rule
}

// Rule is one security group rule: a protocol ("tcp", "udp", "icmp" or
// "-1" for all), a port range (-1 for all, as EC2 reports it for "-1"),
// and one peer: a CIDR or a group id.
type Rule struct {
	Protocol         string
	FromPort, ToPort int32
	CIDR, GroupID    string
}

func (r Rule) String() string {
	peer := r.CIDR
	if r.GroupID != "" {
		peer = r.GroupID
	}
	proto := strings.ToUpper(r.Protocol)
	if r.Protocol == "-1" {
		return fmt.Sprintf("peer: %s, ALL, ALLOW", peer)
	}
	return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", peer, proto, r.FromPort, r.ToPort)
}

type secGroup struct {
	SecurityGroup
	isDefault bool
}

// WithGroupsChanged calls hook with an instance's id and its new group ids
// whenever ModifyInstanceAttribute changes them, before the call is
// answered, so a harness can cut or restore the instance's traffic. The
// hook runs with the stand-in's lock held: it must not call the Server's
// methods.
func WithGroupsChanged(hook func(instanceID string, groupIDs []string)) Option {
	return func(s *Server) { s.onGroups = hook }
}

func init() {
	perm := `IpPermissions\.\d+\.(IpProtocol|FromPort|ToPort|IpRanges\.\d+\.(CidrIp|Description)|Groups\.\d+\.(GroupId|Description))`
	tagSpec := `TagSpecification\.\d+\.(ResourceType|Tag\.\d+\.(Key|Value))`
	legacy := []string{"CidrIp", "FromPort", "ToPort", "IpProtocol", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId"}
	params["CreateSecurityGroup"] = patterns(`DryRun`, `GroupName`, `GroupDescription`, `VpcId`, tagSpec)
	params["AuthorizeSecurityGroupIngress"] = patterns(append([]string{`DryRun`, `GroupId`, `GroupName`, perm, tagSpec}, legacy...)...)
	params["AuthorizeSecurityGroupEgress"] = patterns(append([]string{`DryRun`, `GroupId`, perm, tagSpec}, legacy...)...)
	params["RevokeSecurityGroupEgress"] = patterns(append([]string{`DryRun`, `GroupId`, perm, `SecurityGroupRuleId\.\d+`}, legacy...)...)
	params["DescribeSecurityGroups"] = patterns(`DryRun`, `MaxResults`, `NextToken`, `GroupId\.\d+`, `GroupName\.\d+`, filterParam)
	params["DeleteSecurityGroup"] = patterns(`DryRun`, `GroupId`, `GroupName`)
	// ModifyInstanceAttributeInput (serializers.go): the stand-in models
	// only the security groups, GroupId.N.
	params["ModifyInstanceAttribute"] = patterns(`DryRun`, `InstanceId`, `GroupId\.\d+`, `Attribute`, `Value`,
		`BlockDeviceMapping\..*`, `DisableApiStop\..*`, `DisableApiTermination\..*`, `EbsOptimized\..*`, `EnaSupport\..*`,
		`InstanceInitiatedShutdownBehavior\..*`, `InstanceType\..*`, `Kernel\..*`, `Ramdisk\..*`, `SourceDestCheck\..*`,
		`SriovNetSupport\..*`, `UserData\..*`)
	params["CreateTags"] = patterns(`DryRun`, `ResourceId\.\d+`, `Tag\.\d+\.(Key|Value)`)

	notModelled["AuthorizeSecurityGroupIngress"] = append([]string{"GroupName"}, legacy...)
	notModelled["AuthorizeSecurityGroupEgress"] = legacy
	notModelled["RevokeSecurityGroupEgress"] = legacy
	notModelled["DeleteSecurityGroup"] = []string{"GroupName"}

	actions["CreateSecurityGroup"] = (*Server).createSecurityGroup
	actions["AuthorizeSecurityGroupIngress"] = func(s *Server, f url.Values) (any, *apiError) { return s.authorize(f, false) }
	actions["AuthorizeSecurityGroupEgress"] = func(s *Server, f url.Values) (any, *apiError) { return s.authorize(f, true) }
	actions["RevokeSecurityGroupEgress"] = (*Server).revokeEgress
	actions["DescribeSecurityGroups"] = (*Server).describeSecurityGroups
	actions["DeleteSecurityGroup"] = (*Server).deleteSecurityGroup
	actions["ModifyInstanceAttribute"] = (*Server).modifyInstanceAttribute
	actions["CreateTags"] = (*Server).createTags
}

// newID returns a fresh resource id with prefix, 17 hex digits as EC2's
// current ids have.
func (s *Server) newID(prefix string) string {
	s.idSeq++
	return fmt.Sprintf("%s-%017x", prefix, 0xd0000+s.idSeq)
}

func (s *Server) knowVPC(id string) {
	if s.vpcs == nil {
		s.vpcs = map[string]bool{VpcID: true}
	}
	s.vpcs[id] = true
}

// defaultGroup returns the VPC's default group, made on first use: every
// VPC has one, named "default", whose rules let its members reach each
// other and everything out (Amazon VPC User Guide, "Default security
// groups for your VPCs").
func (s *Server) defaultGroup(vpc string) *secGroup {
	for _, g := range s.groups {
		if g.isDefault && g.VpcID == vpc {
			return g
		}
	}
	id := s.newID("sg")
	g := &secGroup{isDefault: true, SecurityGroup: SecurityGroup{ID: id, Name: "default", Description: "default VPC security group", VpcID: vpc,
		Ingress: []Rule{{Protocol: "-1", FromPort: -1, ToPort: -1, GroupID: id}},
		Egress:  []Rule{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDR: "0.0.0.0/0"}}}}
	s.groups = append(s.groups, g)
	return g
}

// seedGroups returns the group ids an instance is seeded with: the VPC's
// default group when none, and unknown ids made into empty groups of the
// VPC.
func (s *Server) seedGroups(vpc string, ids []string) []string {
	s.knowVPC(vpc)
	if len(ids) == 0 {
		return []string{s.defaultGroup(vpc).ID}
	}
	for _, id := range ids {
		if s.findGroup(id) == nil {
			s.groups = append(s.groups, &secGroup{SecurityGroup: SecurityGroup{ID: id, Name: id, Description: "seeded", VpcID: vpc}})
		}
	}
	return slices.Clone(ids)
}

// AddSecurityGroup seeds a group (an empty ID gets a fresh one) and
// returns its id. Unlike CreateSecurityGroup it adds no default egress
// rule: the rules are as given.
func (s *Server) AddSecurityGroup(g SecurityGroup) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.ID == "" {
		g.ID = s.newID("sg")
	}
	if g.VpcID == "" {
		g.VpcID = VpcID
	}
	s.knowVPC(g.VpcID)
	g.Tags = maps.Clone(g.Tags)
	g.Ingress, g.Egress = slices.Clone(g.Ingress), slices.Clone(g.Egress)
	s.groups = append(s.groups, &secGroup{SecurityGroup: g})
	return g.ID
}

// SecurityGroup returns the group with the given id, if it exists.
func (s *Server) SecurityGroup(id string) (SecurityGroup, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.findGroup(id); g != nil {
		return g.copy(), true
	}
	return SecurityGroup{}, false
}

// SecurityGroups returns every group, in the order they were made.
func (s *Server) SecurityGroups() []SecurityGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SecurityGroup, len(s.groups))
	for i, g := range s.groups {
		out[i] = g.copy()
	}
	return out
}

func (g *secGroup) copy() SecurityGroup {
	out := g.SecurityGroup
	out.Tags = maps.Clone(g.Tags)
	out.Ingress, out.Egress = slices.Clone(g.Ingress), slices.Clone(g.Egress)
	return out
}

func (s *Server) findGroup(id string) *secGroup {
	for _, g := range s.groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func groupNotFound(id string) *apiError {
	return badRequest("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
}

// groupChars are the characters a group name and description may hold
// (API reference, CreateSecurityGroup: "Valid characters: a-z, A-Z, 0-9,
// spaces, and ._-:/()#,@[]+=&;{}!$*"; "Up to 255 characters in length").
var groupChars = regexp.MustCompile(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$`)

const maxGroupText = 255

func (s *Server) createSecurityGroup(form url.Values) (any, *apiError) {
	name, desc, vpc := form.Get("GroupName"), form.Get("GroupDescription"), form.Get("VpcId")
	for _, p := range []struct{ param, v string }{{"GroupName", name}, {"GroupDescription", desc}} {
		switch {
		case p.v == "":
			return nil, badRequest("MissingParameter", "The request must contain the parameter %s", p.param)
		case len(p.v) > maxGroupText:
			return nil, badRequest("InvalidParameterValue", "Value for parameter %s is too long: up to %d characters", p.param, maxGroupText)
		case !groupChars.MatchString(p.v):
			return nil, badRequest("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Character sets beyond ASCII are not supported.", p.v, p.param)
		}
	}
	// "Cannot start with sg-" (API reference, CreateSecurityGroup).
	if strings.HasPrefix(strings.ToLower(name), "sg-") {
		return nil, badRequest("InvalidParameterValue", "Group names may not be in the format sg-*")
	}
	// "VpcId: The ID of the VPC. Required for a nondefault VPC": this
	// account has none of the default kind.
	if vpc == "" {
		return nil, badRequest("VPCIdNotSpecified", "No default VPC for this user")
	}
	s.knowVPC(VpcID)
	if !s.vpcs[vpc] {
		return nil, badRequest("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpc)
	}
	// "Names are case-insensitive and must be unique within the VPC"
	// (CreateSecurityGroup, GroupName).
	for _, g := range s.groups {
		if g.VpcID == vpc && strings.EqualFold(g.Name, name) {
			return nil, badRequest("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpc)
		}
	}
	tags, err := tagSpecifications(form, "security-group")
	if err != nil {
		return nil, err
	}
	g := &secGroup{SecurityGroup: SecurityGroup{ID: s.newID("sg"), Name: name, Description: desc, VpcID: vpc, Tags: tags,
		// "When you create a security group, it has no inbound rules. By
		// default, it includes an outbound rule that allows all outbound
		// traffic" (Amazon VPC User Guide, "Security group rules").
		Egress: []Rule{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDR: "0.0.0.0/0"}}}}
	s.groups = append(s.groups, g)
	return createSecurityGroupResponse{Xmlns: namespace, RequestID: s.requestID(), Return: true, GroupID: g.ID, TagSet: xmlTags(tags)}, nil
}

// tagSpecifications reads TagSpecification.N for a create of resourceType:
// another resource type is refused, and the tags are checked as CreateTags
// checks them.
func tagSpecifications(form url.Values, resourceType string) (map[string]string, *apiError) {
	tags := map[string]string{}
	for i := 1; ; i++ {
		prefix := "TagSpecification." + strconv.Itoa(i)
		rt, ok := form[prefix+".ResourceType"]
		if !ok {
			if len(tags) == 0 {
				return nil, nil
			}
			return tags, nil
		}
		if strings.Join(rt, "") != resourceType {
			return nil, badRequest("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", strings.Join(rt, ""))
		}
		got, err := readTags(form, prefix+".Tag")
		if err != nil {
			return nil, err
		}
		maps.Copy(tags, got)
	}
}

// Tag restrictions (EC2 User Guide, "Tag restrictions"): at most 50 tags
// per resource, keys of 1 to 128 characters not starting with "aws:",
// values of at most 256.
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

func readTags(form url.Values, prefix string) (map[string]string, *apiError) {
	tags := map[string]string{}
	for i := 1; ; i++ {
		key, ok := form[prefix+"."+strconv.Itoa(i)+".Key"]
		if !ok {
			return tags, nil
		}
		k, v := strings.Join(key, ""), form.Get(prefix+"."+strconv.Itoa(i)+".Value")
		switch {
		case k == "" || len(k) > maxTagKeyLen:
			return nil, badRequest("InvalidParameterValue", "Tag key %q must be 1 to %d characters", k, maxTagKeyLen)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, badRequest("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
		case len(v) > maxTagValueLen:
			return nil, badRequest("InvalidParameterValue", "Tag value for key %q exceeds %d characters", k, maxTagValueLen)
		}
		tags[k] = v
		if len(tags) > maxTags {
			return nil, badRequest("TagLimitExceeded", "The maximum number of tags per resource is %d", maxTags)
		}
	}
}

// permissions reads IpPermissions.N into rules, one per peer, checking
// each as Authorize* does (API reference, IpPermission): a protocol of
// tcp, udp, icmp or -1; for tcp and udp a port range within 0-65535 with
// FromPort <= ToPort; at least one peer; CIDRs that parse; group peers
// that exist in the group's VPC ("referenced by another security group in
// the same VPC", DeleteSecurityGroup; a group of another VPC needs a
// peering, which this account lacks).
func (s *Server) permissions(form url.Values, vpc string) ([]Rule, *apiError) {
	var out []Rule
	for i := 1; ; i++ {
		prefix := "IpPermissions." + strconv.Itoa(i)
		proto, ok := form[prefix+".IpProtocol"]
		if !ok {
			if i == 1 {
				return nil, badRequest("MissingParameter", "The request must contain the parameter IpPermissions")
			}
			return out, nil
		}
		p := strings.ToLower(strings.Join(proto, ""))
		var from, to int32 = -1, -1
		switch p {
		case "-1", "all":
			p = "-1"
		case "tcp", "udp", "icmp":
			f, ferr := strconv.Atoi(form.Get(prefix + ".FromPort"))
			t, terr := strconv.Atoi(form.Get(prefix + ".ToPort"))
			lo := 0
			if p == "icmp" {
				lo = -1
			}
			if ferr != nil || terr != nil || f < lo || t < lo || f > 65535 || t > 65535 || (p != "icmp" && f > t) {
				return nil, badRequest("InvalidParameterValue", "Invalid port range %s-%s for protocol %s: FromPort and ToPort must be 0-65535 with FromPort <= ToPort",
					form.Get(prefix+".FromPort"), form.Get(prefix+".ToPort"), p)
			}
			from, to = int32(f), int32(t)
		default:
			return nil, badRequest("InvalidParameterValue", "Invalid value '%s' for IP protocol: ec2test models tcp, udp, icmp and -1", p)
		}
		n := len(out)
		for _, c := range list2(form, prefix+".IpRanges", "CidrIp") {
			pfx, err := netip.ParsePrefix(c)
			if err != nil || !pfx.Addr().Is4() {
				return nil, badRequest("InvalidParameterValue", "Value (%s) for parameter cidrIp is invalid. This is not a valid CIDR block.", c)
			}
			out = append(out, Rule{Protocol: p, FromPort: from, ToPort: to, CIDR: pfx.Masked().String()})
		}
		for _, id := range list2(form, prefix+".Groups", "GroupId") {
			g := s.findGroup(id)
			if g == nil || g.VpcID != vpc {
				return nil, badRequest("InvalidGroup.NotFound", "You have specified a security group '%s' that does not exist or is not in VPC %s", id, vpc)
			}
			out = append(out, Rule{Protocol: p, FromPort: from, ToPort: to, GroupID: id})
		}
		if len(out) == n {
			return nil, badRequest("MissingParameter", "IpPermissions.%d names no peer: give IpRanges or Groups (UserIdGroupPairs)", i)
		}
	}
}

// list2 reads Prefix.1.Field, Prefix.2.Field, ...
func list2(form url.Values, prefix, field string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+"."+strconv.Itoa(i)+"."+field]
		if !ok {
			return out
		}
		out = append(out, strings.Join(v, ""))
	}
}

func (s *Server) groupParam(form url.Values) (*secGroup, *apiError) {
	id := form.Get("GroupId")
	if id == "" {
		return nil, badRequest("MissingParameter", "The request must contain the parameter GroupId")
	}
	g := s.findGroup(id)
	if g == nil {
		return nil, groupNotFound(id)
	}
	return g, nil
}

// groupRules reads the group and the rules of an Authorize or Revoke call.
func (s *Server) groupRules(form url.Values) (*secGroup, []Rule, *apiError) {
	g, err := s.groupParam(form)
	if err != nil {
		return nil, nil, err
	}
	rules, err := s.permissions(form, g.VpcID)
	return g, rules, err
}

// authorize adds rules, all or none: one rule that already exists fails
// the call with InvalidPermission.Duplicate (API reference, "Error codes":
// "The specified inbound or outbound rule already exists for that security
// group"), and a group may hold MaxRulesPerDirection rules each way.
func (s *Server) authorize(form url.Values, egress bool) (any, *apiError) {
	g, rules, err := s.groupRules(form)
	if err != nil {
		return nil, err
	}
	have := &g.Ingress
	if egress {
		have = &g.Egress
	}
	for i, r := range rules {
		if slices.Contains(*have, r) || slices.Contains(rules[:i], r) {
			return nil, badRequest("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", r)
		}
	}
	if len(*have)+len(rules) > MaxRulesPerDirection {
		return nil, badRequest("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per security group has been reached.")
	}
	*have = append(*have, rules...)
	name := "AuthorizeSecurityGroupIngressResponse"
	if egress {
		name = "AuthorizeSecurityGroupEgressResponse"
	}
	return returnResponse{XMLName: xml.Name{Local: name}, Xmlns: namespace, RequestID: s.requestID(), Return: true}, nil
}

// revokeEgress removes the rules that match; those that match none are
// answered in unknownIpPermissionSet, not as an error ("If the values you
// specify do not match the existing rule's values, no error is returned,
// and the output describes the security group rules that were not
// revoked", API reference, RevokeSecurityGroupEgress).
func (s *Server) revokeEgress(form url.Values) (any, *apiError) {
	if ids := list(form, "SecurityGroupRuleId"); len(ids) > 0 {
		return nil, badRequest("UnknownParameter", "ec2test does not model RevokeSecurityGroupEgress SecurityGroupRuleId: name the rules by IpPermissions")
	}
	g, rules, err := s.groupRules(form)
	if err != nil {
		return nil, err
	}
	resp := revokeResponse{Xmlns: namespace, RequestID: s.requestID(), Return: true}
	for _, r := range rules {
		if i := slices.Index(g.Egress, r); i >= 0 {
			g.Egress = slices.Delete(g.Egress, i, i+1)
			continue
		}
		resp.Unknown = append(resp.Unknown, xmlPermissions([]Rule{r})...)
	}
	return resp, nil
}

func knownGroupFilter(name string) bool {
	return strings.HasPrefix(name, "tag:") || slices.Contains([]string{"tag-key", "vpc-id", "group-id", "group-name", "description"}, name)
}

func (g *secGroup) matches(f filter) bool {
	if ok, handled := tagMatch(f, g.Tags); handled {
		return ok
	}
	switch f.name {
	case "vpc-id":
		return f.matches(g.VpcID)
	case "group-id":
		return f.matches(g.ID)
	case "group-name":
		return f.matches(g.Name)
	case "description":
		return f.matches(g.Description)
	}
	return false
}

func (s *Server) describeSecurityGroups(form url.Values) (any, *apiError) {
	if len(list(form, "GroupName")) > 0 {
		return nil, badRequest("UnknownParameter", "ec2test does not model DescribeSecurityGroups GroupName.N (default VPC only): name the groups by GroupId.N or a filter")
	}
	ids := list(form, "GroupId")
	// "You cannot specify this parameter [MaxResults] and the GroupIds
	// parameter in the same call" (API reference, DescribeSecurityGroups).
	if len(ids) > 0 && form.Get("MaxResults") != "" {
		return nil, badRequest("InvalidParameterCombination", "The parameter groupIds cannot be used with the parameter maxResults")
	}
	for _, id := range ids {
		if s.findGroup(id) == nil {
			return nil, groupNotFound(id)
		}
	}
	filters, err := parseFilters(form, knownGroupFilter)
	if err != nil {
		return nil, err
	}
	var found []xmlSecurityGroup
	for _, g := range s.groups {
		if len(ids) > 0 && !slices.Contains(ids, g.ID) || !all(filters, g.matches) {
			continue
		}
		found = append(found, xmlSecurityGroup{OwnerID: "123456789012", GroupID: g.ID, GroupName: g.Name, Description: g.Description,
			VpcID: g.VpcID, Ingress: xmlPermissions(g.Ingress), Egress: xmlPermissions(g.Egress), TagSet: xmlTags(g.Tags)})
	}
	pageItems, next, err := page(found, form, s.pageSize)
	if err != nil {
		return nil, err
	}
	return describeSecurityGroupsResponse{Xmlns: namespace, RequestID: s.requestID(), Groups: pageItems, NextToken: next}, nil
}

// xmlPermissions groups rules by protocol and ports, as EC2 reports them.
func xmlPermissions(rules []Rule) []xmlPermission {
	var out []xmlPermission
	for _, r := range rules {
		i := slices.IndexFunc(out, func(p xmlPermission) bool {
			return p.Protocol == r.Protocol && p.FromPort == r.FromPort && p.ToPort == r.ToPort
		})
		if i < 0 {
			out = append(out, xmlPermission{Protocol: r.Protocol, FromPort: r.FromPort, ToPort: r.ToPort})
			i = len(out) - 1
		}
		if r.CIDR != "" {
			out[i].IPRanges = append(out[i].IPRanges, xmlIPRange{CIDR: r.CIDR})
		} else {
			out[i].Groups = append(out[i].Groups, xmlGroupPair{UserID: "123456789012", GroupID: r.GroupID})
		}
	}
	return out
}

// inUse says what holds the group: an instance that is not terminated
// (its network interface goes with it), or a rule of another group.
func (s *Server) inUse(id string) string {
	for _, it := range s.instances {
		if it.State != StateTerminated && slices.Contains(it.SecurityGroups, id) {
			return "instance " + it.ID
		}
	}
	for _, g := range s.groups {
		if g.ID == id {
			continue
		}
		for _, r := range append(slices.Clone(g.Ingress), g.Egress...) {
			if r.GroupID == id {
				return "a rule of group " + g.ID
			}
		}
	}
	return ""
}

// deleteSecurityGroup refuses a group in use with DependencyViolation ("If
// you attempt to delete a security group that is associated with an
// instance or network interface, is referenced by another security group
// in the same VPC, or has a VPC association, the operation fails with
// DependencyViolation", API reference, DeleteSecurityGroup) and the VPC's
// default group with CannotDelete ("You can't delete a default security
// group", Amazon VPC User Guide, "Default security groups for your VPCs").
func (s *Server) deleteSecurityGroup(form url.Values) (any, *apiError) {
	g, err := s.groupParam(form)
	if err != nil {
		return nil, err
	}
	if g.isDefault {
		return nil, badRequest("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
	}
	if by := s.inUse(g.ID); by != "" {
		return nil, badRequest("DependencyViolation", "resource %s has a dependent object (%s)", g.ID, by)
	}
	s.groups = slices.DeleteFunc(s.groups, func(x *secGroup) bool { return x == g })
	return deleteSecurityGroupResponse{Xmlns: namespace, RequestID: s.requestID(), Return: true, GroupID: g.ID}, nil
}

// modifyInstanceAttribute replaces the groups of the instance's one network
// interface ("[EC2-VPC] Replaces the security groups of the instance with
// the specified security groups. You must specify the ID of at least one
// security group", API reference, ModifyInstanceAttribute, GroupId.N).
// The groups must exist in the instance's VPC, at most MaxGroupsPerENI of
// them; a terminated or shutting-down instance is refused. Only the
// groups are modelled.
func (s *Server) modifyInstanceAttribute(form url.Values) (any, *apiError) {
	id := form.Get("InstanceId")
	if id == "" {
		return nil, badRequest("MissingParameter", "The request must contain the parameter InstanceId")
	}
	for k := range form {
		if k != "Action" && k != "Version" && k != "InstanceId" && k != "DryRun" && !strings.HasPrefix(k, "GroupId.") {
			return nil, badRequest("UnknownParameter", "ec2test does not model ModifyInstanceAttribute %s: only the security groups (GroupId.N)", k)
		}
	}
	it := s.findInstance(id)
	if it == nil {
		return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	ids := list(form, "GroupId")
	if len(ids) == 0 {
		return nil, badRequest("MissingParameter", "The request must contain the parameter GroupId: an instance keeps at least one security group")
	}
	if it.State == StateTerminated || it.State == StateShuttingDown {
		return nil, badRequest("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be modified (%s).", id, it.State)
	}
	var uniq []string
	for _, g := range ids {
		sg := s.findGroup(g)
		switch {
		case sg == nil:
			return nil, groupNotFound(g)
		case sg.VpcID != it.VpcID:
			return nil, badRequest("InvalidGroup.NotFound", "You have specified two resources that belong to different networks: security group %s is in %s, instance %s in %s", g, sg.VpcID, id, it.VpcID)
		}
		if !slices.Contains(uniq, g) {
			uniq = append(uniq, g)
		}
	}
	if len(uniq) > MaxGroupsPerENI {
		return nil, badRequest("SecurityGroupsPerInterfaceLimitExceeded", "The maximum number of security groups per interface has been reached (%d).", MaxGroupsPerENI)
	}
	it.SecurityGroups = uniq
	if s.onGroups != nil {
		s.onGroups(id, slices.Clone(uniq))
	}
	return returnResponse{XMLName: xml.Name{Local: "ModifyInstanceAttributeResponse"}, Xmlns: namespace, RequestID: s.requestID(), Return: true}, nil
}

// createTags tags instances, volumes and security groups, all or none
// (API reference, CreateTags; tag rules in readTags).
func (s *Server) createTags(form url.Values) (any, *apiError) {
	ids := list(form, "ResourceId")
	if len(ids) == 0 {
		return nil, badRequest("MissingParameter", "The request must contain the parameter ResourceId")
	}
	tags, err := readTags(form, "Tag")
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, badRequest("MissingParameter", "The request must contain the parameter Tag")
	}
	var targets []*map[string]string
	for _, id := range ids {
		switch {
		case strings.HasPrefix(id, "i-") && s.findInstance(id) != nil:
			targets = append(targets, &s.findInstance(id).Tags)
		case strings.HasPrefix(id, "vol-") && s.findVolume(id) != nil:
			targets = append(targets, &s.findVolume(id).Tags)
		case strings.HasPrefix(id, "sg-") && s.findGroup(id) != nil:
			targets = append(targets, &s.findGroup(id).Tags)
		case strings.HasPrefix(id, "i-"):
			return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
		case strings.HasPrefix(id, "sg-"):
			return nil, groupNotFound(id)
		default:
			return nil, badRequest("InvalidID", "The ID '%s' is not valid", id)
		}
	}
	for _, t := range targets {
		merged := maps.Clone(*t)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, tags)
		if len(merged) > maxTags {
			return nil, badRequest("TagLimitExceeded", "The maximum number of tags per resource is %d", maxTags)
		}
	}
	for _, t := range targets {
		if *t == nil {
			*t = map[string]string{}
		}
		maps.Copy(*t, tags)
	}
	return returnResponse{XMLName: xml.Name{Local: "CreateTagsResponse"}, Xmlns: namespace, RequestID: s.requestID(), Return: true}, nil
}

// groupIdentifiers are an instance's groups as DescribeInstances lists them.
func (s *Server) groupIdentifiers(ids []string) []xmlGroupID {
	out := make([]xmlGroupID, 0, len(ids))
	for _, id := range ids {
		name := ""
		if g := s.findGroup(id); g != nil {
			name = g.Name
		}
		out = append(out, xmlGroupID{GroupID: id, GroupName: name})
	}
	return out
}

type xmlIPRange struct {
	CIDR string `xml:"cidrIp"`
}

type xmlGroupPair struct {
	UserID  string `xml:"userId"`
	GroupID string `xml:"groupId"`
}

type xmlPermission struct {
	Protocol string         `xml:"ipProtocol"`
	FromPort int32          `xml:"fromPort"`
	ToPort   int32          `xml:"toPort"`
	Groups   []xmlGroupPair `xml:"groups>item"`
	IPRanges []xmlIPRange   `xml:"ipRanges>item"`
}

type xmlSecurityGroup struct {
	OwnerID     string          `xml:"ownerId"`
	GroupID     string          `xml:"groupId"`
	GroupName   string          `xml:"groupName"`
	Description string          `xml:"groupDescription"`
	VpcID       string          `xml:"vpcId"`
	Ingress     []xmlPermission `xml:"ipPermissions>item"`
	Egress      []xmlPermission `xml:"ipPermissionsEgress>item"`
	TagSet      []xmlTag        `xml:"tagSet>item"`
}

type describeSecurityGroupsResponse struct {
	XMLName   xml.Name           `xml:"DescribeSecurityGroupsResponse"`
	Xmlns     string             `xml:"xmlns,attr"`
	RequestID string             `xml:"requestId"`
	Groups    []xmlSecurityGroup `xml:"securityGroupInfo>item"`
	NextToken string             `xml:"nextToken,omitempty"`
}

type createSecurityGroupResponse struct {
	XMLName   xml.Name `xml:"CreateSecurityGroupResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	Return    bool     `xml:"return"`
	GroupID   string   `xml:"groupId"`
	TagSet    []xmlTag `xml:"tagSet>item"`
}

// returnResponse is the answer of the actions that return only "return".
type returnResponse struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	RequestID string `xml:"requestId"`
	Return    bool   `xml:"return"`
}

type revokeResponse struct {
	XMLName   xml.Name        `xml:"RevokeSecurityGroupEgressResponse"`
	Xmlns     string          `xml:"xmlns,attr"`
	RequestID string          `xml:"requestId"`
	Return    bool            `xml:"return"`
	Unknown   []xmlPermission `xml:"unknownIpPermissionSet>item"`
}

type deleteSecurityGroupResponse struct {
	XMLName   xml.Name `xml:"DeleteSecurityGroupResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	Return    bool     `xml:"return"`
	GroupID   string   `xml:"groupId"`
}
