package userdata

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// entrypoints are the image entrypoints that write configuration before
// the program starts, run by the fake docker as the image would run them,
// so a test reads back what the program would read and the fake refuses
// what the program would refuse.
var entrypoints = map[string]struct {
	path   string // the ENTRYPOINT (images.json)
	source string
	run    func(r dockerRun, img imageConfig) error
}{
	"zookeeper:3.4.14": {"/docker-entrypoint.sh", "31z4/zookeeper-docker 3.4.14/docker-entrypoint.sh@95e63be; apache/zookeeper release-3.4.14 QuorumPeerConfig.java, QuorumPeer.java", zooKeeperEntrypoint},
}

// marathonZKURL is Marathon 1.4.9's ZKUrlPattern, which its --zk must
// match (mesosphere/marathon v1.4.9
// src/main/scala/mesosphere/marathon/ZookeeperConf.scala:92-97, with Scala's
// [A-z] kept: it also admits [\]^_` between the cases).
var marathonZKURL = regexp.MustCompile(`^zk://(?:([^/:]+):([^@]+)@)?([A-z0-9-.]+(?::\d+)?(?:,[A-z0-9-.]+(?::\d+)?)*)(/[^/]+(?:/[^/]+)*)$`)

// containerDir is where the fake keeps a container's own filesystem (what
// no volume holds): fresh for every `docker run --rm`, as the container is.
func containerDir(name string) string {
	return filepath.Join(os.Getenv("MHA_ROOT"), "var/lib/fake-docker/containers", name)
}

// hostPath maps a path inside the container to where it lands: under a
// -v host:container volume on the host, else in the container's own
// filesystem.
func (r dockerRun) hostPath(inside string) string {
	for _, v := range append(r.opts["-v"], r.opts["--volume"]...) {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			continue
		}
		if rel, ok := strings.CutPrefix(inside, parts[1]+"/"); ok {
			return filepath.Join(os.Getenv("MHA_ROOT"), parts[0], rel)
		}
	}
	name := "unnamed"
	if n := r.opts["--name"]; len(n) > 0 {
		name = n[len(n)-1]
	}
	return filepath.Join(containerDir(name), inside)
}

// zooKeeperConfigPath is where the fake's zookeeper:3.4.14 entrypoint
// leaves zoo.cfg on a node root (in the container's own filesystem), for
// the boot tests; myid lands in the host's data volume.
func zooKeeperConfigPath(root, container string) string {
	return filepath.Join(root, "var/lib/fake-docker/containers", container, "conf/zoo.cfg")
}

// zooKeeperEntrypoint does what 31z4/zookeeper-docker
// 3.4.14/docker-entrypoint.sh@95e63be does before `exec zkServer.sh
// start-foreground`, then checks the result as ZooKeeper 3.4.14 reads it.
//
// Lines 12-35: unless $ZOO_CONF_DIR/zoo.cfg exists (it never does in a new
// container: /conf is no volume), write clientPort=2181, dataDir, dataLogDir,
// tickTime, initLimit, syncLimit, autopurge.*, maxClientCnxns, then one line
// per word of $ZOO_SERVERS and of $ZOO_CFG_EXTRA (unquoted `for x in $VAR`:
// split on blanks). Lines 37-39: unless $ZOO_DATA_DIR/myid exists, write
// ${ZOO_MY_ID:-1} to it.
func zooKeeperEntrypoint(r dockerRun, img imageConfig) error {
	env := zooKeeperEnv(r, img)
	cfg := r.hostPath(path.Join(env["ZOO_CONF_DIR"], "zoo.cfg"))
	if _, err := os.Stat(cfg); errors.Is(err, os.ErrNotExist) {
		lines := []string{
			"clientPort=2181",
			"dataDir=" + env["ZOO_DATA_DIR"],
			"dataLogDir=" + env["ZOO_DATA_LOG_DIR"],
			"tickTime=" + env["ZOO_TICK_TIME"],
			"initLimit=" + env["ZOO_INIT_LIMIT"],
			"syncLimit=" + env["ZOO_SYNC_LIMIT"],
			"autopurge.snapRetainCount=" + env["ZOO_AUTOPURGE_SNAPRETAINCOUNT"],
			"autopurge.purgeInterval=" + env["ZOO_AUTOPURGE_PURGEINTERVAL"],
			"maxClientCnxns=" + env["ZOO_MAX_CLIENT_CNXNS"],
		}
		lines = append(lines, strings.Fields(env["ZOO_SERVERS"])...)
		lines = append(lines, strings.Fields(env["ZOO_CFG_EXTRA"])...)
		if err := writeFile(cfg, strings.Join(lines, "\n")+"\n"); err != nil {
			return err
		}
	}
	myid := r.hostPath(path.Join(env["ZOO_DATA_DIR"], "myid"))
	if _, err := os.Stat(myid); errors.Is(err, os.ErrNotExist) {
		id := env["ZOO_MY_ID"]
		if id == "" {
			id = "1"
		}
		if err := writeFile(myid, id+"\n"); err != nil {
			return err
		}
	}
	return checkZooKeeperConfig(cfg, myid)
}

// zooKeeperEnv is the entrypoint's environment: the image's ENV, with the
// run's -e over it.
func zooKeeperEnv(r dockerRun, img imageConfig) map[string]string {
	env := map[string]string{}
	for k, v := range img.EnvDefaults {
		env[k] = v
	}
	for k, v := range r.env {
		env[k] = v
	}
	return env
}

func writeFile(p, content string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), 0o644)
}

// checkZooKeeperConfig refuses a zoo.cfg and myid that ZooKeeper 3.4.14
// refuses or silently ignores (apache/zookeeper release-3.4.14
// zookeeper-server/src/main/java/org/apache/zookeeper/server/quorum/):
//   - a server.N value not host:port:port (QuorumPeerConfig.parseProperties
//     splits it on ':' and parses the ports; an ensemble needs the
//     election port: "Missing election port for server");
//   - a single server line, which ZooKeeper ignores and runs standalone
//     ("Invalid configuration, only one server specified (ignoring)"): a
//     setting that does nothing;
//   - with two or more servers, initLimit or syncLimit unset, a missing or
//     non-numeric myid ("serverid ... is not a number"), or a myid that is
//     not among the servers (QuorumPeer.java:719, "My id N not in the peer
//     list"); the admin guide wants ids from 1 to 255 (zookeeperAdmin.md,
//     "The myid file").
func checkZooKeeperConfig(cfg, myidPath string) error {
	raw, err := os.ReadFile(cfg)
	if err != nil {
		return err
	}
	props := map[string]string{}
	servers := map[int]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("zoo.cfg line %q is not key=value", line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		props[k] = v
		if id, isServer := strings.CutPrefix(k, "server."); isServer {
			sid, err := strconv.Atoi(id)
			if err != nil {
				return fmt.Errorf("zoo.cfg %s: server id %q is not a number", k, id)
			}
			parts := strings.Split(v, ":")
			if len(parts) != 3 {
				return fmt.Errorf("zoo.cfg %s=%s: want host:peerPort:electionPort (an ensemble needs the election port)", k, v)
			}
			for _, p := range parts[1:] {
				if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
					return fmt.Errorf("zoo.cfg %s=%s: port %q is not a port", k, v, p)
				}
			}
			servers[sid] = v
		}
	}
	for _, k := range []string{"clientPort", "dataDir", "tickTime"} {
		if props[k] == "" || props[k] == "0" {
			return fmt.Errorf("zoo.cfg: %s is not set", k)
		}
	}
	switch len(servers) {
	case 0:
		return nil // standalone
	case 1:
		return errors.New("zoo.cfg has a single server line, which ZooKeeper ignores (\"Invalid configuration, only one server specified (ignoring)\") and runs standalone: leave ZOO_SERVERS unset for one server")
	}
	for _, k := range []string{"initLimit", "syncLimit"} {
		if props[k] == "" || props[k] == "0" {
			return fmt.Errorf("zoo.cfg: %s is not set", k)
		}
	}
	raw, err = os.ReadFile(myidPath)
	if err != nil {
		return fmt.Errorf("%s file is missing", myidPath)
	}
	myid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return fmt.Errorf("serverid %q is not a number", strings.TrimSpace(string(raw)))
	}
	if myid < 1 || myid > 255 {
		return fmt.Errorf("myid %d: the admin guide wants 1 to 255", myid)
	}
	if _, ok := servers[myid]; !ok {
		return fmt.Errorf("My id %d not in the peer list", myid)
	}
	return nil
}
