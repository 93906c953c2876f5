package facts

import "net/netip"

// Addresses of the cluster's own VPC. One public subnet in one zone holds
// every node, because an EBS volume attaches only in its own zone
// (ClusterHQ/flocker docs/faq/index.rst, "Can Flocker work across
// availability zones").
const (
	VPCCIDR    = "10.42.0.0/16"
	SubnetCIDR = "10.42.1.0/24"
	// MasterPrivateIP is fixed so the agents' user data, the Flocker control
	// certificate and the ZooKeeper address are known before the master
	// exists: no dependency cycle, and the agents boot in parallel with it.
	// AWS reserves .0-.3 and .255 of every subnet (VPC user guide, "Subnet
	// CIDR blocks").
	MasterPrivateIP = "10.42.1.10"
	// MasterAddressReservation keeps MasterPrivateIP free for the master. The
	// agents and the ELB's interfaces take addresses EC2 picks from the
	// subnet, and EC2 could pick this one first (RunInstances then fails
	// with InvalidIPAddress.InUse, on a first `up` or when the master is
	// replaced). An "explicit" subnet CIDR reservation is a range AWS does
	// not assign to network interfaces by itself; it is assigned only when
	// asked for by address, as the master's launch does. It may be created
	// over an address already in use, and deleting it unassigns nothing
	// (VPC user guide, "Subnet CIDR reservations",
	// https://docs.aws.amazon.com/vpc/latest/userguide/subnet-cidr-reservation.html;
	// EC2 API CreateSubnetCidrReservation, ReservationType "explicit").
	MasterAddressReservation = MasterPrivateIP + "/32"
)

// MasterPrivateIPs are the fixed private addresses of a cluster of n
// masters (n one of MasterCounts): n consecutive addresses from
// MasterPrivateIP, master i at MasterPrivateIP + i - 1 (10.42.1.10 to
// 10.42.1.14 for five). All lie in SubnetCIDR and clear of the addresses AWS
// reserves in it (.0-.3 and .255). The first master is the one of a
// one-master cluster: the addresses of earlier stacks do not move.
func MasterPrivateIPs(n int) []string {
	first := netip.MustParseAddr(MasterPrivateIP)
	ips := make([]string, n)
	for i, a := 0, first; i < n; i, a = i+1, a.Next() {
		ips[i] = a.String()
	}
	return ips
}

// MasterAddressReservationOf is the explicit subnet CIDR reservation that
// keeps one master's address free for it (MasterAddressReservation says
// why): the address alone, /32. Each master has its own rather than one
// block covering all: a CIDR block is aligned, so three or five addresses
// from .10 would need the /29 .8-.15 and withhold up to five addresses the
// masters never use; and the first master's reservation stays the one a
// one-master stack already has, so raising masterCount only adds some.
func MasterAddressReservationOf(ip string) string { return ip + "/32" }

// SSHUser is the login of Ubuntu's cloud images (cloud-images.ubuntu.com).
const SSHUser = "ubuntu"

// InstanceMetadataAddress is EC2's instance metadata service (IMDS), which
// hands out the instance role's credentials (AWS EC2 User Guide,
// "Instance metadata and user data").
const InstanceMetadataAddress = "169.254.169.254"
