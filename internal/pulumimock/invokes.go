package pulumimock

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// This file is the contract of the data sources the program reads to place
// the cluster: getAvailabilityZones, getInstanceTypeOfferings and getAmi.
// Each answers from a small table, as EC2 would for one account, and
// refuses what the provider or EC2 refuses, or what the table cannot model.
//
// Sources (the provider is terraform-provider-aws, see tfVersion):
//   - internal/service/ec2/ec2_availability_zones_data_source.go: `state`
//     becomes a "state" filter, `filter` blocks are appended, the answer is
//     sorted by zone name, then exclude_names / exclude_zone_ids apply.
//   - internal/service/ec2/ec2_instance_type_offerings_data_source.go:
//     `filter` and `location_type` go to DescribeInstanceTypeOfferings as
//     they are; instance_types, locations and location_types are parallel.
//   - internal/service/ec2/ec2_ami_data_source.go: IncludeDeprecated is sent
//     as given (default false); "Your query returned no results" when nothing
//     matches; "more than one result" without most_recent; the newest by
//     CreationDate otherwise.
//   - AWS API reference, DescribeAvailabilityZones (aws-sdk-go-v2
//     service/ec2 v1.344.2 api_op_DescribeAvailabilityZones.go): without
//     AllAvailabilityZones only zones you are opted in to are listed; the
//     filter opt-in-status is opted-in | not-opted-in | opt-in-not-required,
//     and an Availability Zone's OptInStatus is always opt-in-not-required
//     (types.AvailabilityZone.OptInStatus).
//   - AWS API reference, DescribeImages (api_op_DescribeImages.go,
//     IncludeDeprecated): "Default: No deprecated AMIs are included in the
//     response. If you are the AMI owner, all deprecated AMIs appear in the
//     response regardless"; EC2 User Guide, "Deprecate an AMI".

// Zone is one zone as DescribeAvailabilityZones describes it.
type Zone struct {
	Name, ID    string
	State       string // available | information | impaired | unavailable | constrained
	OptInStatus string // opt-in-not-required (every Availability Zone) | opted-in | not-opted-in
	Type        string // availability-zone | local-zone | wavelength-zone
	Group       string
}

// Image is one AMI as DescribeImages describes it.
type Image struct {
	ID, Name, Owner                                  string
	Architecture, VirtualizationType, RootDeviceType string
	Created                                          time.Time
	Deprecated                                       time.Time // zero: no deprecation time
}

// mockRegion and mockAccount are the region and caller the mocks answer for.
const (
	mockRegion  = "us-east-1"
	mockAccount = "123456789012"
)

// Zone names map to different physical zones in each account, so these
// tables describe one made-up account. The Local Zone us-east-1-atl-1a
// (Atlanta) is opted in and sorts before us-east-1a ('-' < 'a'); the Boston
// one is not opted in and appears only with allAvailabilityZones.
func defaultZones() []Zone {
	az := func(name, id string) Zone {
		return Zone{Name: name, ID: id, State: "available", OptInStatus: "opt-in-not-required", Type: "availability-zone", Group: "us-east-1-zg-1"}
	}
	return []Zone{
		{Name: "us-east-1-atl-1a", ID: "use1-atl1-az1", State: "available", OptInStatus: "opted-in", Type: "local-zone", Group: "us-east-1-atl-1"},
		{Name: "us-east-1-bos-1a", ID: "use1-bos1-az1", State: "available", OptInStatus: "not-opted-in", Type: "local-zone", Group: "us-east-1-bos-1"},
		az("us-east-1a", "use1-az6"), az("us-east-1b", "use1-az1"), az("us-east-1c", "use1-az2"),
	}
}

// defaultOfferings are the instance types each zone offers. Previous
// generations are missing from some zones (m4.xlarge from us-west-2d:
// awslabs/ec2-spot-workshops#154; c5.large, t3.micro from one account's
// us-east-1e: compiler-explorer/infra#601, ned1313/Getting-Started-Terraform#44),
// and Local Zones offer a few current types only; tests that need a zone
// lacking a type set their own table.
func defaultOfferings() map[string][]string {
	region := []string{"m4.large", "m4.xlarge", "c4.large", "c4.xlarge", "t2.large", "t3.large", "m5.large", "c5.large"}
	return map[string][]string{
		"us-east-1-atl-1a": {"t3.medium", "c5.2xlarge", "m5.2xlarge", "r5.2xlarge"},
		"us-east-1-bos-1a": {"t3.medium", "c5.2xlarge", "m5.2xlarge", "r5.2xlarge"},
		"us-east-1a":       region, "us-east-1b": region, "us-east-1c": region,
	}
}

// CanonicalOwner is Canonical's AMI owner account.
const CanonicalOwner = "099720109477"

// defaultImages follow Canonical's retention policy for an LTS past its end
// of standard support (Ubuntu on AWS docs, "AWS image retention policies":
// deprecate all but the latest serial) and AWS's cap on a public AMI's
// deprecation time, two years after creation (API reference,
// EnableImageDeprecation). A jammy image is newer than every focal one, so
// a lookup that ignored the name filter would pick it.
func defaultImages() []Image {
	day := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	focal := func(id, serial, created, deprecated string) Image {
		return Image{ID: id, Name: "ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-" + serial, Owner: CanonicalOwner,
			Architecture: "x86_64", VirtualizationType: "hvm", RootDeviceType: "ebs", Created: day(created), Deprecated: day(deprecated)}
	}
	jammy := focal("ami-0fedcba9876543210", "", "2026-11-01", "2028-11-01")
	jammy.Name = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20261101"
	return []Image{
		focal("ami-0aaaaaaaaaaaaaaa1", "20240821", "2024-08-21", "2025-06-01"),
		focal("ami-0aaaaaaaaaaaaaaa2", "20250415", "2025-04-15", "2025-06-01"),
		focal("ami-0123456789abcdef0", "20250528", "2025-05-28", "2027-05-28"),
		jammy,
	}
}

// filter is one EC2 Filter: a match needs one of its values; every filter
// must match.
type filter struct {
	Name   string
	Values []string
}

// wildcard matches EC2 filter values, where * is any run of characters and
// ? is one character.
func wildcard(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(s)
}

func (f filter) match(v string) bool {
	return slices.ContainsFunc(f.Values, func(p string) bool { return wildcard(p, v) })
}

// callArgs reads an invoke's arguments, refusing any this file does not model.
type callArgs struct {
	token string
	args  resource.PropertyMap
}

func newCallArgs(token string, args resource.PropertyMap, known ...string) (callArgs, error) {
	for k, v := range args {
		if !slices.Contains(known, string(k)) && !v.IsNull() {
			return callArgs{}, fmt.Errorf("pulumimock: %s argument %q is not modelled; model it from the provider's data source before using it", token, k)
		}
	}
	return callArgs{token, args}, nil
}

func (c callArgs) str(key string) string {
	v := c.args[resource.PropertyKey(key)]
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func (c callArgs) boolean(key string) bool {
	v := c.args[resource.PropertyKey(key)]
	return v.IsBool() && v.BoolValue()
}

func (c callArgs) strings(key string) []string {
	var out []string
	if v := c.args[resource.PropertyKey(key)]; v.IsArray() {
		for _, e := range v.ArrayValue() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// filters returns the filter blocks, refusing names outside known (EC2
// answers InvalidParameterValue for a filter it does not know; one it knows
// but this file does not model is refused too).
func (c callArgs) filters(known ...string) ([]filter, error) {
	var out []filter
	v := c.args["filters"]
	if !v.IsArray() {
		return nil, nil
	}
	for _, e := range v.ArrayValue() {
		obj := e.ObjectValue()
		f := filter{Name: obj["name"].StringValue()}
		for _, x := range obj["values"].ArrayValue() {
			f.Values = append(f.Values, x.StringValue())
		}
		if !slices.ContainsFunc(known, func(k string) bool { return wildcard(k, f.Name) }) { // "tag:*" stands for every tag
			return nil, fmt.Errorf("InvalidParameterValue: The filter '%s' is invalid (pulumimock models %s for %s)", f.Name, strings.Join(known, ", "), c.token)
		}
		out = append(out, f)
	}
	return out, nil
}

// availabilityZones answers aws:index/getAvailabilityZones.
func (m *Mocks) availabilityZones(args resource.PropertyMap) (map[string]any, error) {
	const token = "getAvailabilityZones"
	c, err := newCallArgs(token, args, "allAvailabilityZones", "excludeNames", "excludeZoneIds", "filters", "state")
	if err != nil {
		return nil, err
	}
	var fs []filter
	if s := c.str("state"); s != "" {
		// ValidateFunc: StringInSlice(AvailabilityZoneState values).
		if !slices.Contains([]string{"available", "information", "impaired", "unavailable", "constrained"}, s) {
			return nil, fmt.Errorf(`expected state to be one of ["available" "information" "impaired" "unavailable" "constrained"], got %s`, s)
		}
		fs = append(fs, filter{Name: "state", Values: []string{s}})
	}
	more, err := c.filters("state", "opt-in-status", "zone-type", "zone-name", "zone-id", "group-name", "region-name")
	if err != nil {
		return nil, err
	}
	fs = append(fs, more...)
	all := c.boolean("allAvailabilityZones")
	var zones []Zone
	for _, z := range m.Zones {
		if z.OptInStatus == "not-opted-in" && !all {
			continue
		}
		field := map[string]string{"state": z.State, "opt-in-status": z.OptInStatus, "zone-type": z.Type,
			"zone-name": z.Name, "zone-id": z.ID, "group-name": z.Group, "region-name": mockRegion}
		if !slices.ContainsFunc(fs, func(f filter) bool { return !f.match(field[f.Name]) }) {
			zones = append(zones, z)
		}
	}
	sort.Slice(zones, func(i, j int) bool { return zones[i].Name < zones[j].Name })
	names, ids, groups := []string{}, []string{}, []string{}
	for _, z := range zones {
		if slices.Contains(c.strings("excludeNames"), z.Name) || slices.Contains(c.strings("excludeZoneIds"), z.ID) {
			continue
		}
		names, ids = append(names, z.Name), append(ids, z.ID)
		if !slices.Contains(groups, z.Group) {
			groups = append(groups, z.Group)
		}
	}
	return map[string]any{"id": mockRegion, "names": names, "zoneIds": ids, "groupNames": groups}, nil
}

// instanceTypeOfferings answers aws:ec2/getInstanceTypeOfferings.
func (m *Mocks) instanceTypeOfferings(args resource.PropertyMap) (map[string]any, error) {
	const token = "getInstanceTypeOfferings"
	c, err := newCallArgs(token, args, "filters", "locationType")
	if err != nil {
		return nil, err
	}
	// ValidateFunc: StringInSlice(LocationType values); the API default is region.
	lt := c.str("locationType")
	switch lt {
	case "":
		lt = "region"
	case "region", "availability-zone", "availability-zone-id":
	case "outpost":
		return nil, fmt.Errorf("pulumimock: %s locationType outpost is not modelled", token)
	default:
		return nil, fmt.Errorf(`expected location_type to be one of ["region" "availability-zone" "availability-zone-id" "outpost"], got %s`, lt)
	}
	fs, err := c.filters("instance-type", "location")
	if err != nil {
		return nil, err
	}
	type offer struct{ typ, loc string }
	seen := map[offer]bool{}
	var offers []offer
	for _, z := range m.Zones {
		loc := map[string]string{"region": mockRegion, "availability-zone": z.Name, "availability-zone-id": z.ID}[lt]
		for _, typ := range m.Offerings[z.Name] {
			o := offer{typ, loc}
			field := map[string]string{"instance-type": typ, "location": loc}
			if seen[o] || slices.ContainsFunc(fs, func(f filter) bool { return !f.match(field[f.Name]) }) {
				continue
			}
			seen[o] = true
			offers = append(offers, o)
		}
	}
	types, locs, lts := []string{}, []string{}, []string{}
	for _, o := range offers {
		types, locs, lts = append(types, o.typ), append(locs, o.loc), append(lts, lt)
	}
	return map[string]any{"id": mockRegion, "instanceTypes": types, "locations": locs, "locationTypes": lts}, nil
}

// ami answers aws:ec2/getAmi.
func (m *Mocks) ami(args resource.PropertyMap) (map[string]any, error) {
	const token = "getAmi"
	c, err := newCallArgs(token, args, "filters", "includeDeprecated", "mostRecent", "owners")
	if err != nil {
		return nil, err
	}
	fs, err := c.filters("name", "architecture", "virtualization-type", "root-device-type", "image-id", "owner-id")
	if err != nil {
		return nil, err
	}
	owners := c.strings("owners")
	for i, o := range owners {
		switch {
		case o == "self":
			owners[i] = mockAccount
		case !regexp.MustCompile(`^\d{12}$`).MatchString(o):
			return nil, fmt.Errorf("pulumimock: %s owner alias %q is not modelled", token, o)
		}
	}
	var found []Image
	for _, img := range m.Images {
		field := map[string]string{"name": img.Name, "architecture": img.Architecture, "virtualization-type": img.VirtualizationType,
			"root-device-type": img.RootDeviceType, "image-id": img.ID, "owner-id": img.Owner}
		deprecated := !img.Deprecated.IsZero() && !img.Deprecated.After(m.Now)
		switch {
		case len(owners) > 0 && !slices.Contains(owners, img.Owner):
		case slices.ContainsFunc(fs, func(f filter) bool { return !f.match(field[f.Name]) }):
		case deprecated && !c.boolean("includeDeprecated") && img.Owner != mockAccount:
		default:
			found = append(found, img)
		}
	}
	if len(found) == 0 {
		//lint:ignore ST1005 the provider's own message, quoted (ec2_ami_data_source.go)
		return nil, errors.New("Your query returned no results. Please change your search criteria and try again.")
	}
	if len(found) > 1 && !c.boolean("mostRecent") {
		//lint:ignore ST1005 the provider's own message, quoted (ec2_ami_data_source.go)
		return nil, errors.New("Your query returned more than one result. Please try a more specific search criteria, or set `most_recent` attribute to true.")
	}
	img := slices.MaxFunc(found, func(a, b Image) int { return a.Created.Compare(b.Created) })
	out := map[string]any{"id": img.ID, "imageId": img.ID, "name": img.Name, "ownerId": img.Owner,
		"architecture": img.Architecture, "virtualizationType": img.VirtualizationType, "rootDeviceType": img.RootDeviceType,
		"creationDate": img.Created.Format(time.RFC3339), "deprecationTime": "", "rootDeviceName": "/dev/sda1"} // root_device_name (ec2_ami_data_source.go: image.RootDeviceName); every image of these tables is Canonical's Ubuntu, whose root device is /dev/sda1 (a recorded DescribeImages of ubuntu-focal-20.04-amd64-server-20200907)
	if !img.Deprecated.IsZero() {
		out["deprecationTime"] = img.Deprecated.Format(time.RFC3339)
	}
	return out, nil
}
