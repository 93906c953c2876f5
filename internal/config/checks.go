package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// MinOperatorPrefixBits is the broadest operatorCidr taken without
// operatorCidrIsWide: a /16 is already 65,536 addresses, an office or a
// cloud region's NAT range; anything broader opens SSH and Marathon's
// unauthenticated API (it has no auth in the 1.4 line unless a plugin adds
// it) to a share of the internet.
const MinOperatorPrefixBits = 16

// checkOperatorCIDRBreadth refuses an operatorCidr broader than
// MinOperatorPrefixBits unless operatorCidrIsWide says it is meant. The
// CIDR is already known to parse (checkOperatorCIDR).
func (c Config) checkOperatorCIDRBreadth() error {
	p := netip.MustParsePrefix(c.OperatorCIDR)
	if p.Bits() >= MinOperatorPrefixBits || c.WideOperatorCIDR {
		return nil
	}
	return bad(KeyOperatorCIDR, c.OperatorCIDR,
		"is broader than /%d: it opens SSH and the unauthenticated Marathon API to %s addresses; use your own address (e.g. 203.0.113.7/32), or set %s:%s true if this range is meant",
		MinOperatorPrefixBits, addressCount(p.Bits()), facts.Project, KeyOperatorCIDRIsWide)
}

// addressCount is 2^(32-bits) in words a reader can weigh.
func addressCount(bits int) string {
	n := uint64(1) << (32 - bits)
	if n >= 1<<20 {
		return fmt.Sprintf("about %d million", n/1_000_000)
	}
	return strconv.FormatUint(n, 10)
}

// zooKeeperTagRE is a 3.4.x tag of a ZooKeeper image, with any suffix
// (3.4.14, 3.4.14-alpine).
var zooKeeperTagRE = regexp.MustCompile(`^3\.4\.[0-9]+([-._][A-Za-z0-9._-]*)?$`)

// checkZooKeeperImage keeps ZooKeeper on the 3.4 line. The 3.5 images
// change what the masters' user data hands them: ZOO_SERVERS entries gain
// the client port ("server.1=localhost:2888:3888;2181", 31z4/zookeeper-docker
// 3.5.10/docker-entrypoint.sh at 80d975e) where run-zookeeper writes the 3.4
// form, and they start the AdminServer (ZOO_ADMINSERVER_ENABLED=true,
// EXPOSE 8080 in 3.5.10/Dockerfile; ZooKeeper 3.5 admin.serverPort default
// 8080), which takes Marathon's port on the same host (facts.MarathonPort).
// A digest hides the version, so the reference must carry a 3.4.x tag.
func checkZooKeeperImage(ref string) error {
	if !imageRE.MatchString(ref) {
		return nil // reported as not pinned
	}
	_, tag, hasTag := cutTag(ref)
	if hasTag && zooKeeperTagRE.MatchString(tag) {
		return nil
	}
	return bad(KeyZooKeeperImage, ref,
		"must be a ZooKeeper 3.4.x image tagged with its version, e.g. %s: 3.5 and newer change ZOO_SERVERS' format and start an AdminServer on port %d, Marathon's, on every master",
		facts.ZooKeeperImage, facts.MarathonPort)
}

// cutTag splits repository:tag; a digest reference has no tag. The colon
// of a registry's port (registry:5000/zookeeper) is not a tag.
func cutTag(ref string) (repository, tag string, ok bool) {
	if strings.Contains(ref, "@") {
		return ref, "", false
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ref, "", false
	}
	return ref[:i], ref[i+1:], true
}

// xenFamilies are the instance families not built on the Nitro System, whose
// EBS volumes appear as /dev/xvd* rather than NVMe devices (AWS, "Instances
// built on the AWS Nitro System", docs.aws.amazon.com/ec2/latest/instancetypes/ec2-nitro-instances.html).
var xenFamilies = []string{"c1", "c3", "c4", "d2", "f1", "g2", "g3", "h1", "i2", "i3", "m1", "m2", "m3", "m4", "p2", "p3", "r3", "r4", "t1", "t2", "x1", "x1e"}

// checkNitroAgents refuses a Nitro agent type with either volume driver.
//
// Flocker's EBS backend knows only /dev/xvd* names (flocker/node/agents/ebs.py).
//
// REX-Ray 0.11.4 finds an attached volume on a Nitro host only through an
// alias: its executor reads the device name from `nvme id-ctrl` and keeps the
// device only if that name exists under /dev (rexray v0.11.4
// libstorage/drivers/storage/ebs/executor/ebs_executor.go LocalDevices,
// fileExists), which takes the udev rule and script of its docs
// (.docs/user-guide/storage-providers/aws.md, "NVMe Support"); Ubuntu 20.04
// has neither. We refuse rather than install them: the alias would need
// nvme-cli, a udev rule and a helper script on every agent, none of which can
// be exercised here (no udev, no NVMe device, no Docker), and when it fails
// REX-Ray only logs "device does not match" and the app's attach times out,
// so an untested alias is worse than a refusal at preview. Masters attach no
// volume and may be any type.
func (c Config) checkNitroAgents() error {
	if !instanceTypeRE.MatchString(c.AgentInstanceType) {
		return nil // reported as malformed
	}
	family, _, _ := strings.Cut(c.AgentInstanceType, ".")
	if slices.Contains(xenFamilies, family) {
		return nil
	}
	why := map[string]string{
		facts.VolumeDriverFlocker: "which Flocker's EBS backend cannot use",
		facts.VolumeDriverRexRay:  "whose EBS volumes REX-Ray 0.11.4 finds only through a udev alias Ubuntu 20.04 lacks (docs/preflight.md)",
	}[c.VolumeDriver]
	if why == "" {
		return nil // the driver is reported as unknown
	}
	return bad(KeyAgentInstanceType, c.AgentInstanceType,
		"is a Nitro (NVMe) type, %s; pick a Xen type such as m4.large, c4.large or t2.large (masters may be Nitro)", why)
}
