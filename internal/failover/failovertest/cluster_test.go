package failovertest_test

import (
	"context"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/failover/failovertest"
)

func TestStartServesTheApp(t *testing.T) {
	c, err := failovertest.Start(failovertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.App().Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := c.TaskHost(), c.Agents()[0].Host; got != want {
		t.Errorf("task host %s, want %s", got, want)
	}
}
