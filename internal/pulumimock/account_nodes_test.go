package pulumimock

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// nodesMocks are mocks whose previous run left one master and a classic
// ELB in one subnet, with a stopped instance and a stray interface beside.
func nodesMocks() *Mocks {
	tags := func(role string) resource.PropertyValue {
		return resource.NewObjectProperty(resource.PropertyMap{"marathon-ha:stack": resource.NewStringProperty("dev"), "marathon-ha:role": resource.NewStringProperty(role)})
	}
	m := NewMocks()
	m.Prior = map[string]Resource{
		tSubnet + "::net-public": {Type: tSubnet, Name: "net-public", ID: "subnet-01", Custom: true,
			Inputs: resource.PropertyMap{"cidrBlock": resource.NewStringProperty("10.42.1.0/24"), "vpcId": resource.NewStringProperty("vpc-01"), "tags": tags("network")}},
		tInstance + "::masters-1": {Type: tInstance, Name: "masters-1", ID: "i-00000000000000001", Custom: true,
			Inputs: resource.PropertyMap{"subnetId": resource.NewStringProperty("subnet-01"), "instanceType": resource.NewStringProperty("m4.large"), "tags": tags("master"),
				"rootBlockDevice": resource.NewObjectProperty(resource.PropertyMap{"volumeSize": resource.NewNumberProperty(40)})},
			Outputs: resource.PropertyMap{"privateIp": resource.NewStringProperty("10.42.1.10")}},
		tLaunchTemplate + "::agents-template": {Type: tLaunchTemplate, Name: "agents-template", ID: "lt-01", Custom: true,
			Inputs: resource.PropertyMap{"instanceType": resource.NewStringProperty("m4.large"), "blockDeviceMappings": resource.NewArrayProperty([]resource.PropertyValue{
				resource.NewObjectProperty(resource.PropertyMap{"ebs": resource.NewObjectProperty(resource.PropertyMap{"volumeSize": resource.NewNumberProperty(35)})})})}},
		tGroup + "::agents-group": {Type: tGroup, Name: "agents-group", ID: "agents-2026", Custom: true,
			Inputs: resource.PropertyMap{"desiredCapacity": resource.NewNumberProperty(2),
				"launchTemplate":     resource.NewObjectProperty(resource.PropertyMap{"id": resource.NewStringProperty("lt-01")}),
				"vpcZoneIdentifiers": resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("subnet-01")}),
				"tags": resource.NewArrayProperty([]resource.PropertyValue{
					resource.NewObjectProperty(resource.PropertyMap{"key": resource.NewStringProperty("marathon-ha:role"), "value": resource.NewStringProperty("agent"), "propagateAtLaunch": resource.NewBoolProperty(true)}),
					resource.NewObjectProperty(resource.PropertyMap{"key": resource.NewStringProperty("marathon-ha:stack"), "value": resource.NewStringProperty("dev"), "propagateAtLaunch": resource.NewBoolProperty(true)}),
					resource.NewObjectProperty(resource.PropertyMap{"key": resource.NewStringProperty("group-only"), "value": resource.NewStringProperty("x"), "propagateAtLaunch": resource.NewBoolProperty(false)}),
				})}},
		tLoadBalancer + "::elb": {Type: tLoadBalancer, Name: "elb", ID: "dev-elb", Custom: true,
			Inputs: resource.PropertyMap{"name": resource.NewStringProperty("dev-elb"), "subnets": resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("subnet-01")})}},
	}
	m.Account.Nodes = Nodes{
		Instances: []EC2Instance{{ID: "i-00000000000000002", State: "stopped", PrivateIP: "10.42.1.11", SubnetID: "subnet-01", RootGiB: 30,
			Tags: map[string]string{"marathon-ha:stack": "dev", "marathon-ha:role": "agent"}}},
		NetworkInterfaces: []NetworkInterface{{ID: "eni-0stray", SubnetID: "subnet-01", Type: "interface", PrivateIPs: []string{"10.42.1.12"}}},
	}
	return m
}

// The day-two data sources answer from what the previous run left and the
// extras, in the provider's shapes, and refuse what the provider or EC2
// refuses, or what account_nodes.go does not model.
func TestNodeDataSources(t *testing.T) {
	const (
		instances = "aws:ec2/getInstances:getInstances"
		instance  = "aws:ec2/getInstance:getInstance"
		subnets   = "aws:ec2/getSubnets:getSubnets"
		enis      = "aws:ec2/getNetworkInterfaces:getNetworkInterfaces"
		eni       = "aws:ec2/getNetworkInterface:getNetworkInterface"
	)
	m := nodesMocks()
	g0, g1 := "i-"+digest("agents-2026", "0")[:17], "i-"+digest("agents-2026", "1")[:17]
	ids := func(token string, args map[string]any) string {
		t.Helper()
		out, err := call(t, m, token, args)
		if err != nil {
			t.Fatalf("%s %v: %v", token, args, err)
		}
		return strings.Join(toStrings(out["ids"]), " ")
	}
	for _, c := range []struct {
		token string
		args  map[string]any
		want  string
	}{
		{instances, nil, "i-00000000000000001 " + g0 + " " + g1}, // running only, by default
		{instances, map[string]any{"instanceStateNames": []any{"running", "stopped"}}, "i-00000000000000001 i-00000000000000002 " + g0 + " " + g1},
		{instances, map[string]any{"instanceStateNames": []any{"stopped"}, "instanceTags": map[string]any{"marathon-ha:role": "agent"}}, "i-00000000000000002"},
		{instances, map[string]any{"instanceTags": map[string]any{"group-only": "x"}}, ""}, // not propagated at launch
		{instances, map[string]any{"filters": filters("private-ip-address", []string{"10.42.1.181"})}, g1},
		{instances, map[string]any{"instanceTags": map[string]any{"marathon-ha:role": "worker"}}, ""},
		{subnets, map[string]any{"tags": map[string]any{"marathon-ha:stack": "dev"}}, "subnet-01"},
		{subnets, map[string]any{"tags": map[string]any{"marathon-ha:stack": "prod"}}, ""},
		{enis, map[string]any{"filters": filters("subnet-id", []string{"subnet-01"}, "addresses.private-ip-address", []string{"10.42.1.10", "10.42.1.12"})},
			"eni-0stray " + "eni-" + digest("i-00000000000000001")[:17]},
		{enis, map[string]any{"filters": filters("description", []string{"ELB *"})}, "eni-" + digest("dev-elb", "subnet-01")[:17]},
		{enis, map[string]any{"filters": filters("subnet-id", []string{"subnet-02"})}, ""},
	} {
		got := strings.Fields(ids(c.token, c.args))
		want := strings.Fields(c.want)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s %v: ids %v, want %v", c.token, c.args, got, want)
		}
	}

	out, err := call(t, m, instance, map[string]any{"instanceId": "i-00000000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	root := out["rootBlockDevices"].ArrayValue()
	if len(root) != 1 || root[0].ObjectValue()["volumeSize"].NumberValue() != 40 || out["privateIp"].StringValue() != "10.42.1.10" ||
		out["subnetId"].StringValue() != "subnet-01" || out["tags"].ObjectValue()["marathon-ha:role"].StringValue() != "master" {
		t.Errorf("getInstance: %v", out)
	}
	out, err = call(t, m, instance, map[string]any{"instanceId": g1})
	if err != nil || out["rootBlockDevices"].ArrayValue()[0].ObjectValue()["volumeSize"].NumberValue() != 35 || out["tags"].ObjectValue().HasValue("group-only") {
		t.Errorf("getInstance of a group's instance: %v %v", out, err)
	}
	out, err = call(t, m, eni, map[string]any{"id": "eni-" + digest("dev-elb", "subnet-01")[:17]})
	if err != nil {
		t.Fatal(err)
	}
	att := out["attachments"].ArrayValue()
	if out["description"].StringValue() != "ELB dev-elb" || out["requesterId"].StringValue() != "amazon-elb" || len(att) != 1 ||
		att[0].ObjectValue()["instanceOwnerId"].StringValue() != "amazon-elb" || att[0].ObjectValue().HasValue("instanceId") {
		t.Errorf("getNetworkInterface of the ELB: %v", out)
	}
	out, err = call(t, m, eni, map[string]any{"id": "eni-0stray"})
	if err != nil || len(out["attachments"].ArrayValue()) != 0 || out["privateIp"].StringValue() != "10.42.1.12" {
		t.Errorf("getNetworkInterface of an unattached interface: %v %v", out, err)
	}

	for _, bad := range []struct {
		token string
		args  map[string]any
		want  string
	}{
		{instances, map[string]any{"instanceStateNames": []any{"up"}}, "expected instance_state_names.0 to be one of"},
		{instances, map[string]any{"filters": filters("vpc-id", []string{"vpc-01"})}, "InvalidParameterValue: The filter 'vpc-id' is invalid"},
		{instance, map[string]any{"instanceId": "i-00000000000000009"}, "no matching EC2 Instance found"},
		{instance, map[string]any{"instanceTags": map[string]any{"marathon-ha:stack": "dev"}, "filters": filters("instance-state-name", []string{"running", "stopped"})},
			"multiple EC2 Instances matched; use additional constraints to reduce matches to a single EC2 Instance"},
		{instance, map[string]any{"instanceId": "i-1"}, "InvalidInstanceID.Malformed"},
		{instance, map[string]any{"instanceId": "i-00000000000000001", "getUserData": true}, "not modelled"},
		{instance, map[string]any{"instanceId": "i-00000000000000001", "tags": map[string]any{"a": "b"}}, `argument "tags" is not modelled`},
		{eni, map[string]any{"id": "eni-0nothere"}, "reading EC2 Network Interface: couldn't find resource"},
		{eni, map[string]any{"filters": filters("subnet-id", []string{"subnet-02"})}, "reading EC2 Network Interface: empty result"},
		{eni, map[string]any{"filters": filters("subnet-id", []string{"subnet-01"})}, "reading EC2 Network Interface: too many results: wanted 1, got 5"},
		{eni, map[string]any{"id": "eni-0stray", "tags": map[string]any{"a": "b"}}, `argument "tags" is not modelled`},
		{enis, map[string]any{"filters": filters("status", []string{"in-use"})}, "InvalidParameterValue: The filter 'status' is invalid"},
		{subnets, map[string]any{"filters": filters("default-for-az", []string{"true"})}, "InvalidParameterValue: The filter 'default-for-az' is invalid"},
	} {
		if _, err := call(t, m, bad.token, bad.args); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %v: error %v, want %q", bad.token, bad.args, err, bad.want)
		}
	}
}
