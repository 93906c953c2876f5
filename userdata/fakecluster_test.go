package userdata

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The fake cluster answers the readiness probes (ZooKeeper's four-letter
// words through nc, Mesos's and Marathon's HTTP through curl) the way the
// pinned releases would, from what the fake docker has started: every
// `docker run` of zookeeper, mesos-master or marathon registers the service
// under the node's address in a directory all the nodes of one test share
// (FAKE_CLUSTER; the node's own root when a test boots one node). A service
// answers only while its registration is there, so a test kills a master by
// removing its directory. Like the fake docker, the fake cluster is this
// test binary, run as "fake-cluster" (TestMain); the shell fakes hand it
// the calls it models.
//
// What it models, each rule with its source:
//   - ZooKeeper 3.4.14 (apache/zookeeper release-3.4.14,
//     zookeeper-server/src/main/java/org/apache/zookeeper/server/): the
//     client port is open from the start, election or not (QuorumPeer.start
//     starts the connection factory first); ruok always answers imok
//     (NIOServerCnxn.java RuokCommand); srvr answers "This ZooKeeper
//     instance is not currently serving requests" unless the server runs,
//     else the stats ending "Mode: <getState()>" (StatCommand,
//     ServerStats.toString); wchc and wchp are off the default whitelist
//     and srvr always on it (ServerCnxn.isEnabled); an unknown word is read
//     as a packet length and gets no answer (checkFourLetterWord). An
//     ensemble serves once a majority of its servers run (a quorum, as
//     QuorumMaj.containsQuorum); its leader is the running server of the
//     highest id, which wins FastLeaderElection.totalOrderPredicate when
//     epochs and zxids tie, as in a new ensemble.
//   - Mesos 1.4.1 (apache/mesos 1.4.1): masters contend in ZooKeeper and
//     the earliest contender leads (src/master/contender/zookeeper.cpp, a
//     sequential znode; the detector takes the lowest); /redirect answers
//     307 to //leader:port or 503 "No leader elected"; /master/state and
//     /api/v1 from a master that does not lead redirect there
//     (src/master/http.cpp redirect, state, api); the leader refuses
//     /api/v1 with 503 "Master has not finished recovery" until its
//     registrar has recovered from the replicated log, then checks method,
//     Content-Type, the JSON body and Accept in that order (api, lines
//     611-685). The log recovers once a quorum of replicas vote; an empty
//     log first needs every one of its 2*quorum-1 replicas (src/log/recover.cpp
//     two-phase auto-initialisation), which the fake remembers once seen.
//   - Marathon 1.4.9 (mesosphere/marathon v1.4.9): the Marathons contend in
//     ZooKeeper (the earliest leads); the leader proxy filter runs on every
//     path: the leader answers, another Marathon forwards to it, and with no
//     leader it waits 11 x 250 ms before a 503 "Could not determine the
//     current leader" (api/LeaderProxyFilter.scala; a curl --max-time below
//     the wait times out instead); /v2/leader names the leader as
//     --hostname:--http_port (api/v2/LeaderResource.scala; ModuleNames.HOST_PORT).
// Anything else (another word, path, curl option) is refused as unmodelled
// rather than answered kindly.

// clusterDir is the network the fake services share.
func clusterDir() string {
	if d := os.Getenv("FAKE_CLUSTER"); d != "" {
		return d
	}
	return filepath.Join(os.Getenv("MHA_ROOT"), "var/lib/fake-cluster")
}

// fakeService is one registered service.
type fakeService struct {
	Name string   `json:"name"` // zookeeper, mesos-master or marathon
	IP   string   `json:"ip"`
	Seq  int64    `json:"seq"` // when it started: the earliest contender leads
	Argv []string `json:"argv"`
	// A ZooKeeper's server id and its ensemble (id to address); none when
	// it runs standalone.
	MyID    int            `json:"myid"`
	Servers map[int]string `json:"servers"`
}

// registeredServices are the containers the fake cluster answers for.
var registeredServices = []string{"zookeeper", "mesos-master", "marathon"}

// registerService records a started service of the node (FAKE_PRIVATE_IP).
func registerService(r dockerRun, argv []string, img imageConfig) error {
	names := r.opts["--name"]
	if len(names) == 0 || !slices.Contains(registeredServices, names[len(names)-1]) {
		return nil
	}
	s := fakeService{Name: names[len(names)-1], IP: os.Getenv("FAKE_PRIVATE_IP"), Seq: time.Now().UnixNano(), Argv: argv}
	if s.IP == "" {
		return nil // a bare fake daemon (contracts_test.go): no node, no network
	}
	if s.Name == "zookeeper" {
		env := zooKeeperEnv(r, img)
		var err error
		if s.MyID, s.Servers, err = readZooKeeperConfig(r.hostPath(path.Join(env["ZOO_CONF_DIR"], "zoo.cfg")), r.hostPath(path.Join(env["ZOO_DATA_DIR"], "myid"))); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(clusterDir(), s.IP, s.Name+".json"), string(raw))
}

// readZooKeeperConfig reads myid and the server lines' addresses.
func readZooKeeperConfig(cfg, myidPath string) (int, map[int]string, error) {
	raw, err := os.ReadFile(cfg)
	if err != nil {
		return 0, nil, err
	}
	servers := map[int]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		if id, ok := strings.CutPrefix(k, "server."); ok {
			sid, _ := strconv.Atoi(id)
			host, _, _ := strings.Cut(v, ":")
			servers[sid] = host
		}
	}
	myid := 1
	if raw, err := os.ReadFile(myidPath); err == nil {
		myid, _ = strconv.Atoi(strings.TrimSpace(string(raw)))
	}
	return myid, servers, nil
}

// fakeCluster is a view of the registered services.
type fakeCluster struct {
	dir      string
	services []fakeService
}

func loadCluster() (*fakeCluster, error) {
	c := &fakeCluster{dir: clusterDir()}
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var s fakeService
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		c.services = append(c.services, s)
		return nil
	})
	slices.SortFunc(c.services, func(a, b fakeService) int { return int(a.Seq - b.Seq) })
	return c, err
}

func (c *fakeCluster) find(name, ip string) (fakeService, bool) {
	for _, s := range c.services {
		if s.Name == name && s.IP == ip {
			return s, true
		}
	}
	return fakeService{}, false
}

// zooKeeperMode is the getState() of the ZooKeeper at ip, "" while it does
// not serve; ok is false when none runs there.
func (c *fakeCluster) zooKeeperMode(ip string) (mode string, ok bool) {
	zk, ok := c.find("zookeeper", ip)
	if !ok {
		return "", false
	}
	if len(zk.Servers) == 0 {
		return facts.ZooKeeperModeStandalone, true
	}
	leader, up := 0, 0
	for sid, host := range zk.Servers {
		if peer, ok := c.find("zookeeper", host); ok && peer.MyID == sid {
			up++
			leader = max(leader, sid)
		}
	}
	switch {
	case 2*up <= len(zk.Servers):
		return "", true
	case leader == zk.MyID:
		return facts.ZooKeeperModeLeader, true
	}
	return facts.ZooKeeperModeFollower, true
}

// zooKeeperServes reports whether a client of zk://host:port,.../path
// finds a server that serves.
func (c *fakeCluster) zooKeeperServes(zkURL string) bool {
	hosts, _, _ := strings.Cut(strings.TrimPrefix(zkURL, "zk://"), "/")
	for _, h := range strings.Split(hosts, ",") {
		host, _, _ := strings.Cut(h, ":")
		if mode, _ := c.zooKeeperMode(host); mode != "" {
			return true
		}
	}
	return false
}

// contenders are the services of a name whose ZooKeeper serves, earliest
// first; the first leads.
func (c *fakeCluster) contenders(name string) []fakeService {
	var out []fakeService
	for _, s := range c.services {
		if zk, _ := flagValue(s.Argv, "zk"); s.Name == name && c.zooKeeperServes(zk) {
			out = append(out, s)
		}
	}
	return out
}

// mesosRecovered reports whether the leading Mesos master's registrar can
// recover: an initialised log needs a quorum of replicas, an empty one all
// 2*quorum-1 of them at once (recorded: the log stays initialised).
func (c *fakeCluster) mesosRecovered(leader fakeService, replicas int) (bool, error) {
	q, err := strconv.Atoi(must(flagValue(leader.Argv, "quorum")))
	if err != nil {
		return false, fmt.Errorf("fake cluster: mesos-master --quorum: %w", err)
	}
	marker := filepath.Join(c.dir, "mesos-log-initialised")
	if _, err := os.Stat(marker); err == nil {
		return replicas >= q, nil
	}
	if replicas < facts.MesosLogReplicas(q) {
		return false, nil
	}
	return true, writeFile(marker, "")
}

func must(v string, _ bool) string { return v }

// fakeClusterMain runs "fake-cluster nc ..." or "fake-cluster curl ...".
func fakeClusterMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "fake-cluster: want nc or curl")
		return 2
	}
	c, err := loadCluster()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake-cluster:", err)
		return 2
	}
	switch args[0] {
	case "nc":
		return c.nc(args[1:], os.Stdin, os.Stdout, os.Stderr)
	case "curl":
		return c.curl(args[1:], os.Stdout, os.Stderr)
	}
	fmt.Fprintf(os.Stderr, "fake-cluster: no model of %s\n", args[0])
	return 2
}

// zooKeeperWords are ZooKeeper 3.4.14's four-letter words (ServerCnxn.java
// cmd2String).
var zooKeeperWords = []string{"conf", "cons", "crst", "dump", "envi", "gtmk", "ruok", "stmk", "srst", "srvr", "stat", "wchc", "wchp", "wchs", "mntr", "isro"}

// nc models `nc [-w N] host 2181` with a four-letter word on stdin.
func (c *fakeCluster) nc(args []string, in io.Reader, out, errOut io.Writer) int {
	if len(args) == 4 && args[0] == "-w" {
		args = args[2:]
	}
	if len(args) != 2 || args[1] != strconv.Itoa(facts.ZooKeeperClientPort) {
		fmt.Fprintf(errOut, "fake nc: no model of nc %s\n", strings.Join(args, " "))
		return 2
	}
	mode, running := c.zooKeeperMode(args[0])
	if !running {
		return 1 // connection refused; nc says nothing without -v
	}
	raw, _ := io.ReadAll(in)
	word := string(raw)
	switch {
	case !slices.Contains(zooKeeperWords, word):
		return 0 // read as a request's length: no answer
	case word == "wchc" || word == "wchp":
		fmt.Fprintf(out, "%s is not executed because it is not in the whitelist.\n", word)
	case word == "ruok":
		fmt.Fprint(out, "imok")
	case word == facts.ZooKeeperStatusWord && mode == "":
		fmt.Fprintln(out, facts.ZooKeeperNotServing)
	case word == facts.ZooKeeperStatusWord:
		// The version line's build stamp is illustrative (the commit is
		// release-3.4.14's); the check reads only the Mode line.
		fmt.Fprintf(out, "Zookeeper version: 3.4.14-4c25d480e66aadd371de8bd2fd8da255ac140bcf, built on 03/06/2019 16:18 GMT\n"+
			"Latency min/avg/max: 0/0/0\nReceived: 1\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x100000000\n%s%s\nNode count: 4\n",
			facts.ZooKeeperModePrefix, mode)
	default:
		fmt.Fprintf(errOut, "fake nc: no model of ZooKeeper's %q\n", word)
		return 2
	}
	return 0
}

// curlRequest is a parsed curl command line.
type curlRequest struct {
	fail, silent, showError, follow bool
	maxTime                         time.Duration
	method, body, writeOut, output  string
	headers                         map[string]string
	url                             string
}

// parseCurl reads the options the scripts use (curl(1)); any other is
// refused.
func parseCurl(args []string) (curlRequest, error) {
	r := curlRequest{headers: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s: requires parameter", a)
			}
			i++
			return args[i], nil
		}
		var err error
		switch {
		case a == "--max-time" || a == "-m":
			var v string
			if v, err = value(); err == nil {
				var secs float64
				secs, err = strconv.ParseFloat(v, 64)
				r.maxTime = time.Duration(secs * float64(time.Second))
			}
		case a == "-w":
			r.writeOut, err = value()
		case a == "-o":
			r.output, err = value()
		case a == "-X":
			r.method, err = value()
		case a == "-d":
			r.body, err = value()
		case a == "-H":
			var h string
			if h, err = value(); err == nil {
				k, v, _ := strings.Cut(h, ":")
				r.headers[strings.ToLower(k)] = strings.TrimSpace(v)
			}
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Trim(a[1:], "fsSL") == "":
			r.fail = r.fail || strings.Contains(a, "f")
			r.silent = r.silent || strings.Contains(a, "s")
			r.showError = r.showError || strings.Contains(a, "S")
			r.follow = r.follow || strings.Contains(a, "L")
		case strings.HasPrefix(a, "-"):
			return r, fmt.Errorf("fake curl: no model of option %s", a)
		default:
			if r.url != "" {
				return r, fmt.Errorf("fake curl: two URLs, %s and %s", r.url, a)
			}
			r.url = a
		}
		if err != nil {
			return r, err
		}
	}
	if r.method == "" {
		r.method = "GET"
		if r.body != "" {
			r.method = "POST" // -d posts (curl(1))
		}
	}
	return r, nil
}

// httpAnswer is one HTTP response, or a curl error (code 0, exit set).
type httpAnswer struct {
	code           int
	body, location string
	exit           int
	err            string
}

// curl models one curl command against the fake services.
func (c *fakeCluster) curl(args []string, stdout, stderr io.Writer) int {
	r, err := parseCurl(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	target := r.url
	var a httpAnswer
	for redirects := 0; ; redirects++ {
		a, err = c.answer(r, target)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		if !r.follow || a.location == "" || a.code/100 != 3 || redirects == 50 {
			break
		}
		// A 307 is followed with the same method and body (curl(1), -L);
		// Mesos's Location is protocol-relative.
		u, _ := url.Parse(target)
		next, err := u.Parse(a.location)
		if err != nil {
			fmt.Fprintf(stderr, "fake curl: Location %q: %v\n", a.location, err)
			return 2
		}
		target = next.String()
	}
	switch {
	case a.exit != 0:
		if !r.silent || r.showError {
			fmt.Fprintln(stderr, a.err)
		}
	case r.fail && a.code >= 400:
		a.exit = 22
		if !r.silent || r.showError {
			fmt.Fprintf(stderr, "curl: (22) The requested URL returned error: %d\n", a.code)
		}
	case r.output != "":
		if err := os.WriteFile(r.output, []byte(a.body), 0o644); err != nil {
			fmt.Fprintln(stderr, err)
			return 23
		}
	default:
		fmt.Fprint(stdout, a.body)
	}
	if r.writeOut != "" {
		code := fmt.Sprintf("%03d", a.code)
		w := strings.NewReplacer(`\n`, "\n", "%{http_code}", code, "%{url_effective}", target).Replace(r.writeOut)
		if strings.Contains(w, "%{") {
			fmt.Fprintf(stderr, "fake curl: no model of -w %q\n", r.writeOut)
			return 2
		}
		fmt.Fprint(stdout, w)
	}
	return a.exit
}

// answer is what the service at url answers r.
func (c *fakeCluster) answer(r curlRequest, target string) (httpAnswer, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" {
		return httpAnswer{}, fmt.Errorf("fake curl: no model of URL %q", target)
	}
	host, port := u.Hostname(), u.Port()
	if host == "127.0.0.1" || host == "localhost" {
		// The services listen on every address (--net=host).
		host = os.Getenv("FAKE_PRIVATE_IP")
	}
	refused := httpAnswer{exit: 7, err: fmt.Sprintf("curl: (7) Failed to connect to %s port %s: Connection refused", host, port)}
	switch port {
	case strconv.Itoa(facts.MesosMasterPort):
		m, ok := c.find("mesos-master", host)
		if !ok {
			return refused, nil
		}
		return c.mesos(m, r, u.Path)
	case strconv.Itoa(facts.MarathonPort):
		m, ok := c.find("marathon", host)
		if !ok {
			return refused, nil
		}
		return c.marathon(m, r, u.Path)
	}
	return httpAnswer{}, fmt.Errorf("fake curl: no model of port %s", port)
}

// mesos answers as the Mesos master m.
func (c *fakeCluster) mesos(m fakeService, r curlRequest, p string) (httpAnswer, error) {
	var leader *fakeService
	contenders := c.contenders("mesos-master")
	if zk, _ := flagValue(m.Argv, "zk"); c.zooKeeperServes(zk) && len(contenders) > 0 {
		leader = &contenders[0]
	}
	redirect := func() httpAnswer {
		if leader == nil {
			return httpAnswer{code: 503, body: facts.MesosNoLeader}
		}
		base := "//" + must(flagValue(leader.Argv, "hostname")) + ":" + must(flagValue(leader.Argv, "port"))
		if p == facts.MesosRedirectPath || p == "/master"+facts.MesosRedirectPath {
			return httpAnswer{code: 307, location: base}
		}
		return httpAnswer{code: 307, location: base + p}
	}
	elected := leader != nil && leader.IP == m.IP
	switch p {
	case "/health":
		return httpAnswer{code: 200}, nil
	case facts.MesosRedirectPath, "/master" + facts.MesosRedirectPath:
		return redirect(), nil
	case "/master/state", "/state":
		if !elected {
			return redirect(), nil
		}
		pid := "master@" + m.IP + ":" + must(flagValue(m.Argv, "port"))
		return httpAnswer{code: 200, body: fmt.Sprintf(`{"hostname":%q,"pid":%q,"leader":%q}`, must(flagValue(m.Argv, "hostname")), pid, pid)}, nil
	case facts.MesosOperatorAPIPath:
		if !elected {
			return redirect(), nil
		}
		recovered, err := c.mesosRecovered(m, len(contenders))
		if err != nil {
			return httpAnswer{}, err
		}
		ct := r.headers["content-type"]
		accept, hasAccept := r.headers["accept"]
		var call struct{ Type string }
		switch {
		case !recovered:
			return httpAnswer{code: 503, body: facts.MesosNotRecovered}, nil
		case r.method != "POST":
			return httpAnswer{code: 405}, nil
		case ct == "":
			return httpAnswer{code: 400, body: "Expecting 'Content-Type' to be present"}, nil
		case ct != "application/json":
			return httpAnswer{}, fmt.Errorf("fake Mesos: no model of Content-Type %q", ct)
		case json.Unmarshal([]byte(r.body), &call) != nil:
			return httpAnswer{code: 400, body: "Failed to parse body into JSON"}, nil
		case hasAccept && accept != "application/json" && accept != "*/*":
			return httpAnswer{code: 406, body: "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'"}, nil
		case call.Type == "GET_HEALTH":
			return httpAnswer{code: 200, body: `{"get_health":{"healthy":true},"type":"GET_HEALTH"}`}, nil
		}
		return httpAnswer{}, fmt.Errorf("fake Mesos: no model of call %q", call.Type)
	}
	return httpAnswer{}, fmt.Errorf("fake Mesos: no model of %s", p)
}

// marathon answers as the Marathon m, through its leader proxy filter.
func (c *fakeCluster) marathon(m fakeService, r curlRequest, p string) (httpAnswer, error) {
	contenders := c.contenders("marathon")
	if zk, _ := flagValue(m.Argv, "zk"); !c.zooKeeperServes(zk) || len(contenders) == 0 {
		if r.maxTime > 0 && r.maxTime < facts.MarathonLeaderWait {
			return httpAnswer{exit: 28, err: fmt.Sprintf("curl: (28) Operation timed out after %d milliseconds with 0 bytes received", r.maxTime.Milliseconds())}, nil
		}
		// Jetty's error page for sendError(503, message).
		return httpAnswer{code: 503, body: "<html>\n<head>\n<title>Error 503 " + facts.MarathonNoLeader + "</title>\n</head>\n<body><h2>HTTP ERROR 503</h2>\n</body>\n</html>\n"}, nil
	}
	leader := contenders[0]
	if r.method != "GET" {
		return httpAnswer{}, fmt.Errorf("fake Marathon: no model of %s %s", r.method, p)
	}
	switch p {
	case facts.MarathonLeaderPath:
		return httpAnswer{code: 200, body: fmt.Sprintf(`{"leader":"%s:%s"}`, must(flagValue(leader.Argv, "hostname")), must(flagValue(leader.Argv, "http_port")))}, nil
	case "/ping":
		return httpAnswer{code: 200, body: "pong"}, nil
	}
	return httpAnswer{}, fmt.Errorf("fake Marathon: no model of %s", p)
}
