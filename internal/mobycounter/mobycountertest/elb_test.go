package mobycountertest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter/mobycountertest"
)

func status(t *testing.T, e *mobycountertest.ELB) int {
	t.Helper()
	err := mobycounter.New(e.URL).Ping(context.Background())
	if err == nil {
		return http.StatusOK
	}
	var se *mobycounter.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("ping through the ELB: %v", err)
	}
	return se.Status
}

// With health checks stepped by hand (interval 0), a backend comes into
// service after `healthy` passing checks and leaves it after `unhealthy`
// failing ones; meanwhile the ELB answers 503, then 502 for a dead backend.
func TestELBHealthCheckTransitions(t *testing.T) {
	e := mobycountertest.NewELB(mobycountertest.WithHealthCheck(0, 2, 2))
	defer e.Close()
	if got := status(t, e); got != http.StatusServiceUnavailable {
		t.Errorf("no backend: %d, want 503", got)
	}
	app, err := mobycountertest.NewServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetBackend(app.URL); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name      string
		check     bool
		inService bool
		status    int
	}{
		{"registered, not yet checked", false, false, http.StatusServiceUnavailable},
		{"one passing check", true, false, http.StatusServiceUnavailable},
		{"two passing checks", true, true, http.StatusOK},
	}
	for _, s := range steps {
		if s.check {
			e.CheckNow()
		}
		if e.InService() != s.inService || status(t, e) != s.status {
			t.Errorf("%s: in service %v, status %d; want %v, %d", s.name, e.InService(), status(t, e), s.inService, s.status)
		}
	}
	app.Close()
	if got := status(t, e); got != http.StatusBadGateway {
		t.Errorf("backend dead, still in service: %d, want 502", got)
	}
	e.CheckNow()
	if !e.InService() {
		t.Error("out of service after one failed check, want two")
	}
	e.CheckNow()
	if e.InService() || status(t, e) != http.StatusServiceUnavailable {
		t.Errorf("after two failed checks: in service %v, status %d", e.InService(), status(t, e))
	}
	// A new backend starts out of service, whatever the old one's record.
	app2, err := mobycountertest.NewServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app2.Close()
	if err := e.SetBackend(app2.URL); err != nil {
		t.Fatal(err)
	}
	e.CheckNow()
	e.CheckNow()
	if !e.InService() || status(t, e) != http.StatusOK {
		t.Errorf("new backend after two checks: in service %v", e.InService())
	}
}

func TestELBWithoutHealthChecksServesAtOnce(t *testing.T) {
	e := mobycountertest.NewELB()
	defer e.Close()
	app, err := mobycountertest.NewServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := e.SetBackend(app.URL); err != nil {
		t.Fatal(err)
	}
	if got := status(t, e); got != http.StatusOK {
		t.Errorf("status %d, want 200", got)
	}
	if err := e.SetBackend(""); err != nil {
		t.Fatal(err)
	}
	if got := status(t, e); got != http.StatusServiceUnavailable {
		t.Errorf("deregistered: %d, want 503", got)
	}
}
