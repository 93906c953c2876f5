// Package costs is what a stack costs an hour while it runs: the prices the
// README quotes, in one place, so its numbers are the code's (a test in the
// root package compares them).
//
// Prices are us-east-1 on-demand, list prices of late 2025; other regions
// differ. AWS bills a month as 730 hours (the pricing pages' monthly
// examples), so a GB-month price per hour is price / 730.
package costs

import (
	"fmt"
	"math"
)

const (
	// M4Large is the hourly price of the default instance type, m4.large,
	// Linux on-demand (aws.amazon.com/ec2/pricing/on-demand, us-east-1).
	M4Large = 0.10
	// ClassicELB is a Classic Load Balancer's hourly price, before its
	// $0.008 per GB processed (aws.amazon.com/elasticloadbalancing/pricing,
	// "Classic Load Balancer").
	ClassicELB = 0.025
	// PublicIPv4 is the hourly price of a public IPv4 address, in use or
	// not, since 2024-02-01 (aws.amazon.com/vpc/pricing, "Public IPv4
	// Addresses").
	PublicIPv4 = 0.005
	// GP3PerGBMonth is the root volumes' price (aws.amazon.com/ebs/pricing,
	// gp3 storage).
	GP3PerGBMonth = 0.08
	// GP2PerGBMonth bounds the app's volume, whichever type its driver
	// creates (aws.amazon.com/ebs/pricing, gp2 storage, the dearer of gp2
	// and gp3).
	GP2PerGBMonth = 0.10
	// M4LargeVCPUs is what an m4.large counts against the vCPU quota
	// (aws.amazon.com/ec2/instance-types/m4).
	M4LargeVCPUs = 2
	// HoursPerMonth is AWS's month for GB-month prices.
	HoursPerMonth = 730
)

// AppVolumeGiB is the size of the app's volume each driver creates when the
// app asks for none: Flocker's plugin DEFAULT_SIZE, its Rackspace minimum of
// 75 GiB (ClusterHQ/flocker 1.15.0 flocker/dockerplugin/_api.py); REX-Ray's
// libStorage default of 16 GiB (rexray 0.11.4; as the project's README has
// long said, not re-read for this table).
var AppVolumeGiB = map[string]int{"rexray": 16, "flocker": 75}

// Stack is what the price of a stack depends on. Only the default instance
// type, m4.large, has a price here.
type Stack struct {
	Masters, Agents int
	RootVolumeGiB   int
	VolumeDriver    string
}

// Line is one row of the bill.
type Line struct {
	What   string
	Count  int
	Unit   string  // the price as the pricing page gives it
	Hourly float64 // dollars an hour for Count of them
}

// Lines is the bill of a running stack, an hour at a time.
func Lines(s Stack) ([]Line, error) {
	size, ok := AppVolumeGiB[s.VolumeDriver]
	if !ok {
		return nil, fmt.Errorf("no app volume size for volume driver %q", s.VolumeDriver)
	}
	nodes := s.Masters + s.Agents
	lines := []Line{
		{What: fmt.Sprintf("EC2 m4.large (%d master, %d agents)", s.Masters, s.Agents), Count: nodes, Unit: dollars(M4Large) + "/h each", Hourly: float64(nodes) * M4Large},
		{What: "classic ELB", Count: 1, Unit: dollars(ClassicELB) + "/h + $0.008/GB", Hourly: ClassicELB},
		{What: "public IPv4 addresses (each node's and the ELB's)", Count: nodes + 1, Unit: dollars(PublicIPv4) + "/h each", Hourly: float64(nodes+1) * PublicIPv4},
		{What: fmt.Sprintf("gp3 root volumes, %d GiB each, encrypted", s.RootVolumeGiB), Count: nodes, Unit: dollars(GP3PerGBMonth) + "/GB-month", Hourly: float64(nodes*s.RootVolumeGiB) * GP3PerGBMonth / HoursPerMonth},
		{What: fmt.Sprintf("the app's EBS volume (%s: %d GiB)", s.VolumeDriver, size), Count: 1, Unit: "at most " + dollars(GP2PerGBMonth) + "/GB-month", Hourly: float64(size) * GP2PerGBMonth / HoursPerMonth},
	}
	return lines, nil
}

// Hourly is the stack's price an hour: the sum of its Lines.
func Hourly(s Stack) (float64, error) {
	lines, err := Lines(s)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, l := range lines {
		sum += l.Hourly
	}
	return sum, nil
}

// Cents rounds a price up to the next cent, as the README quotes it: an
// estimate should not undersell the bill.
func Cents(dollars float64) string {
	return fmt.Sprintf("$%.2f", math.Ceil(dollars*100-1e-9)/100)
}

func dollars(p float64) string {
	s := fmt.Sprintf("$%.3f", p)
	if s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}
