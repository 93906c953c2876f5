package manifest

import (
	"encoding/json"
	"fmt"
	"time"
)

// HealthCheck is the timing of an app's Marathon health check: how long
// after it runs a task's failures are forgiven, how often it is checked,
// and how many failures in a row make Marathon kill it.
type HealthCheck struct {
	GracePeriod            time.Duration
	Interval               time.Duration
	MaxConsecutiveFailures int
}

// Marathon 1.4.9's defaults of a health check's fields
// (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/core/health/HealthCheck.scala
// DefaultGracePeriod, DefaultInterval, DefaultMaxConsecutiveFailures; the
// API reads a missing field as them: api/v2/json/Formats.scala
// BasicHealthCheckFormatBuilder).
const (
	defaultGracePeriodSeconds     = 300
	defaultIntervalSeconds        = 60
	defaultMaxConsecutiveFailures = 3
)

// HealthCheckOf returns the timing of the app definition's first health
// check, Marathon's defaults for the fields it leaves out; ok is false
// when it has none.
func HealthCheckOf(doc []byte) (hc HealthCheck, ok bool, err error) {
	app, err := decodeObject(doc)
	if err != nil {
		return HealthCheck{}, false, err
	}
	list, _ := app["healthChecks"].([]any)
	if len(list) == 0 {
		return HealthCheck{}, false, nil
	}
	first, isObject := list[0].(map[string]any)
	if !isObject {
		return HealthCheck{}, false, fmt.Errorf("manifest healthChecks[0] is a JSON %s, not an object", jsonKind(list[0]))
	}
	num := func(key string, def int64) (int64, error) {
		v, present := first[key]
		if !present {
			return def, nil
		}
		n, isNum := v.(json.Number)
		i, err := n.Int64()
		if !isNum || err != nil || i < 0 {
			return 0, fmt.Errorf("manifest healthChecks[0].%s is %v, not a whole number of at least 0", key, v)
		}
		return i, nil
	}
	grace, err := num("gracePeriodSeconds", defaultGracePeriodSeconds)
	if err != nil {
		return HealthCheck{}, false, err
	}
	interval, err := num("intervalSeconds", defaultIntervalSeconds)
	if err != nil {
		return HealthCheck{}, false, err
	}
	failures, err := num("maxConsecutiveFailures", defaultMaxConsecutiveFailures)
	if err != nil {
		return HealthCheck{}, false, err
	}
	return HealthCheck{GracePeriod: time.Duration(grace) * time.Second, Interval: time.Duration(interval) * time.Second,
		MaxConsecutiveFailures: int(failures)}, true, nil
}
