package facts

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
)

// SSHUser is the login of Ubuntu's cloud images (cloud-images.ubuntu.com).
const SSHUser = "ubuntu"

// InstanceMetadataAddress is EC2's instance metadata service (IMDS), which
// hands out the instance role's credentials (AWS EC2 User Guide,
// "Instance metadata and user data").
const InstanceMetadataAddress = "169.254.169.254"
