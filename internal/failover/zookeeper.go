package failover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/stackoutputs"
)

// ZooKeeperState is what the masters' ZooKeepers say of their ensemble:
// each one's Mode (leader, follower, standalone), or why it did not say,
// and the 1-based master whose ZooKeeper leads (0: none says so).
type ZooKeeperState struct {
	Modes  []string
	Leader int
}

// ZooKeeperProbe asks the masters' ZooKeepers once.
type ZooKeeperProbe func(ctx context.Context) (ZooKeeperState, error)

// ZooKeeperAddrs are the masters' ZooKeeper client addresses as the
// operator reaches them: each master's public IP and the client port.
func ZooKeeperAddrs(o stackoutputs.Outputs) []string {
	out := make([]string, len(o.MasterPublicIPs))
	for i, ip := range o.MasterPublicIPs {
		out[i] = net.JoinHostPort(ip, strconv.Itoa(facts.ZooKeeperClientPort))
	}
	return out
}

// NewZooKeeperProbe sends each address (one per master, in order) the
// four-letter word srvr and reads its "Mode:" line (apache/zookeeper
// release-3.4.14 NIOServerCnxn.java, StatCommand; srvr is in the 4lw
// whitelist). A server without a quorum leader answers "This ZooKeeper
// instance is not currently serving requests". ruok is no use: it answers
// imok whatever the quorum. Each exchange is bounded by timeout (default
// 2 s). The error says why no leader was found.
func NewZooKeeperProbe(addrs []string, timeout time.Duration) ZooKeeperProbe {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return func(ctx context.Context) (ZooKeeperState, error) {
		st := ZooKeeperState{Modes: make([]string, len(addrs))}
		var wg sync.WaitGroup
		for i, a := range addrs {
			wg.Add(1)
			go func() { // at once: a lost master holds its dial until the timeout
				defer wg.Done()
				mode, err := srvrMode(ctx, a, timeout)
				if err != nil {
					mode = err.Error()
				}
				st.Modes[i] = mode
			}()
		}
		wg.Wait()
		for i, mode := range st.Modes {
			if mode == "leader" {
				st.Leader = i + 1
			}
		}
		if st.Leader == 0 {
			return st, fmt.Errorf("no ZooKeeper says it leads: %s", strings.Join(st.Modes, "; "))
		}
		return st, nil
	}
}

func srvrMode(ctx context.Context, addr string, timeout time.Duration) (string, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s: %w", addr, err)
	}
	defer conn.Close()
	dl := time.Now().Add(timeout)
	if c, ok := ctx.Deadline(); ok && c.Before(dl) {
		dl = c
	}
	_ = conn.SetDeadline(dl)
	if _, err := io.WriteString(conn, "srvr"); err != nil {
		return "", fmt.Errorf("%s: %w", addr, err)
	}
	b, err := io.ReadAll(io.LimitReader(conn, 64<<10))
	if err != nil && len(b) == 0 {
		return "", fmt.Errorf("%s: %w", addr, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if m, ok := strings.CutPrefix(line, "Mode: "); ok {
			return strings.TrimSpace(m), nil
		}
	}
	text := strings.TrimSpace(string(b))
	if text == "" {
		return "", fmt.Errorf("%s: srvr answered nothing", addr)
	}
	return "", errors.New(addr + ": " + text)
}
