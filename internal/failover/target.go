package failover

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/ec2ops"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon"
	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// Target is the agent a failover kills: the app's task, the Mesos agent's
// host it runs on, the stack's EC2 instance behind that host, and the app's
// EBS volume attached to it ("" when none was found).
type Target struct {
	AppID      string `json:"appId"`
	TaskID     string `json:"taskId"`
	Host       string `json:"host"`
	InstanceID string `json:"instanceId"`
	PrivateIP  string `json:"privateIp"`
	VolumeID   string `json:"volumeId,omitempty"`
}

// Scope is the stack identity that decides which instances may be
// terminated: its stack and cluster id outputs.
func Scope(o stackoutputs.Outputs) ec2ops.Scope {
	return ec2ops.Scope{Stack: o.Stack, ClusterID: o.ClusterID}
}

// FindTarget asks Marathon which agent runs o.AppID's task and maps its
// host (the Mesos agent's --hostname is its private IP, see
// userdata/templates/run-mesos-agent.tmpl) to the stack's EC2 instance with
// ec2ops, refusing instances without this stack's tags
// (ec2ops.ErrNotInScope). Marathon calls are retried while Marathon is
// unreachable or leaderless until ctx ends, so bound ctx.
func FindTarget(ctx context.Context, m *marathon.Client, e *ec2ops.Client, o stackoutputs.Outputs) (Target, error) {
	t, _, err := FindTargetInstance(ctx, m, e, o)
	return t, err
}

// FindTargetInstance is FindTarget that also returns the EC2 instance as
// described, with its tags and state, for a tool to show before it kills.
func FindTargetInstance(ctx context.Context, m *marathon.Client, e *ec2ops.Client, o stackoutputs.Outputs) (Target, ec2ops.Instance, error) {
	if m == nil || e == nil || o.AppID == "" {
		return Target{}, ec2ops.Instance{}, errors.New("finding the agent to kill: a Marathon client, an EC2 client and the stack output appId are required")
	}
	tasks, err := m.AppTasks(ctx, o.AppID)
	if err != nil {
		return Target{}, ec2ops.Instance{}, marathonError(m.URL(), o.AppID, err)
	}

	task, err := runningTask(tasks, o.AppID, m.URL())
	if err != nil {
		return Target{}, ec2ops.Instance{}, err
	}
	in, err := e.FindByPrivateIP(ctx, Scope(o), task.Host)
	if err != nil {
		return Target{}, ec2ops.Instance{}, fmt.Errorf("mapping the host %s of task %s to an EC2 agent of stack %q: %w", task.Host, task.ID, o.Stack, err)
	}
	vol, err := appVolume(ctx, e, o, in.ID)
	if err != nil {
		return Target{}, ec2ops.Instance{}, err
	}
	return Target{AppID: o.AppID, TaskID: task.ID, Host: task.Host, InstanceID: in.ID, PrivateIP: in.PrivateIP, VolumeID: vol}, in, nil
}

// appVolume returns the app's EBS volume among those attached to the
// instance: the one its volume driver tagged (REX-Ray: Name=<volume name>,
// the stack output volumeName; Flocker: a flocker-cluster-id tag, whose
// value the outputs do not carry), never a volume deleted with the
// instance. "" when there is none, or more than one.
func appVolume(ctx context.Context, e *ec2ops.Client, o stackoutputs.Outputs, instanceID string) (string, error) {
	vols, err := e.AttachedVolumes(ctx, instanceID)
	if err != nil {
		return "", fmt.Errorf("finding the app's volume on instance %s: %w", instanceID, err)
	}
	var ids []string
	for _, v := range vols {
		if v.DeleteOnTermination {
			continue // the root volume
		}
		switch o.VolumeDriver {
		case facts.VolumeDriverRexRay:
			if o.VolumeName == "" || v.Tags[facts.TagName] != o.VolumeName {
				continue
			}
		case facts.VolumeDriverFlocker:
			if _, ok := v.Tags[facts.TagFlockerClusterID]; !ok {
				continue
			}
		default:
			continue
		}
		ids = append(ids, v.ID)
	}
	if len(ids) != 1 {
		return "", nil
	}
	return ids[0], nil
}

// marathonError explains a failed Marathon call of the tools: an
// unreachable Marathon is most often the security group, which opens the
// API only to the stack's operatorCidr.
func marathonError(url, appID string, err error) error {
	var apiErr *marathon.APIError
	if errors.As(err, &apiErr) && apiErr.Status == 0 || errors.Is(err, context.DeadlineExceeded) {
		why := ""
		if !errors.As(err, &apiErr) {
			// The context ended between attempts: say what one more
			// attempt meets.
			why = " (" + probe(url) + ")"
		}
		return fmt.Errorf("asking Marathon at %s which agent runs %s: Marathon is unreachable: %w%s; check that the master is running and that the stack's operatorCidr config includes this machine's public address (port %d is open only to it)",
			url, appID, err, why, facts.MarathonPort)
	}
	if marathon.IsNotFound(err) {
		return fmt.Errorf("asking Marathon at %s which agent runs %s: Marathon does not know the app: %w; deploy it with `pulumi up` first", url, appID, err)
	}
	return fmt.Errorf("asking Marathon at %s which agent runs %s: %w", url, appID, err)
}

// probeTimeout bounds probe's one request.
const probeTimeout = 3 * time.Second

// probe makes one GET /v2/info and describes how it failed.
func probe(url string) string {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v2/info", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s", probeTimeout)
	case err != nil:
		return err.Error()
	}
	resp.Body.Close()
	return "GET /v2/info now answers " + resp.Status
}

// runningTask picks the app's one running task: with a single-writer
// volume the app has one instance, so more than one is refused rather than
// guessed between.
func runningTask(tasks []marathon.Task, appID, url string) (marathon.Task, error) {
	var running []marathon.Task
	var states []string
	for _, t := range tasks {
		states = append(states, t.ID+" "+t.State+" on "+t.Host)
		if t.State == "TASK_RUNNING" {
			running = append(running, t)
		}
	}
	switch {
	case len(running) == 1 && running[0].Host != "":
		return running[0], nil
	case len(running) > 1:
		return marathon.Task{}, fmt.Errorf("app %s has %d running tasks in Marathon at %s (%s): it should have one, beside its single-writer volume; refusing to guess which agent to kill",
			appID, len(running), url, strings.Join(states, ", "))
	case len(tasks) == 0:
		return marathon.Task{}, fmt.Errorf("app %s has no task in Marathon at %s: nothing to fail over; wait for its deployment (or run `pulumi up`)", appID, url)
	}
	return marathon.Task{}, fmt.Errorf("app %s has no running task in Marathon at %s (%s): a failover is already under way or the app is not healthy; wait until it runs",
		appID, url, strings.Join(states, ", "))
}

// KillCheckTimeout bounds Kill's re-reading of Marathon and the ELB just
// before the terminate: Marathon answers in milliseconds once it has a
// leader, an election takes a few seconds; past it nothing is terminated.
const KillCheckTimeout = 10 * time.Second

// Kill terminates t's instance (scope from o) as mode says: a crash
// (SkipOsShutdown) or the API's graceful default. Immediately before
// TerminateInstances it checks that t is still the app's agent: Marathon
// (m) lists the app's one running task as t's task on t's host, and the
// ELB (lb) has t's instance, and no other, in service. A target chosen
// before the clicks and the page-cache wait may be stale by then (the app
// moved, or is moving); Kill then refuses, says what changed, and
// terminates nothing. ec2ops checks the instance's tags again before
// terminating. It returns once EC2 accepted the terminate, with the time
// taken just before the request: the failover's clock starts there, not
// when the answer came.
func Kill(ctx context.Context, m *marathon.Client, e *ec2ops.Client, lb *mobycounter.LoadBalancer, o stackoutputs.Outputs, t Target, mode Mode) (requestedAt time.Time, err error) {
	if m == nil || e == nil || lb == nil || t.InstanceID == "" || t.TaskID == "" || t.Host == "" {
		return time.Time{}, errors.New("killing the agent: a Marathon client, an EC2 client, the ELB and a target with its instance, task and host are required (use FindTarget)")
	}
	if _, err := ParseMode(string(mode)); err != nil {
		return time.Time{}, fmt.Errorf("killing the agent %s: %w", t.Host, err)
	}
	if mode == ModePartition {
		return time.Time{}, fmt.Errorf("killing the agent %s: mode %s terminates nothing: run it with RunPartition", t.Host, mode)
	}
	if err := checkTarget(ctx, m, lb, t); err != nil {
		return time.Time{}, fmt.Errorf("not killing the agent %s (instance %s): %w: nothing terminated", t.Host, t.InstanceID, err)
	}
	at, err := e.TerminateWith(ctx, Scope(o), t.InstanceID, ec2ops.TerminateOptions{SkipOSShutdown: mode.SkipOSShutdown()})
	if err != nil {
		return time.Time{}, fmt.Errorf("killing the agent %s that runs %s: %w", t.Host, t.AppID, err)
	}
	if at.IsZero() {
		return time.Time{}, fmt.Errorf("killing the agent %s that runs %s: instance %s is already shutting down or terminated; nothing was sent, so there is no failover of ours to measure",
			t.Host, t.AppID, t.InstanceID)
	}
	return at, nil
}

// checkTarget re-reads the app's tasks and the ELB's instance health and
// says why t is no longer the agent to kill, or nil.
func checkTarget(ctx context.Context, m *marathon.Client, lb *mobycounter.LoadBalancer, t Target) error {
	ctx, cancel := context.WithTimeout(ctx, KillCheckTimeout)
	defer cancel()
	tasks, err := m.AppTasks(ctx, t.AppID)
	if err != nil {
		return fmt.Errorf("app %s: Marathon could not confirm it still runs there: %w", t.AppID, err)
	}
	var running, states []string
	var moved *marathon.Task
	for i, task := range tasks {
		states = append(states, task.ID+" "+task.State+" on "+task.Host)
		if task.State != "TASK_RUNNING" {
			continue
		}
		running = append(running, task.ID)
		if task.Host != t.Host {
			moved = &tasks[i]
		}
	}
	switch {
	case len(running) > 1:
		return fmt.Errorf("app %s has %d running tasks now (%s): refusing to guess which agent to kill", t.AppID, len(running), strings.Join(states, ", "))
	case moved != nil:
		return fmt.Errorf("the app moved to %s (task %s) since the target was chosen; run again to target its new agent", moved.Host, moved.ID)
	case len(running) == 0:
		return fmt.Errorf("app %s has no running task now (%s): a failover is already under way", t.AppID, orNone(states))
	case running[0] != t.TaskID:
		return fmt.Errorf("the app's task on %s is now %s, not %s that was chosen: Marathon restarted it; run again", t.Host, running[0], t.TaskID)
	}
	health, err := lb.Health(ctx)
	if err != nil {
		return fmt.Errorf("the ELB's instance health could not confirm that %s serves the app: %w", t.InstanceID, err)
	}
	switch st := mobycounter.StateOf(health, t.InstanceID); st {
	case mobycounter.InService:
	case "":
		return fmt.Errorf("the ELB does not list instance %s: the app is not served from it", t.InstanceID)
	default:
		return fmt.Errorf("the ELB has instance %s %s, not %s: the app is not served from it", t.InstanceID, st, mobycounter.InService)
	}
	if !mobycounter.OnlyInService(health, t.InstanceID) {
		var others []string
		for _, h := range health {
			if h.InstanceID != t.InstanceID && h.State == mobycounter.InService {
				others = append(others, h.InstanceID)
			}
		}
		return fmt.Errorf("the ELB has %s in service beside %s: the app may answer from there too", strings.Join(others, ", "), t.InstanceID)
	}
	return nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
