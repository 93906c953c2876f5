package ec2test_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops/ec2test"
)

func createGroup(t *testing.T, c *ec2.Client, name string) string {
	t.Helper()
	out, err := c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(name), Description: aws.String("drill group"), VpcId: aws.String(ec2test.VpcID),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup,
			Tags: []types.Tag{{Key: aws.String("drill"), Value: aws.String("yes")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.GroupId)
}

func tcp(port int32, group string) types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(group)}}}
}

func allTraffic() types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}
}

func TestCreateSecurityGroupHasTheDefaultEgressAndItsTags(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	id := createGroup(t, srv.Client(), "mha-drill")
	g, ok := srv.SecurityGroup(id)
	if !ok || g.VpcID != ec2test.VpcID || g.Tags["drill"] != "yes" || len(g.Ingress) != 0 {
		t.Fatalf("group %+v", g)
	}
	if want := []ec2test.Rule{{Protocol: "-1", FromPort: -1, ToPort: -1, CIDR: "0.0.0.0/0"}}; !slices.Equal(g.Egress, want) {
		t.Errorf("egress %v, want the default allow-all rule %v", g.Egress, want)
	}
	out, err := srv.Client().DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
		{Name: aws.String("tag:drill"), Values: []string{"yes"}}, {Name: aws.String("vpc-id"), Values: []string{ec2test.VpcID}}}})
	if err != nil || len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].GroupId) != id ||
		len(out.SecurityGroups[0].IpPermissionsEgress) != 1 || aws.ToString(out.SecurityGroups[0].IpPermissionsEgress[0].IpProtocol) != "-1" {
		t.Errorf("DescribeSecurityGroups %+v, %v", out, err)
	}
}

func TestCreateSecurityGroupRefusals(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	createGroup(t, srv.Client(), "taken")
	in := func(name, desc, vpc string) *ec2.CreateSecurityGroupInput {
		i := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(desc)}
		if vpc != "" {
			i.VpcId = aws.String(vpc)
		}
		return i
	}
	for _, tc := range []struct {
		name string
		in   *ec2.CreateSecurityGroupInput
		code string
	}{
		{"name too long", in(strings.Repeat("a", 256), "d", ec2test.VpcID), "InvalidParameterValue"},
		{"name charset", in("drill<1>", "d", ec2test.VpcID), "InvalidParameterValue"},
		{"description charset", in("drill", "é", ec2test.VpcID), "InvalidParameterValue"},
		{"description too long", in("drill", strings.Repeat("d", 256), ec2test.VpcID), "InvalidParameterValue"},
		{"sg- prefix", in("sg-drill", "d", ec2test.VpcID), "InvalidParameterValue"},
		{"no VPC", in("drill", "d", ""), "VPCIdNotSpecified"},
		{"unknown VPC", in("drill", "d", "vpc-0ffffffffffffffff"), "InvalidVpcID.NotFound"},
		{"duplicate in the VPC, any case", in("TAKEN", "d", ec2test.VpcID), "InvalidGroup.Duplicate"},
		{"tag spec of another type", &ec2.CreateSecurityGroupInput{GroupName: aws.String("x"), Description: aws.String("d"), VpcId: aws.String(ec2test.VpcID),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}}, "InvalidParameterValue"},
		{"aws: tag", &ec2.CreateSecurityGroupInput{GroupName: aws.String("x"), Description: aws.String("d"), VpcId: aws.String(ec2test.VpcID),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}}}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := srv.Client().CreateSecurityGroup(context.Background(), tc.in)
			if err == nil || apiCode(t, err) != tc.code {
				t.Errorf("error %v, want %s", err, tc.code)
			}
		})
	}
	// The same name in another VPC is allowed.
	srv.AddSecurityGroup(ec2test.SecurityGroup{Name: "other", VpcID: "vpc-0bbbbbbbbbbbbbbbb"})
	if _, err := srv.Client().CreateSecurityGroup(context.Background(), in("taken", "d", "vpc-0bbbbbbbbbbbbbbbb")); err != nil {
		t.Errorf("the same name in another VPC: %v", err)
	}
}

func TestAuthorizeAndRevokeRules(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()
	elb := srv.AddSecurityGroup(ec2test.SecurityGroup{Name: "elb"})
	other := srv.AddSecurityGroup(ec2test.SecurityGroup{Name: "elsewhere", VpcID: "vpc-0bbbbbbbbbbbbbbbb"})
	id := createGroup(t, c, "drill")
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{tcp(8500, elb)}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		perm types.IpPermission
		code string
	}{
		{"duplicate", tcp(8500, elb), "InvalidPermission.Duplicate"},
		{"unknown source group", tcp(8501, "sg-0ffffffffffffffff"), "InvalidGroup.NotFound"},
		{"source group of another VPC", tcp(8501, other), "InvalidGroup.NotFound"},
		{"ports reversed", types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(9000), ToPort: aws.Int32(8000),
			IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}, "InvalidParameterValue"},
		{"bad CIDR", types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2),
			IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0/8")}}}, "InvalidParameterValue"},
		{"no peer", types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2)}, "MissingParameter"},
		{"protocol not modelled", types.IpPermission{IpProtocol: aws.String("gre"), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{tc.perm}})
			if err == nil || apiCode(t, err) != tc.code {
				t.Errorf("error %v, want %s", err, tc.code)
			}
		})
	}
	// The default egress rule exists: authorizing it again is a duplicate.
	if _, err := c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{allTraffic()}}); err == nil || apiCode(t, err) != "InvalidPermission.Duplicate" {
		t.Errorf("the default egress rule authorized twice: %v", err)
	}
	out, err := c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{allTraffic(), tcp(8500, elb)}})
	if err != nil || len(out.UnknownIpPermissions) != 1 || aws.ToInt32(out.UnknownIpPermissions[0].FromPort) != 8500 {
		t.Fatalf("revoke %+v, %v: want the one unknown rule back", out, err)
	}
	if g, _ := srv.SecurityGroup(id); len(g.Egress) != 0 || len(g.Ingress) != 1 || g.Ingress[0].GroupID != elb {
		t.Errorf("group after the revoke %+v", g)
	}
	if _, err := c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String("sg-0ffffffffffffffff"), IpPermissions: []types.IpPermission{allTraffic()}}); err == nil || apiCode(t, err) != "InvalidGroup.NotFound" {
		t.Errorf("an unknown group: %v", err)
	}
	// The legacy top-level rule is not modelled.
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), CidrIp: aws.String("10.0.0.0/8"), IpProtocol: aws.String("-1")}); err == nil || apiCode(t, err) != "UnknownParameter" {
		t.Errorf("a legacy rule: %v", err)
	}
}

func TestTooManyRules(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	c := srv.Client()
	id := createGroup(t, c, "drill")
	var perms []types.IpPermission
	for p := range int32(ec2test.MaxRulesPerDirection + 1) {
		perms = append(perms, types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(p + 1), ToPort: aws.Int32(p + 1),
			IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}})
	}
	_, err := c.AuthorizeSecurityGroupIngress(context.Background(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: perms})
	if err == nil || apiCode(t, err) != "RulesPerSecurityGroupLimitExceeded" {
		t.Errorf("error %v", err)
	}
	if g, _ := srv.SecurityGroup(id); len(g.Ingress) != 0 {
		t.Errorf("a refused call added %d rules", len(g.Ingress))
	}
}

func TestModifyInstanceGroups(t *testing.T) {
	var changes [][]string
	srv := ec2test.NewServer(ec2test.WithGroupsChanged(func(id string, groups []string) {
		changes = append(changes, append([]string{id}, groups...))
	}))
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", SecurityGroups: []string{"sg-0aaaaaaaaaaaaaaaa"}})
	srv.AddInstance(ec2test.Instance{ID: "i-0plain"})
	other := srv.AddSecurityGroup(ec2test.SecurityGroup{Name: "elsewhere", VpcID: "vpc-0bbbbbbbbbbbbbbbb"})
	drill := createGroup(t, c, "drill")

	if in, _ := srv.Instance("i-0plain"); len(in.SecurityGroups) != 1 || in.VpcID != ec2test.VpcID {
		t.Fatalf("an instance seeded without groups: %+v", in)
	} else if g, _ := srv.SecurityGroup(in.SecurityGroups[0]); g.Name != "default" {
		t.Errorf("an instance seeded without groups is in %+v, want the VPC's default group", g)
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-0agent"), Groups: []string{drill}}); err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"i-0agent", drill}}; !slices.EqualFunc(changes, want, slices.Equal) {
		t.Errorf("hook calls %v, want %v", changes, want)
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0agent"}})
	if err != nil {
		t.Fatal(err)
	}
	in := out.Reservations[0].Instances[0]
	if aws.ToString(in.VpcId) != ec2test.VpcID || len(in.SecurityGroups) != 1 || aws.ToString(in.SecurityGroups[0].GroupId) != drill || aws.ToString(in.SecurityGroups[0].GroupName) != "drill" {
		t.Errorf("DescribeInstances shows vpc %s groups %+v", aws.ToString(in.VpcId), in.SecurityGroups)
	}
	srv.AddInstance(ec2test.Instance{ID: "i-0gone", State: ec2test.StateTerminated})
	six := []string{drill, "sg-0aaaaaaaaaaaaaaaa"}
	for range 4 {
		six = append(six, srv.AddSecurityGroup(ec2test.SecurityGroup{}))
	}
	for _, tc := range []struct {
		name, instance string
		groups         []string
		code           string
	}{
		{"no group", "i-0agent", nil, "MissingParameter"},
		{"unknown group", "i-0agent", []string{"sg-0ffffffffffffffff"}, "InvalidGroup.NotFound"},
		{"group of another VPC", "i-0agent", []string{other}, "InvalidGroup.NotFound"},
		{"unknown instance", "i-0nothere", []string{drill}, "InvalidInstanceID.NotFound"},
		{"terminated instance", "i-0gone", []string{drill}, "IncorrectInstanceState"},
		{"six groups", "i-0agent", six, "SecurityGroupsPerInterfaceLimitExceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(tc.instance), Groups: tc.groups})
			if err == nil || apiCode(t, err) != tc.code {
				t.Errorf("error %v, want %s", err, tc.code)
			}
		})
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-0agent"), Attribute: types.InstanceAttributeNameGroupSet, Value: aws.String(drill)}); err == nil || apiCode(t, err) != "UnknownParameter" {
		t.Errorf("the Attribute/Value form: %v", err)
	}
	if len(changes) != 1 {
		t.Errorf("refused calls called the hook: %v", changes)
	}
}

func TestDeleteSecurityGroup(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()
	drill := createGroup(t, c, "drill")
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", SecurityGroups: []string{drill}})
	del := func(id string) error {
		_, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		return err
	}
	if err := del(drill); err == nil || apiCode(t, err) != "DependencyViolation" {
		t.Fatalf("deleting a group an instance uses: %v", err)
	}
	orig := srv.AddSecurityGroup(ec2test.SecurityGroup{Name: "agents"})
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-0agent"), Groups: []string{orig}}); err != nil {
		t.Fatal(err)
	}
	// A rule of another group that names it holds it too.
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(orig), IpPermissions: []types.IpPermission{tcp(22, drill)}}); err != nil {
		t.Fatal(err)
	}
	if err := del(drill); err == nil || apiCode(t, err) != "DependencyViolation" {
		t.Fatalf("deleting a group another group's rule names: %v", err)
	}
	if err := del("sg-0ffffffffffffffff"); err == nil || apiCode(t, err) != "InvalidGroup.NotFound" {
		t.Errorf("deleting an unknown group: %v", err)
	}
	srv.AddInstance(ec2test.Instance{ID: "i-0plain"})
	plain, _ := srv.Instance("i-0plain")
	if err := del(plain.SecurityGroups[0]); err == nil || apiCode(t, err) != "CannotDelete" {
		t.Errorf("deleting the VPC's default group: %v", err)
	}
}

func TestDeleteSecurityGroupOnceFree(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()
	drill := createGroup(t, c, "drill")
	srv.AddInstance(ec2test.Instance{ID: "i-0agent", SecurityGroups: []string{drill}})
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0agent"}}); err != nil {
		t.Fatal(err)
	}
	// Terminated at the next request (no shutdown delay): its interface,
	// and its hold on the group, is gone.
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(drill)}); err != nil {
		t.Fatalf("deleting the group of a terminated instance: %v", err)
	}
	if _, ok := srv.SecurityGroup(drill); ok {
		t.Error("the group is still there")
	}
}

func TestCreateTags(t *testing.T) {
	srv := ec2test.NewServer()
	defer srv.Close()
	c, ctx := srv.Client(), context.Background()
	srv.AddInstance(ec2test.Instance{ID: "i-0agent"})
	drill := createGroup(t, c, "drill")
	tag := func(ids []string, k, v string) error {
		_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}}})
		return err
	}
	if err := tag([]string{"i-0agent", drill}, "restore", "sg-1"); err != nil {
		t.Fatal(err)
	}
	in, _ := srv.Instance("i-0agent")
	g, _ := srv.SecurityGroup(drill)
	if in.Tags["restore"] != "sg-1" || g.Tags["restore"] != "sg-1" || g.Tags["drill"] != "yes" {
		t.Errorf("tags %v and %v", in.Tags, g.Tags)
	}
	for _, tc := range []struct {
		name string
		ids  []string
		k, v string
		code string
	}{
		{"unknown instance", []string{"i-0nothere", drill}, "k", "v", "InvalidInstanceID.NotFound"},
		{"unknown group", []string{"sg-0ffffffffffffffff"}, "k", "v", "InvalidGroup.NotFound"},
		{"value too long", []string{drill}, "k", strings.Repeat("v", 257), "InvalidParameterValue"},
		{"key too long", []string{drill}, strings.Repeat("k", 129), "v", "InvalidParameterValue"},
		{"reserved key", []string{drill}, "aws:k", "v", "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tag(tc.ids, tc.k, tc.v); err == nil || apiCode(t, err) != tc.code {
				t.Errorf("error %v, want %s", err, tc.code)
			}
		})
	}
	if g, _ := srv.SecurityGroup(drill); g.Tags["k"] != "" {
		t.Errorf("a refused call tagged the group: %v", g.Tags)
	}
	for i := range 49 {
		if err := tag([]string{"i-0agent"}, "k"+string(rune('A'+i%26))+string(rune('a'+i/26)), "v"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tag([]string{"i-0agent"}, "one-too-many", "v"); err == nil || apiCode(t, err) != "TagLimitExceeded" {
		t.Errorf("the 51st tag: %v", err)
	}
}
