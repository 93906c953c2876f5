package marathon

import (
	"context"
	"fmt"
	"time"

	gomarathon "github.com/gambol99/go-marathon"
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
	Ports       []int
	Version     string
}

// AppTasks returns the app's tasks (GET /v2/apps/{id}/tasks), retrying
// while Marathon is unreachable or leaderless until ctx ends. An unknown
// app is an error for which IsNotFound is true.
func (c *Client) AppTasks(ctx context.Context, appID string) ([]Task, error) {
	id, err := normalizeID(appID)
	if err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	var tasks []Task
	err = c.retry(ctx, "GET "+c.target("/v2/apps"+id+"/tasks"), func() (err error) {
		tasks, err = c.tasks(id)
		return err
	})
	return tasks, err
}

func (c *Client) tasks(id string) ([]Task, error) {
	var raw *gomarathon.Tasks
	err := c.libCall("GET /v2/apps"+id+"/tasks", func(m gomarathon.Marathon) (err error) {
		raw, err = m.Tasks(id)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Task, 0, len(raw.Tasks))
	for _, t := range raw.Tasks {
		alive := len(t.HealthCheckResults) > 0
		for _, h := range t.HealthCheckResults {
			alive = alive && h != nil && h.Alive
		}
		out = append(out, Task{
			ID: t.ID, AppID: t.AppID, Host: t.Host, SlaveID: t.SlaveID, State: t.State,
			StagedAt: parseTime(t.StagedAt), StartedAt: parseTime(t.StartedAt),
			HealthAlive: alive, Ports: t.Ports, Version: t.Version,
		})
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
