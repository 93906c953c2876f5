package failover_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/failover"
)

// srvrServer answers one four-letter word per connection with answer,
// after checking the word is srvr.
func srvrServer(t *testing.T, answer string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			word := make([]byte, 4)
			if _, err := io.ReadFull(c, word); err == nil && string(word) == "srvr" {
				_, _ = io.WriteString(c, answer)
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// The probe reads each server's Mode line; a server without a quorum
// leader, or gone, says why; the leader is the one saying "leader".
func TestZooKeeperProbeReadsEachServersMode(t *testing.T) {
	const version = "Zookeeper version: 3.4.14-4c25d480e66aadd371de8bd2fd8da255ac140bcf, built on 03/06/2019 16:18 GMT\n"
	follower := srvrServer(t, version+"Zxid: 0x200000031\nMode: follower\nNode count: 42\n")
	leader := srvrServer(t, version+"Zxid: 0x200000031\nMode: leader\nNode count: 42\n")
	notServing := srvrServer(t, "This ZooKeeper instance is not currently serving requests\n")
	gone, _ := net.Listen("tcp", "127.0.0.1:0")
	goneAddr := gone.Addr().String()
	gone.Close()

	probe := failover.NewZooKeeperProbe([]string{follower, leader, notServing}, time.Second)
	st, err := probe(context.Background())
	if err != nil || st.Leader != 2 || st.Modes[0] != "follower" || st.Modes[1] != "leader" || !strings.Contains(st.Modes[2], "not currently serving") {
		t.Errorf("state %+v, %v: want master 2 leading, 1 following, 3 not serving", st, err)
	}
	st, err = failover.NewZooKeeperProbe([]string{follower, notServing, goneAddr}, time.Second)(context.Background())
	if err == nil || st.Leader != 0 || !strings.Contains(err.Error(), "no ZooKeeper says it leads") || !strings.Contains(st.Modes[2], "refused") {
		t.Errorf("state %+v, %v: want no leader, and the lost server's refusal", st, err)
	}
}
