//go:build !unix

package rehearsal

import (
	"os"
	"os/exec"
)

// ownProcessGroup is a no-op where process groups do not exist; a Ctrl-C
// then also reaches pulumi directly.
func ownProcessGroup(*exec.Cmd) {}

// interrupt kills: Windows has no SIGINT to send to another process.
func interrupt(p *os.Process) error { return p.Kill() }
