package failovertest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// zkServer is a master's ZooKeeper as its client port answers the
// four-letter words (apache/zookeeper release-3.4.14
// zookeeper-server/src/main/java/org/apache/zookeeper/server/
// NIOServerCnxn.java checkFourLetterWord): srvr is whitelisted
// (4lw.commands.whitelist) and says "Mode: leader" or "Mode: follower"
// while the server serves, and "This ZooKeeper instance is not currently
// serving requests" while it has no quorum leader (ZK_NOT_SERVING); ruok
// answers imok whatever the quorum. Any other word is refused as
// not whitelisted. A lost master's ZooKeeper refuses connections.
type zkServer struct {
	addr string
	l    net.Listener
	wg   sync.WaitGroup
}

const (
	zkNotServing  = "This ZooKeeper instance is not currently serving requests\n"
	zkVersionLine = "Zookeeper version: 3.4.14-4c25d480e66aadd371de8bd2fd8da255ac140bcf, built on 03/06/2019 16:18 GMT\n"
)

// startZooKeeper serves master i's (0-based) ZooKeeper client port.
func (c *Cluster) startZooKeeper(i int) *zkServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("failovertest: a ZooKeeper port: %v", err))
	}
	z := &zkServer{addr: l.Addr().String(), l: l}
	z.wg.Add(1)
	go func() {
		defer z.wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go c.fourLetterWord(i, conn)
		}
	}()
	return z
}

func (c *Cluster) fourLetterWord(i int, conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	word := make([]byte, 4)
	if _, err := io.ReadFull(bufio.NewReader(conn), word); err != nil {
		return
	}
	c.mu.Lock()
	leader := c.zkLeader
	c.mu.Unlock()
	switch string(word) {
	case "ruok":
		_, _ = io.WriteString(conn, "imok")
	case "srvr":
		if leader < 0 {
			_, _ = io.WriteString(conn, zkNotServing)
			return
		}
		mode := "follower"
		switch {
		case len(c.masters) == 1:
			mode = "standalone" // no ZOO_SERVERS: one server, no quorum (run-zookeeper.tmpl)
		case leader == i:
			mode = "leader"
		}
		_, _ = io.WriteString(conn, zkVersionLine+"Latency min/avg/max: 0/0/3\nReceived: 120\nSent: 119\nConnections: 4\nOutstanding: 0\nZxid: 0x200000031\nMode: "+mode+"\nNode count: 42\n")
	default:
		_, _ = io.WriteString(conn, string(word)+" is not executed because it is not in the whitelist.\n")
	}
}

func (z *zkServer) close() {
	z.l.Close()
	z.wg.Wait()
}
