package marathon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Task is one Marathon task of an app.
type Task struct {
	ID, AppID string
	// Host is the Mesos agent's hostname (on this cluster its private IP).
	Host    string
	SlaveID string
	// State is Mesos's task state, e.g. TASK_STAGING, TASK_RUNNING,
	// TASK_UNREACHABLE.
	State string
	// StagedAt and StartedAt are zero until Marathon reports them.
	StagedAt, StartedAt time.Time
	// HealthAlive is true when the task has health-check results and all
	// of them are alive.
	HealthAlive bool
	// Health is the task's healthCheckResults, one per health check that
	// has a result; empty before the first.
	Health  []HealthResult
	Ports   []int
	Version string
}

// HealthResult is one entry of a task's healthCheckResults, as Marathon
// 1.4.9 writes a Health (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/api/v2/json/Formats.scala HealthWrites;
// core/health/Health.scala: alive is a last success later than the last
// failure). A check whose failures are ignored in the grace period has a
// result with no success and no failure: not alive.
type HealthResult struct {
	Alive               bool
	ConsecutiveFailures int
	FirstSuccess        time.Time
	LastSuccess         time.Time
	LastFailure         time.Time
	LastFailureCause    string
}

// AppTasks returns the app's tasks (GET /v2/apps/{id}/tasks), retrying
// while Marathon is unreachable or leaderless until ctx ends. An unknown
// app is an error for which IsNotFound is true.
//
// Every request is made with ctx (net/http), not through go-marathon,
// whose v0.7.1 builds its requests without a context (client.go
// buildAPIRequest: http.NewRequest) and serialises its calls through one
// client (libCall): a stalled Marathon would hold a caller for the whole
// HTTP timeout, and every caller behind it. Here ctx's deadline ends the
// request, and the next attempt goes to the next Marathon.
func (c *Client) AppTasks(ctx context.Context, appID string) ([]Task, error) {
	id, err := normalizeID(appID)
	if err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	var tasks []Task
	err = c.retry(ctx, "GET "+c.target("/v2/apps"+id+"/tasks"), func() (err error) {
		tasks, err = c.tasks(ctx, id)
		return err
	})
	return tasks, err
}

// tasksJSON is the answer of GET /v2/apps/{id}/tasks as Marathon 1.4.9
// writes it (Formats.scala EnrichedTaskWrites, TaskWrites, HealthWrites).
type tasksJSON struct {
	Tasks []struct {
		ID                 string `json:"id"`
		AppID              string `json:"appId"`
		Host               string `json:"host"`
		SlaveID            string `json:"slaveId"`
		State              string `json:"state"`
		StagedAt           string `json:"stagedAt"`
		StartedAt          string `json:"startedAt"`
		Ports              []int  `json:"ports"`
		Version            string `json:"version"`
		HealthCheckResults []struct {
			Alive               bool   `json:"alive"`
			ConsecutiveFailures int    `json:"consecutiveFailures"`
			FirstSuccess        string `json:"firstSuccess"`
			LastSuccess         string `json:"lastSuccess"`
			LastFailure         string `json:"lastFailure"`
			LastFailureCause    string `json:"lastFailureCause"`
		} `json:"healthCheckResults"`
	} `json:"tasks"`
}

func (c *Client) tasks(ctx context.Context, id string) ([]Task, error) {
	body, u, err := c.do(ctx, http.MethodGet, "/v2/apps"+id+"/tasks", nil)
	if err != nil {
		return nil, err
	}
	var raw tasksJSON
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("GET %s: the answer is not Marathon's task list: %w: %.200s", u, err, body)
	}
	out := make([]Task, 0, len(raw.Tasks))
	for _, t := range raw.Tasks {
		task := Task{
			ID: t.ID, AppID: t.AppID, Host: t.Host, SlaveID: t.SlaveID, State: t.State,
			StagedAt: parseTime(t.StagedAt), StartedAt: parseTime(t.StartedAt),
			HealthAlive: len(t.HealthCheckResults) > 0, Ports: t.Ports, Version: t.Version,
		}
		for _, h := range t.HealthCheckResults {
			task.HealthAlive = task.HealthAlive && h.Alive
			task.Health = append(task.Health, HealthResult{Alive: h.Alive, ConsecutiveFailures: h.ConsecutiveFailures,
				FirstSuccess: parseTime(h.FirstSuccess), LastSuccess: parseTime(h.LastSuccess),
				LastFailure: parseTime(h.LastFailure), LastFailureCause: h.LastFailureCause})
		}
		out = append(out, task)
	}
	return out, nil
}

// parseTime reads Marathon's ISO 8601 timestamps; empty or bad is zero.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
