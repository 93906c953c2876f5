package marathon_test

import (
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/marathon/marathontest"
)

// After a failover Marathon 1.4.9 lists the lost task as TASK_UNREACHABLE
// beside its replacement until its expunge job runs (the stand-in lists it
// first). A rerun of Apply must name the running, healthy replacement.
func TestApplyAfterFailoverNamesTheReplacement(t *testing.T) {
	opts := fast
	opts.DetectionDelay = 10 * time.Millisecond
	s := marathontest.NewServer(opts)
	defer s.Close()
	s.AddAgent("10.42.1.20")
	c := newClient(t, s.URL(), &progress{})
	doc := rendered(t, nil)
	if _, err := c.Apply(ctxTimeout(t, 5*time.Second), doc); err != nil {
		t.Fatal(err)
	}
	s.AddAgent("10.42.1.21")
	s.KillAgent("10.42.1.20")
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts := s.Tasks(facts.AppID)
		if len(ts) == 2 && ts[0].State == marathontest.TaskUnreachable && ts[1].State == marathontest.TaskRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replacement beside the unreachable task: %+v", ts)
		}
		time.Sleep(time.Millisecond)
	}
	res, err := c.Apply(ctxTimeout(t, 5*time.Second), doc)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || res.TaskHost != "10.42.1.21" {
		t.Errorf("Apply after the failover = %+v, want no change and the task on 10.42.1.21", res)
	}
	tasks, err := c.AppTasks(ctxTimeout(t, time.Second), facts.AppID)
	if err != nil || len(tasks) != 2 || tasks[0].State != "TASK_UNREACHABLE" || tasks[0].StartedAt.IsZero() || tasks[0].Host != "10.42.1.20" {
		t.Errorf("AppTasks = %+v, %v; want the unreachable task with its host and startedAt listed first", tasks, err)
	}
}
