package main

import (
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

const tReservation = "aws:ec2/subnetCidrReservation:SubnetCidrReservation"

// reservationOf returns the reservation of the first master's address, and
// checks that every address a master may have is reserved, whatever the
// count (TestMasters checks each).
func reservationOf(t *testing.T, res *pulumimock.Result) pulumimock.Resource {
	t.Helper()
	rs := res.OfType(tReservation)
	if want := slices.Max(facts.MasterCounts); len(rs) != want {
		t.Fatalf("%d subnet CIDR reservations, want %d: one for each address a master may ever have", len(rs), want)
	}
	r, ok := res.Named(tReservation, "marathon-ha-network-master-address")
	if !ok {
		t.Fatal("no reservation of the first master's address")
	}
	return r
}

// TestMasterAddressIsReserved: the master's fixed address lies in the range
// EC2 assigns the agents' and the ELB's interfaces from, so it is reserved
// ("explicit": AWS never assigns it by itself) before any of them is
// launched, and the master is launched into it by address.
func TestMasterAddressIsReserved(t *testing.T) {
	for _, driver := range []string{"rexray", "flocker"} {
		t.Run(driver, func(t *testing.T) {
			res := run(t, "dev", baseConfig("volumeDriver", driver, "agentCount", "3"))
			r := reservationOf(t, res)
			if r.String("reservationType") != "explicit" {
				t.Errorf("reservation type %q, want explicit: only then does AWS keep the range out of automatic assignment", r.String("reservationType"))
			}
			_, reserved, err := net.ParseCIDR(r.String("cidrBlock"))
			if err != nil || reserved.String() != r.String("cidrBlock") {
				t.Fatalf("reservation %q is not a CIDR written as its network: %v", r.String("cidrBlock"), err)
			}
			_, subnet, _ := net.ParseCIDR(facts.SubnetCIDR)
			master := net.ParseIP(facts.MasterPrivateIP)
			if !reserved.Contains(master) || !subnet.Contains(reserved.IP) {
				t.Errorf("reservation %s must hold the master's %s and lie in the subnet %s", reserved, master, subnet)
			}
			subnets := res.OfType("aws:ec2/subnet:Subnet")
			if len(subnets) != 1 || r.String("subnetId") != subnets[0].Name+"-id" {
				t.Errorf("reservation in subnet %q, want the cluster's subnet", r.String("subnetId"))
			}
			if !strings.HasPrefix(r.Parent, "marathon-ha:index:Network::") {
				t.Errorf("reservation under %q, want the Network", r.Parent)
			}
			if !r.DeleteBeforeReplace {
				t.Error("reservations in a VPC may not overlap: a replacement must delete the old one first")
			}

			// The master alone asks for the address, and keeps asking on a
			// replacement: the old master must go first.
			var masters int
			for _, inst := range res.OfType(tInstance) {
				ip := inst.String("privateIp")
				if ip != "" && reserved.Contains(net.ParseIP(ip)) {
					masters++
					if !inst.DeleteBeforeReplace {
						t.Errorf("%s holds the fixed %s but a replacement would launch before the old one is gone", inst.Name, ip)
					}
					if !strings.HasPrefix(inst.Parent, "marathon-ha:index:Masters::") {
						t.Errorf("%s asks for the reserved %s but is no master", inst.Name, ip)
					}
				}
			}
			if masters != 1 {
				t.Errorf("%d instances ask for an address in %s, want the master alone", masters, reserved)
			}

			// Everything EC2 gives an address in the subnet waits for the
			// reservation; otherwise an agent or the ELB may be launched
			// first and take the master's address.
			// REX-Ray's agents are launched by their Auto Scaling group,
			// which must wait as a fixed agent would.
			dependents := append(append(res.OfType(tInstance), res.OfType(tELB)...), res.OfType(tGroup)...)
			want := "the master, 3 agents and the ELB"
			if driver == "rexray" {
				want = "the master, the agents' group and the ELB"
			}
			if n := len(dependents); driver == "rexray" && n != 1+1+1 || driver == "flocker" && n != 1+3+1 {
				t.Fatalf("%d instances, groups and ELBs, want %s", n, want)
			}
			for _, d := range dependents {
				if !slices.Contains(d.Dependencies, r.Key()) {
					t.Errorf("%s does not wait for the reservation of the master's address: %v", d.Key(), d.Dependencies)
				}
			}
		})
	}
}

// TestMasterAddressFacts keeps the fixed addresses consistent: the master's
// address is a usable host of the subnet (AWS reserves the first four and
// the last address of every subnet, VPC user guide "Subnet CIDR blocks").
func TestMasterAddressFacts(t *testing.T) {
	_, vpc, _ := net.ParseCIDR(facts.VPCCIDR)
	_, subnet, _ := net.ParseCIDR(facts.SubnetCIDR)
	master := net.ParseIP(facts.MasterPrivateIP).To4()
	if !vpc.Contains(subnet.IP) || !subnet.Contains(master) {
		t.Fatalf("master %s, subnet %s, VPC %s do not nest", master, subnet, vpc)
	}
	ones, bits := subnet.Mask.Size()
	offset := int(master[3]) - int(subnet.IP.To4()[3])
	if offset < 4 || offset == 1<<(bits-ones)-1 {
		t.Errorf("master %s is one of the addresses AWS reserves in %s", master, subnet)
	}
	if facts.MasterAddressReservation != facts.MasterPrivateIP+"/32" {
		t.Errorf("reservation %s, want exactly the master's address", facts.MasterAddressReservation)
	}
}
