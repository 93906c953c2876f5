package manifest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
)

func TestHealthCheckOf(t *testing.T) {
	hc, ok, err := manifest.HealthCheckOf(apps.MobyCounter)
	if err != nil || !ok || hc != (manifest.HealthCheck{GracePeriod: 60 * time.Second, Interval: 5 * time.Second, MaxConsecutiveFailures: 3}) {
		t.Errorf("the default app's health check: %+v, %v, %v", hc, ok, err)
	}
	// Marathon's defaults for the fields left out.
	hc, ok, err = manifest.HealthCheckOf([]byte(`{"id":"/a","healthChecks":[{"path":"/"}]}`))
	if err != nil || !ok || hc != (manifest.HealthCheck{GracePeriod: 300 * time.Second, Interval: 60 * time.Second, MaxConsecutiveFailures: 3}) {
		t.Errorf("defaults: %+v, %v, %v", hc, ok, err)
	}
	if _, ok, err := manifest.HealthCheckOf([]byte(`{"id":"/a"}`)); ok || err != nil {
		t.Errorf("no health check: %v, %v", ok, err)
	}
	if _, _, err := manifest.HealthCheckOf([]byte(`{"id":"/a","healthChecks":[{"intervalSeconds":2.5}]}`)); err == nil || !strings.Contains(err.Error(), "healthChecks[0].intervalSeconds") {
		t.Errorf("a fractional interval: %v", err)
	}
}
