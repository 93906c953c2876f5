package marathon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	gomarathon "github.com/gambol99/go-marathon"
)

// Result is what Apply did and where the app's task runs.
type Result struct {
	AppID string
	// Version is the app's version in Marathon after Apply.
	Version string
	// DeploymentID is the deployment Apply started; empty if none.
	DeploymentID string
	// TaskHost and TaskID name the running (and, with health checks,
	// healthy) task: the host is the Mesos agent's hostname.
	TaskHost, TaskID string
	// Changed is false when Marathon already had the manifest's fields and
	// no deployment was made.
	Changed bool
}

// Apply creates or updates the app of an app-definition manifest with PUT
// /v2/apps/{id}, retrying while the app is locked by another deployment
// (409) or Marathon has no leader (5xx), waits for the deployment to finish,
// then for a running task that passes its health checks. When Marathon
// already holds every field the manifest sets, it makes no deployment and
// only waits for the task. Marathon 1.4's PUT only changes the fields it is
// given, so a field removed from the manifest keeps its old value.
func (c *Client) Apply(ctx context.Context, manifest []byte) (Result, error) {
	desired, id, err := decodeManifest(manifest)
	if err != nil {
		return Result{}, err
	}
	res := Result{AppID: id}
	current, err := c.rawApp(ctx, id)
	if err != nil {
		return res, err
	}
	if current != nil && subset(desired, current) {
		res.Version, _ = current["version"].(string)
		fmt.Fprintf(c.progress, "app %s in Marathon at %s already has this definition (version %s): no deployment\n", id, c.URL(), res.Version)
	} else {
		if res.DeploymentID, res.Version, err = c.put(ctx, id, manifest); err != nil {
			return res, err
		}
		res.Changed = true
		fmt.Fprintf(c.progress, "app %s: deployment %s started (version %s)\n", id, res.DeploymentID, res.Version)
	}
	if err := c.waitDeployments(ctx, id, res.DeploymentID); err != nil {
		return res, err
	}
	t, err := c.waitTask(ctx, id, hasHealthChecks(desired))
	if err != nil {
		return res, err
	}
	res.TaskHost, res.TaskID = t.Host, t.ID
	fmt.Fprintf(c.progress, "app %s: task %s running on %s\n", id, t.ID, t.Host)
	return res, nil
}

// decodeManifest decodes an app definition, numbers as json.Number, with
// its id made absolute.
func decodeManifest(manifest []byte) (map[string]any, string, error) {
	dec := json.NewDecoder(bytes.NewReader(manifest))
	dec.UseNumber()
	var app map[string]any
	if err := dec.Decode(&app); err != nil {
		return nil, "", fmt.Errorf("reading the app manifest: %w", err)
	}
	id, err := normalizeID(fmt.Sprint(app["id"]))
	if _, ok := app["id"].(string); !ok || err != nil {
		return nil, "", errors.New("reading the app manifest: it has no \"id\"")
	}
	app["id"] = id
	return app, id, nil
}

// normalizeID makes an app id absolute, as Marathon does.
func normalizeID(id string) (string, error) {
	if strings.Trim(id, "/") == "" {
		return "", fmt.Errorf("app id %q is empty", id)
	}
	return "/" + strings.Trim(id, "/"), nil
}

func hasHealthChecks(app map[string]any) bool {
	hc, _ := app["healthChecks"].([]any)
	return len(hc) > 0
}

// rawApp returns the app as Marathon holds it, or nil if Marathon does not
// know it. It reads raw JSON: go-marathon's Application would drop the
// fields it does not know and make every comparison differ.
func (c *Client) rawApp(ctx context.Context, id string) (map[string]any, error) {
	var app map[string]any
	err := c.retry(ctx, "GET "+c.target("/v2/apps"+id), func() error {
		body, u, err := c.do(ctx, http.MethodGet, "/v2/apps"+id, nil)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var wrapper struct {
			App map[string]any `json:"app"`
		}
		if err := dec.Decode(&wrapper); err != nil || wrapper.App == nil {
			return fmt.Errorf("GET %s: the answer is not an app: %.200s", u, body)
		}
		app = wrapper.App
		return nil
	})
	if IsNotFound(err) {
		return nil, nil
	}
	return app, err
}

// put sends the manifest as it is to PUT /v2/apps/{id}, without force: a
// deployment in progress is waited out, not overridden.
func (c *Client) put(ctx context.Context, id string, manifest []byte) (deploymentID, version string, err error) {
	err = c.retry(ctx, "PUT "+c.target("/v2/apps"+id), func() error {
		body, _, err := c.do(ctx, http.MethodPut, "/v2/apps"+id, manifest)
		if err != nil {
			return err
		}
		var d struct {
			DeploymentID string `json:"deploymentId"`
			Version      string `json:"version"`
		}
		// Marathon before 1.0 answered a creating PUT with the app
		// (mesosphere/marathon#1180): then there is no id to wait on, and
		// waitDeployments watches the app's deployments instead.
		_ = json.Unmarshal(body, &d)
		deploymentID, version = d.DeploymentID, d.Version
		return nil
	})
	return deploymentID, version, err
}

// waitDeployments waits until deployment id is gone from GET
// /v2/deployments or, when id is empty, until no deployment affects the
// app.
func (c *Client) waitDeployments(ctx context.Context, appID, id string) error {
	what := fmt.Sprintf("waiting for the deployments of app %s (GET %s)", appID, c.target("/v2/deployments"))
	if id != "" {
		what = fmt.Sprintf("waiting for deployment %s of app %s (GET %s)", id, appID, c.target("/v2/deployments"))
	}
	err := c.poll(ctx, what, func() (bool, string, error) {
		var deps []*gomarathon.Deployment
		err := c.libCall("GET /v2/deployments", func(m gomarathon.Marathon) (err error) {
			deps, err = m.Deployments()
			return err
		})
		if err != nil {
			return false, "", err
		}
		var open []string
		for _, d := range deps {
			if (id != "" && d.ID == id) || (id == "" && contains(d.AffectedApps, appID)) {
				open = append(open, describeDeployment(d))
			}
		}
		if len(open) == 0 {
			return true, "", nil
		}
		sort.Strings(open)
		return false, strings.Join(open, "; "), nil
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w; Marathon cannot place the task: check that an agent in the app's zone offers its cpus, mem and host port (Marathon UI, the app's queue and last task failure)", err)
	}
	return err
}

func describeDeployment(d *gomarathon.Deployment) string {
	var actions []string
	for _, a := range d.CurrentActions {
		actions = append(actions, a.Action+" "+a.App)
	}
	return fmt.Sprintf("deployment %s at step %d/%d (%s)", d.ID, d.CurrentStep, d.TotalSteps, strings.Join(actions, ", "))
}

// waitTask waits for a running task of the app; with health checks, one
// whose every check is alive.
func (c *Client) waitTask(ctx context.Context, appID string, healthChecked bool) (Task, error) {
	var found Task
	what := fmt.Sprintf("waiting for a running task of app %s (GET %s)", appID, c.target("/v2/apps"+appID+"/tasks"))
	err := c.poll(ctx, what, func() (bool, string, error) {
		tasks, err := c.tasks(ctx, appID)
		if err != nil {
			return false, "", err
		}
		var states []string
		for _, t := range tasks {
			if t.State == "TASK_RUNNING" && (!healthChecked || t.HealthAlive) {
				found = t
				return true, "", nil
			}
			s := fmt.Sprintf("task %s on %s is %s", t.ID, t.Host, t.State)
			if t.State == "TASK_RUNNING" {
				s += ", health checks not passed yet"
			}
			states = append(states, s)
		}
		if len(states) == 0 {
			return false, "no task yet", nil
		}
		return false, strings.Join(states, "; "), nil
	})
	return found, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
