package main

import (
	"fmt"
	"strings"

	"github.com/marathon-ha/marathon-ha/internal/bootbudget"
	"github.com/marathon-ha/marathon-ha/internal/bootlog"
	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// firstBootWait says, while masters of a cluster of several wait to be
// ready and others are not up yet, that a first boot waits for all of them
// and why, naming the masters not up and where their boots stand: "" when
// that is not the case. A master is up once its boot has reached the
// readiness wait. Mesos's empty replicated log initialises only when every
// one of its 2*quorum-1 replicas answers (facts.MesosLogReplicas), so no
// master can be ready before the last one starts its services.
func (w *bootWatch) firstBootWait() string {
	var masters, waiting, notUp []string
	for _, n := range w.nodes {
		if bootbudget.RoleOf(n.name) != facts.RoleMaster {
			continue
		}
		masters = append(masters, n.name)
		s := w.seen[n.name]
		switch {
		case s != nil && s.timeline.State == bootlog.Done:
		case s != nil && s.timeline.State == bootlog.Running && reachedWait(s.timeline):
			waiting = append(waiting, n.name)
		default:
			msg := "not seen yet"
			if s != nil {
				msg = s.msg
			}
			notUp = append(notUp, n.name+" ("+msg+")")
		}
	}
	if len(masters) < 2 || len(waiting) == 0 || len(notUp) == 0 {
		return ""
	}
	replicas := facts.MesosLogReplicas(facts.MasterQuorum(len(masters)))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s for every master: the first boot of %d masters needs all %d up, as Mesos's empty replicated log initialises only when all %d replicas (2·quorum−1) answer (apache/mesos 1.4.1 src/log/recover.cpp); not up yet: %s",
		strings.Join(waiting, ", "), plural(len(waiting), "waits", "wait"), len(masters), len(masters), replicas, strings.Join(notUp, ", "))
	if why := lastReadyWait(w.seen[waiting[0]].console.Text); why != "" {
		fmt.Fprintf(&b, "; %s's last check: %s", waiting[0], why)
	}
	return b.String()
}

// reachedWait reports whether a boot has started its readiness wait.
func reachedWait(tl bootlog.Timeline) bool {
	for _, s := range tl.Steps {
		if s.Name == facts.ReadyWaitStep {
			return true
		}
	}
	return false
}

// lastReadyWait is what the last readiness line of a console found not
// ready: the checks that failed, from the line the boot's wait logs every
// minute.
func lastReadyWait(console string) string {
	i := strings.LastIndex(console, facts.ReadyWaitLog)
	if i < 0 {
		return ""
	}
	line, _, _ := strings.Cut(console[i:], "\n")
	_, checks, ok := strings.Cut(line, " checks: ")
	if !ok {
		return ""
	}
	var failed []string
	for _, part := range strings.Split(checks, facts.ReadyFailedPrefix)[1:] {
		// Each failed check runs to the next "ok: " or the end.
		if j := strings.Index(part, " ok: "); j >= 0 {
			part = part[:j]
		}
		failed = append(failed, strings.TrimSpace(part))
	}
	return strings.Join(failed, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
