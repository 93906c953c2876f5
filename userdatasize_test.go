package main

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/pulumimock"
)

// incompressibleImage is an image reference both config and userdata accept
// (neither caps its length) whose path is n pseudo-random characters, which
// gzip cannot shrink below about 5.2 bits each.
func incompressibleImage(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return "registry.example.com/" + string(b) + ":1.4.1"
}

// TestOversizedUserDataFailsBeforeAnyResource: a new stack's preview does
// not know the random cluster id the user data is rendered with, so the
// size is checked with a placeholder id before anything is registered; an
// oversized document must not surface halfway through `pulumi up`, after
// the VPC and IAM roles exist.
func TestOversizedUserDataFailsBeforeAnyResource(t *testing.T) {
	huge := incompressibleImage(40000) // about 26 KB gzipped, over 16 KiB
	for _, tt := range []struct {
		name, key, want string
	}{
		{"master", "marathonImage", "master user data"}, // zookeeperImage must carry a 3.4.x tag (internal/config checks.go)
		{"agents", "mesosAgentImage", "agent 1 user data"},
	} {
		for _, preview := range []bool{true, false} {
			t.Run(tt.name, func(t *testing.T) {
				res, err := pulumimock.Run(program, pulumimock.NewMocks(), "dev", baseConfig(tt.key, huge), preview)
				if err == nil {
					t.Fatalf("preview=%v: a %d-character %s was accepted", preview, len(huge), tt.key)
				}
				for _, want := range []string{tt.want, "placeholder cluster id", "over the EC2 limit of 16384"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("preview=%v: error %q lacks %q", preview, err, want)
					}
				}
				for _, r := range res.Resources {
					t.Errorf("preview=%v: %s was registered before the size check failed", preview, r.Key())
				}
			})
		}
	}
}
