package marathon

import (
	"context"
	"fmt"

	gomarathon "github.com/gambol99/go-marathon"
)

// Delete removes an app (DELETE /v2/apps/{id}?force=true) and waits for the
// deployment that stops its tasks. An app Marathon does not know is already
// deleted. force overrides a deployment in progress: on destroy, a
// deployment that cannot finish (its agents are gone) must not block the
// removal.
func (c *Client) Delete(ctx context.Context, appID string) error {
	id, err := normalizeID(appID)
	if err != nil {
		return fmt.Errorf("deleting an app: %w", err)
	}
	var dep *gomarathon.DeploymentID
	err = c.retry(ctx, "DELETE "+c.target("/v2/apps"+id), func() error {
		return c.libCall("DELETE /v2/apps"+id+"?force=true", func(m gomarathon.Marathon) (err error) {
			dep, err = m.DeleteApplication(id, true)
			return err
		})
	})
	if IsNotFound(err) {
		fmt.Fprintf(c.progress, "app %s is not in Marathon at %s: nothing to delete\n", id, c.URL())
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.progress, "app %s: deletion deployment %s started\n", id, dep.DeploymentID)
	return c.waitDeployments(ctx, id, dep.DeploymentID)
}
