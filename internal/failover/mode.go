package failover

import "fmt"

// Mode is how the agent is killed.
type Mode string

const (
	// ModeCrash terminates with SkipOsShutdown=true: the instance stops
	// like a machine that lost power, nothing is flushed or unmounted, and
	// Mesos, the volume driver and the ELB find out on their own. It is the
	// default because a crash is what high availability is for.
	ModeCrash Mode = "crash"
	// ModeGraceful terminates with the API's default OS shutdown, as the
	// 2015 demo did: systemd stops Docker and the Mesos agent, the volume
	// is unmounted and flushed, and the app serves until then.
	ModeGraceful Mode = "graceful"
	// ModePartition terminates nothing: it swaps the agent's security
	// groups for a drill group that lets in only the ELB on the app port
	// and lets nothing out (ec2ops.Isolate), so the agent is cut off from
	// the masters while the ELB still reaches it, and heals it after a
	// while. The agent's self-fence and the masters' fencer must then do
	// the rest: the fencer terminates it (docs/fencing.md).
	ModePartition Mode = "partition"
)

// Modes are the kill modes, the default first.
var Modes = []Mode{ModeCrash, ModeGraceful, ModePartition}

// ParseMode reads a --mode flag.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("mode %q: want %s (TerminateInstances with SkipOsShutdown, the default), %s (the API's default OS shutdown, as in the 2015 demo) or %s (cut the agent off from the masters through its security groups; the fence terminates it)",
		s, ModeCrash, ModeGraceful, ModePartition)
}

// SkipOSShutdown is the TerminateInstances SkipOsShutdown parameter of the
// mode.
func (m Mode) SkipOSShutdown() bool { return m == ModeCrash }

// Describe says what the mode does to the instance.
func (m Mode) Describe() string {
	if m == ModePartition {
		return "partition: ModifyInstanceAttribute swaps the agent's security groups for a drill group that admits only the ELB on the app port and lets nothing out; the masters lose it, the fence terminates it"
	}
	if m == ModeGraceful {
		return "graceful: TerminateInstances with the default OS shutdown (the app serves until Docker is stopped; the volume is flushed and unmounted)"
	}
	return "crash: TerminateInstances with SkipOsShutdown=true (no OS shutdown; unflushed writes are lost)"
}
