package components

import (
	"strings"
)

// AWS name limits this package respects.
const (
	// maxELBName: classic ELB names are at most 32 characters of letters,
	// digits and hyphens, not starting or ending with a hyphen
	// (CreateLoadBalancer API reference, LoadBalancerName).
	maxELBName = 32
	// maxRoleNamePrefix: the AWS provider caps name_prefix of an IAM role
	// at 38 characters (64 minus its 26-character unique suffix).
	maxRoleNamePrefix = 38
	// maxNamePrefix is what we allow for other prefixes (security groups,
	// key pairs, instance profiles: 255, 255 and 128 characters) so names stay readable.
	maxNamePrefix = 64
)

// dnsLabel lower-cases s and keeps letters, digits and single hyphens.
func dnsLabel(s string) string {
	var b strings.Builder
	hyphen := true // drop leading hyphens
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			hyphen = false
		case !hyphen:
			b.WriteByte('-')
			hyphen = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// fit joins a stack name and a fixed tail, truncating the stack part so the
// result is at most max characters. The tail (which holds the random cluster
// id) is never cut, so names stay unique however long the stack name is.
func fit(stack, tail string, max int) string {
	room := max - len(tail) - 1
	s := dnsLabel(stack)
	if room <= 0 || s == "" {
		return tail
	}
	if len(s) > room {
		s = strings.TrimRight(s[:room], "-")
	}
	return s + "-" + tail
}

// ELBName is the classic ELB's name: "<stack>-<cluster id>", at most 32
// characters.
func ELBName(stack, clusterID string) string {
	return fit(stack, clusterID, maxELBName)
}

// NamePrefix is the name prefix of a security group, key pair or instance
// profile: "<stack>-<cluster id>-<role>-"; AWS appends a unique suffix.
func NamePrefix(stack, clusterID, role string) string {
	return fit(stack, clusterID+"-"+role, maxNamePrefix-1) + "-"
}

// RoleNamePrefix is NamePrefix within the IAM role limit.
func RoleNamePrefix(stack, clusterID, role string) string {
	return fit(stack, clusterID+"-"+role, maxRoleNamePrefix-1) + "-"
}

// SSMPrefix is the Parameter Store path under which a role's secrets live;
// the role's instance profile may read only below it.
func SSMPrefix(clusterID, role string) string {
	return "/" + "marathon-ha/" + clusterID + "/" + role
}

// VolumeName is the Docker volume of the app, unique per cluster because
// volume names share the account's namespace (mesosphere/marathon
// docs/docs/external-volumes.md) and REX-Ray names the EBS volume after it.
func VolumeName(clusterID string) string {
	return clusterID + "-moby-counter"
}
