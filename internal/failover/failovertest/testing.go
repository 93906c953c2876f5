package failovertest

import (
	"bytes"
	"sync"
	"testing"
)

// StartT starts a cluster for a test and closes it when the test ends,
// failing the test if the harness itself went wrong meanwhile.
func StartT(t testing.TB, opts Options) *Cluster {
	t.Helper()
	c, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Err(); err != nil {
			t.Errorf("harness: %v", err)
		}
		c.Close()
	})
	return c
}

// Progress collects the progress lines of a watch or a rehearsal, whose
// loops write concurrently. OnWrite, if set, sees every write as it
// happens, so a test can act on a step (cancel at a given event, say).
type Progress struct {
	OnWrite func(string)

	mu sync.Mutex
	b  bytes.Buffer
}

func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	n, err := p.b.Write(b)
	hook := p.OnWrite
	p.mu.Unlock()
	if hook != nil {
		hook(string(b))
	}
	return n, err
}

// String returns everything written so far.
func (p *Progress) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.String()
}
