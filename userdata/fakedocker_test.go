package userdata

import (
	"bufio"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// The boot tests run the rendered scripts against fakes. docker is the fake
// whose refusals matter most, so it is not a shell stub but this test binary
// itself (TestMain turns it into docker when it is run under that name). It
// knows what the real one knows: which Docker the boot installed and the API
// and image formats that release speaks, each pinned image's ENTRYPOINT and
// CMD (testdata/images.json, from the images' Dockerfiles), and the flags and
// variables the programs in those images accept (testdata/flags, from their
// sources). It refuses what real Docker, or the program in the image, would
// refuse, and says which rule and where the rule comes from.

//go:embed testdata/images.json
var imagesJSON []byte

//go:embed testdata/flags
var flagFiles embed.FS

func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "docker":
		os.Exit(fakeDocker(os.Args[1:]))
	case "fake-cluster":
		os.Exit(fakeClusterMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// imageConfig is what the fake knows of one pinned image.
type imageConfig struct {
	Entrypoint []string `json:"entrypoint"`
	Cmd        []string `json:"cmd"`
	Source     string   `json:"source"`
	Note       string   `json:"note"`
	// Schema1 marks an image whose only manifest is schema 1 (pushed before
	// 2016), which newer Docker releases refuse to pull.
	Schema1 bool `json:"schema1"`
	// Env lists the environment variables the image's entrypoint reads,
	// when it reads any; "-e" of another variable of the same prefix is
	// refused as a setting that does nothing.
	Env       []string `json:"env"`
	EnvPrefix string   `json:"envPrefix"`
	// EnvDefaults are the image's ENV values (its Dockerfile), which a
	// run's -e overrides; an entrypoint the fake runs (entrypoints) reads
	// them.
	EnvDefaults map[string]string `json:"envDefaults"`
	// DockerCLI is the docker client inside the image, if it has one.
	DockerCLI *struct {
		Path   string `json:"path"`
		API    string `json:"api"`
		Source string `json:"source"`
	} `json:"dockerCLI"`
}

func loadImages() (map[string]imageConfig, error) {
	var images map[string]imageConfig
	if err := json.Unmarshal(imagesJSON, &images); err != nil {
		return nil, fmt.Errorf("testdata/images.json: %w", err)
	}
	return images, nil
}

// programFlags maps the program an image runs (the first word of its
// command) to the file listing the flags that program accepts.
var programFlags = map[string]string{
	"mesos-master": "mesos-master-1.4.1.txt",
	"mesos-slave":  "mesos-agent-1.4.1.txt",
	"mesos-agent":  "mesos-agent-1.4.1.txt",
	// Marathon's image runs ./bin/start, which hands every argument but -D*
	// and --jvm-debug to Marathon (mesosphere/marathon bin/start@v1.4.9).
	"start":           "marathon-1.4.9.txt",
	"flocker-control": "flocker-control-1.15.0.txt",
}

// flagList reads one testdata/flags file: a flag name a line, # comments.
func flagList(name string) (map[string]bool, error) {
	raw, err := fs.ReadFile(flagFiles, "testdata/flags/"+name)
	if err != nil {
		return nil, err
	}
	flags := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			flags[strings.Fields(line)[0]] = true
		}
	}
	return flags, sc.Err()
}

// dockerRelease is what the fake knows of a Docker release line.
type dockerRelease struct {
	api string // the newest API version the daemon speaks, and its CLI's
	// schema1 is how it treats schema-1 images: "pull" (with a warning),
	// "env" (only with dockerSchema1Env in the daemon's environment) or
	// "refuse".
	schema1 string
}

// dockerReleases: API versions from moby/moby docs/api/version-history.md
// (v1.44 is Docker 25.0, v1.45 is 26.0 and 26.1, v1.46 27.0 and 27.1, v1.47
// 27.2 to 27.5, v1.48 28.0 and 28.1, v1.49 28.2 and 28.3); schema-1 pulls from
// docker/cli docs/deprecated.md ("Pushing and pulling with image manifest v2
// schema 1": disabled by default in v26.0, where
// DOCKER_ENABLE_DEPRECATED_PULL_SCHEMA_1_IMAGE re-enables them; removed in
// v28.2).
var dockerReleases = map[string]dockerRelease{
	"24.0": {"1.43", "pull"}, "25.0": {"1.44", "pull"},
	"26.0": {"1.45", "env"}, "26.1": {"1.45", "env"},
	"27.0": {"1.46", "env"}, "27.1": {"1.46", "env"},
	"27.2": {"1.47", "env"}, "27.3": {"1.47", "env"}, "27.4": {"1.47", "env"}, "27.5": {"1.47", "env"},
	"28.0": {"1.48", "env"}, "28.1": {"1.48", "env"},
	"28.2": {"1.49", "refuse"}, "28.3": {"1.49", "refuse"},
}

// dockerPackages are the packages that install the Docker engine, and how
// their Debian version holds the upstream one: Ubuntu's docker.io
// ("26.1.3-0ubuntu1~20.04.1") and Docker's own docker-ce
// ("5:26.1.4-1~ubuntu.20.04~focal").
var dockerPackageVersion = regexp.MustCompile(`^(?:docker\.io|docker-ce)=(?:[0-9]+:)?([0-9]+\.[0-9]+)\.[0-9]+`)

// dpkgStatusPath is dpkg's database of installed packages, under the
// node's root; the fake apt-get and dpkg-query (boot_test.go) and
// installedDocker share it.
const dpkgStatusPath = "var/lib/dpkg/status"

// dpkgStatus is dpkg's status file with each name=version pin installed.
func dpkgStatus(pins ...string) string {
	var b strings.Builder
	for _, p := range pins {
		name, version, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nVersion: %s\n\n", name, version)
	}
	return b.String()
}

// installedDocker finds the Docker release installed on the node, from
// dpkg's status file: the fake apt-get install writes it, and a test of an
// AMI that has Docker writes it before the boot. The last entry of a
// package is the installed one.
func installedDocker() (string, dockerRelease, error) {
	raw, err := os.ReadFile(filepath.Join(os.Getenv("MHA_ROOT"), dpkgStatusPath))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", dockerRelease{}, err
	}
	// The last stanza of each package is its entry; installed, held or not.
	entries := map[string][2]string{}
	for _, stanza := range strings.Split(string(raw), "\n\n") {
		var pkg, status, v string
		for _, l := range strings.Split(stanza, "\n") {
			k, val, _ := strings.Cut(l, ": ")
			switch k {
			case "Package":
				pkg = val
			case "Status":
				status = val
			case "Version":
				v = val
			}
		}
		if pkg != "" {
			entries[pkg] = [2]string{status, v}
		}
	}
	var version string
	for pkg, e := range entries {
		installed := e[0] == "install ok installed" || e[0] == "hold ok installed"
		if m := dockerPackageVersion.FindStringSubmatch(pkg + "=" + e[1]); m != nil && installed {
			version = m[1]
		}
	}
	if version == "" {
		return "", dockerRelease{}, errors.New("docker: command not found (the boot has not installed Docker yet)")
	}
	rel, ok := dockerReleases[version]
	if !ok {
		return "", dockerRelease{}, fmt.Errorf("fake docker: Docker %s is not in dockerReleases; add its API version and schema-1 behaviour from moby/moby docs/api/version-history.md and docker/cli docs/deprecated.md", version)
	}
	return version, rel, nil
}

// fakeState is what the fake daemon remembers between calls.
type fakeState struct {
	Pulled  []string               `json:"pulled"`
	Plugins map[string]*fakePlugin `json:"plugins"`
	// Running are the names of the running containers a test put there
	// (the self-fence's tests: the agent's own and the ones Mesos
	// launched); `docker ps` lists them and `docker kill` stops them.
	Running []string `json:"running"`
	// HubPulls counts the pulls this node made from Docker Hub
	// (hubPull).
	HubPulls int `json:"hubPulls"`
}

type fakePlugin struct {
	Ref      string   `json:"ref"`
	Enabled  bool     `json:"enabled"`
	Settings []string `json:"settings"`
}

func statePath() string { return statePathIn(os.Getenv("MHA_ROOT")) }

// statePathIn is where the fake daemon of the node rooted at root keeps its
// state.
func statePathIn(root string) string {
	return filepath.Join(root, "var/lib/fake-docker/state.json")
}

func loadState() (*fakeState, error) {
	s := &fakeState{Plugins: map[string]*fakePlugin{}}
	raw, err := os.ReadFile(statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *fakeState) save() error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(statePath()), 0o755); err != nil {
		return err
	}
	return os.WriteFile(statePath(), raw, 0o644)
}

// lockState takes the fake daemon's lock, so docker commands run at once
// (the boot's parallel pulls) read and write the state one at a time.
func lockState() (func(), error) {
	path := statePath() + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// pullsLog holds one line per pull, "image start-ns end-ns", the intervals
// TestBootPullsOverlap compares.
func pullsLog() string {
	return filepath.Join(os.Getenv("MHA_ROOT"), "var/lib/fake-docker/pulls.log")
}

func logPull(args []string, start time.Time) {
	if len(args) != 1 {
		return
	}
	if err := os.MkdirAll(filepath.Dir(pullsLog()), 0o755); err != nil {
		return
	}
	f, err := os.OpenFile(pullsLog(), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %d %d\n", args[0], start.UnixNano(), time.Now().UnixNano())
}

// recordCall appends the call to the log the tests read, in the shell
// fakes' format: program and arguments separated by tabs.
func recordCall(args []string) {
	f, err := os.OpenFile(os.Getenv("MHA_CALLS"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, strings.Join(append([]string{"docker"}, args...), "\t"))
}

// fakeDocker runs one docker command and returns its exit status.
func fakeDocker(args []string) int {
	recordCall(args)
	if fail := os.Getenv("FAKE_FAIL"); fail != "" && strings.HasPrefix("docker "+strings.Join(args, " "), fail) {
		fmt.Fprintln(os.Stderr, "fake docker: failing on purpose")
		return 3
	}
	err := dockerCommand(args)
	var exit *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		fmt.Fprintln(os.Stderr, exit.msg)
		return exit.code
	default:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
}

// exitError is a refusal with docker's own exit status: 125 when the
// daemon refuses a run, 127 when the command does not exist.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func dockerCommand(args []string) error {
	version, release, err := installedDocker()
	if err != nil {
		return &exitError{127, err.Error()}
	}
	if len(args) == 0 {
		return errors.New("docker: no command")
	}
	if args[0] == "pull" {
		// A pull takes time, outside the lock, as a real daemon downloads
		// several images at once; its interval is logged for the tests.
		defer logPull(args[1:], time.Now())
		if d, err := time.ParseDuration(os.Getenv("FAKE_PULL_TIME")); err == nil {
			time.Sleep(d)
		}
		// FAKE_PULL_BLOCK=image=file holds that image's pull until the
		// test creates file (a minute at most), so a test can look at the
		// boot while one download is still running.
		if image, gate, ok := strings.Cut(os.Getenv("FAKE_PULL_BLOCK"), "="); ok && len(args) == 2 && args[1] == image {
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if _, err := os.Stat(gate); err == nil {
					break
				}
			}
		}
	}
	unlock, err := lockState()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := loadState()
	if err != nil {
		return err
	}
	switch args[0] {
	case "pull":
		err = st.pull(args[1:], version, release)
	case "run":
		err = st.run(args[1:], release)
	case "plugin":
		err = st.plugin(args[1:])
	case "image":
		return st.image(args[1:])
	case "ps":
		return st.ps(args[1:])
	case "kill":
		err = st.kill(args[1:])
	case "rm", "stop", "inspect", "version", "info":
		return nil
	default:
		return fmt.Errorf("fake docker: no model of `docker %s`; add one before a script uses it", args[0])
	}
	if err != nil {
		return err
	}
	return st.save()
}

// image models `docker image inspect IMAGE`, the one image command the
// boot uses: exit 1 with "Error: No such image: IMAGE" for an image the
// daemon does not hold (moby/moby client/errors.go, docker/cli
// cli/command/image/inspect.go at v26.1.4).
func (st *fakeState) image(args []string) error {
	if len(args) != 2 || args[0] != "inspect" {
		return fmt.Errorf("fake docker: no model of `docker image %s`; add one before a script uses it", strings.Join(args, " "))
	}
	if !slices.Contains(st.Pulled, args[1]) {
		return &exitError{1, "Error: No such image: " + args[1]}
	}
	return nil
}

// ps models the one `docker ps` a script uses, `docker ps --format
// {{.Names}}`: one running container's name a line, without the leading
// slash (docker/cli cli/command/formatter/container.go Names at v26.1.4).
func (st *fakeState) ps(args []string) error {
	if !slices.Equal(args, []string{"--format", "{{.Names}}"}) {
		return fmt.Errorf("fake docker: no model of `docker ps %s`; add one before a script uses it", strings.Join(args, " "))
	}
	for _, name := range st.Running {
		fmt.Println(name)
	}
	return nil
}

// kill models `docker kill CONTAINER...` with the default signal, KILL: it
// wants at least one container, kills each it knows and refuses the rest,
// exiting 1 if any was refused (docker/cli cli/command/container/kill.go at
// v26.1.4: cli.RequiresMinArgs(1), errors collected over all containers;
// the daemon's "No such container").
func (st *fakeState) kill(args []string) error {
	if len(args) == 0 {
		return &exitError{1, "\"docker kill\" requires at least 1 argument."}
	}
	var errs []string
	for _, name := range args {
		if strings.HasPrefix(name, "-") {
			return fmt.Errorf("fake docker: no model of `docker kill %s`", name)
		}
		i := slices.Index(st.Running, name)
		if i < 0 {
			errs = append(errs, "Error response from daemon: No such container: "+name)
			continue
		}
		st.Running = slices.Delete(st.Running, i, i+1)
		fmt.Println(name)
	}
	if len(errs) > 0 {
		if err := st.save(); err != nil {
			return err
		}
		return &exitError{1, strings.Join(errs, "\n")}
	}
	return nil
}

func (st *fakeState) pull(args []string, version string, release dockerRelease) error {
	if len(args) != 1 {
		// docker/cli cli/command/image/pull.go: cobra.ExactArgs(1).
		return fmt.Errorf("\"docker pull\" requires exactly 1 argument, got %q", args)
	}
	ref := args[0]
	images, err := loadImages()
	if err != nil {
		return err
	}
	img, ok := images[ref]
	if ref == "" || !ok {
		return fmt.Errorf("fake docker: pull %q: not an image in testdata/images.json; record its ENTRYPOINT and CMD from its Dockerfile first", ref)
	}
	if err := st.hubPull(ref); err != nil {
		return err
	}
	if img.Schema1 {
		switch release.schema1 {
		case "refuse":
			return fmt.Errorf("Error response from daemon: Docker %s cannot pull schema-1 image %s (removed in v28.2, docker/cli docs/deprecated.md)", version, ref)
		case "env":
			if !daemonHasEnv(dockerSchema1EnvName + "=1") {
				return fmt.Errorf("Error response from daemon: [DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled by default (Docker %s): set %s=1 in dockerd's environment (docker/cli docs/deprecated.md)", version, dockerSchema1EnvName)
			}
		}
	}
	if !slices.Contains(st.Pulled, ref) {
		st.Pulled = append(st.Pulled, ref)
	}
	return nil
}

// hubPull is the manifest request every pull from Docker Hub makes,
// counted against its rate limit for unauthenticated pulls: per address
// and hour, facts.DockerHubAnonymousPullsPerHour of them, including those
// made before this boot (FAKE_HUB_PULLS_BEFORE: a previous holder of the
// address, or an earlier boot in the hour). Past the limit the registry
// answers 429 TOOMANYREQUESTS and the pull fails with exit status 1 and the
// message Docker Hub sends (docker/docs content/manuals/docker-hub/usage/
// pulls.md; distribution/distribution registry/api/errcode/errors.go,
// Error.Error: the code lower-cased, ": ", the message); a refused request
// is not counted. A reference naming another registry (a host with a dot
// or a port first, or localhost: distribution/reference normalize.go
// splitDockerDomain) is not Docker Hub's.
func (st *fakeState) hubPull(ref string) error {
	if first, _, ok := strings.Cut(ref, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return nil
	}
	before, _ := strconv.Atoi(os.Getenv("FAKE_HUB_PULLS_BEFORE"))
	if before+st.HubPulls >= facts.DockerHubAnonymousPullsPerHour {
		return fmt.Errorf("Error response from daemon: %s: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit", facts.DockerHubRateLimitCode)
	}
	st.HubPulls++
	return nil
}

const dockerSchema1EnvName = "DOCKER_ENABLE_DEPRECATED_PULL_SCHEMA_1_IMAGE"

// daemonHasEnv reports whether a drop-in of docker.service sets env.
func daemonHasEnv(env string) bool {
	dir := filepath.Join(os.Getenv("MHA_ROOT"), "etc/systemd/system/docker.service.d")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Environment="); ok && slices.Contains(strings.Fields(v), env) {
				return true
			}
		}
	}
	return false
}

// runOptions are the `docker run` options the scripts may use, and whether
// each takes a value (docker/cli cli/command/container/opts.go and run.go
// at v26.1.4). Any other option is refused: add it here from that file.
var runOptions = map[string]bool{
	"--rm": false, "--privileged": false, "-d": false, "--detach": false, "--init": false,
	"--name": true, "--net": true, "--network": true, "--pid": true, "-e": true, "--env": true,
	"-v": true, "--volume": true, "--entrypoint": true, "--restart": true,
}

// dockerRun is a parsed `docker run`.
type dockerRun struct {
	opts  map[string][]string // option name (long form kept as written) to values
	env   map[string]string
	image string
	args  []string
}

// parseOptions reads the options before the first argument, as cobra does
// for docker's commands (interspersed options off): --name=value, --name
// value, or a bare --name where known[name] says it takes no value. It
// returns the options' values by name and the arguments after them.
func parseOptions(args []string, known map[string]bool) (map[string][]string, []string, error) {
	opts := map[string][]string{}
	i := 0
	for ; i < len(args) && strings.HasPrefix(args[i], "-"); i++ {
		name, value, inline := strings.Cut(args[i], "=")
		takesValue, ok := known[name]
		if !ok {
			return nil, nil, fmt.Errorf("unknown flag: %s (the fake knows %v; add real ones from docker/cli cli/command)", name, keys(known))
		}
		if takesValue && !inline {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("flag needs an argument: %s", name)
			}
			i++
			value = args[i]
		}
		opts[name] = append(opts[name], value)
	}
	return opts, args[i:], nil
}

func parseRun(args []string) (dockerRun, error) {
	opts, rest, err := parseOptions(args, runOptions)
	if err != nil {
		return dockerRun{}, err
	}
	if len(rest) == 0 {
		// docker/cli cli/command/container/run.go: cli.RequiresMinArgs(1).
		return dockerRun{}, errors.New("\"docker run\" requires at least 1 argument")
	}
	r := dockerRun{opts: opts, env: map[string]string{}, image: rest[0], args: rest[1:]}
	for _, e := range append(opts["-e"], opts["--env"]...) {
		k, v, _ := strings.Cut(e, "=")
		r.env[k] = v
	}
	return r, nil
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// argv is the command the container runs. The daemon merges the run's
// entrypoint and arguments with the image's (moby/moby daemon/commit.go
// merge at v26.1.4): arguments replace the image's CMD; an --entrypoint
// replaces its ENTRYPOINT and drops its CMD.
func (r dockerRun) argv(img imageConfig) []string {
	entrypoint, cmd := img.Entrypoint, img.Cmd
	if e, ok := r.opts["--entrypoint"]; ok {
		entrypoint, cmd = strings.Fields(e[len(e)-1]), nil
	}
	if len(r.args) > 0 {
		cmd = r.args
	}
	return append(slices.Clone(entrypoint), cmd...)
}

func (st *fakeState) run(args []string, release dockerRelease) error {
	r, err := parseRun(args)
	if err != nil {
		return &exitError{125, "docker: " + err.Error()}
	}
	images, err := loadImages()
	if err != nil {
		return err
	}
	img, ok := images[r.image]
	if !ok {
		return &exitError{125, fmt.Sprintf("fake docker: run %q: not an image in testdata/images.json", r.image)}
	}
	argv := r.argv(img)
	if len(argv) == 0 {
		return &exitError{125, "docker: Error response from daemon: no command specified"}
	}
	// With no ENTRYPOINT, the first argument is the program: an option
	// there is run as a program and fails (moby/moby daemon/commit.go merge;
	// the OCI runtime's exec of a missing file).
	if strings.HasPrefix(argv[0], "-") {
		return &exitError{127, fmt.Sprintf("docker: Error response from daemon: failed to create task for container: exec: %q: executable file not found in $PATH (%s has no ENTRYPOINT%s, so the arguments after the image replace its CMD and %q is run as the program)",
			argv[0], r.image, sourceNote(img), argv[0])}
	}
	if err := checkEnv(r, img); err != nil {
		return &exitError{125, err.Error()}
	}
	if err := checkProgramFlags(r.image, argv); err != nil {
		return &exitError{1, err.Error()}
	}
	for _, rule := range runRules {
		if rule.program == filepath.Base(argv[0]) {
			if err := rule.check(r, argv, images, release); err != nil {
				return &exitError{1, fmt.Sprintf("%s (%s): %v (%s)", argv[0], r.image, err, rule.source)}
			}
		}
	}
	// The AWS CLI answers like the CLI and EC2 would (fakeawscli_test.go).
	if filepath.Base(argv[0]) == "aws" {
		return fakeAWSCLI(r, argv[1:])
	}
	// An entrypoint that writes configuration before the program starts
	// is run as the image would (fakeentrypoint_test.go), and what it wrote
	// is checked as the program would read it.
	if e, ok := entrypoints[r.image]; ok && len(argv) > 0 && argv[0] == e.path {
		if err := e.run(r, img); err != nil {
			return &exitError{1, fmt.Sprintf("%s (%s): %v (%s)", argv[0], r.image, err, e.source)}
		}
	}
	// The service now answers the readiness probes (fakecluster_test.go).
	return registerService(r, argv, img)
}

func sourceNote(img imageConfig) string {
	if img.Source == "" {
		return ""
	}
	return ", " + img.Source
}

// checkEnv refuses a variable of the image entrypoint's prefix that the
// entrypoint never reads: a setting that silently does nothing.
func checkEnv(r dockerRun, img imageConfig) error {
	if img.EnvPrefix == "" {
		return nil
	}
	for k := range r.env {
		if strings.HasPrefix(k, img.EnvPrefix) && !slices.Contains(img.Env, k) {
			return fmt.Errorf("%s: %s's entrypoint does not read %s, which would do nothing (it reads %v%s)", r.image, r.image, k, img.Env, sourceNote(img))
		}
	}
	return nil
}

// checkProgramFlags refuses a flag the image's program does not accept.
func checkProgramFlags(image string, argv []string) error {
	file, ok := programFlags[filepath.Base(argv[0])]
	if !ok {
		return nil
	}
	known, err := flagList(file)
	if err != nil {
		return err
	}
	for _, a := range argv[1:] {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		// Mesos's flags parser takes --no-NAME for a boolean NAME
		// (3rdparty/stout/include/stout/flags/flags.hpp).
		if !known[name] && !(strings.HasPrefix(name, "no-") && known[strings.TrimPrefix(name, "no-")]) {
			return fmt.Errorf("%s (%s): unknown flag --%s; testdata/flags/%s lists what it accepts", argv[0], image, name, file)
		}
	}
	return nil
}

// runRule is a contract between the program an image runs and the Docker
// it runs on.
type runRule struct {
	program string
	source  string
	check   func(r dockerRun, argv []string, images map[string]imageConfig, release dockerRelease) error
}

// apiLess reports whether API version a is older than b ("1.44" < "1.45").
func apiLess(a, b string) bool {
	minor := func(v string) int {
		_, m, _ := strings.Cut(v, ".")
		n, _ := strconv.Atoi(m)
		return n
	}
	return minor(a) < minor(b)
}

const (
	// mesosMaxDockerAPI is the newest Docker API whose image inspect Mesos
	// 1.4.1 can read: it requires ContainerConfig.Entrypoint and
	// ContainerConfig.Env (apache/mesos 1.4.1 src/docker/docker.cpp:488-570,
	// Docker::Image::create, run on every pull), which the daemon drops
	// from API 1.45 on (moby/moby v26.1.4
	// api/server/router/image/image_routes.go; docs/api/version-history.md,
	// v1.45).
	mesosMaxDockerAPI = "1.44"
	// dockerMinAPI is the oldest API a Docker 24 to 28 daemon accepts
	// (MinSupportedAPIVersion, moby/moby api/common.go at v26.1.4).
	dockerMinAPI = "1.24"
)

// pathDirs is the PATH of the Ubuntu images the Mesos agent runs in, most
// important first (Ubuntu's /etc/environment).
var pathDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// dockerCLIAPI is the API version the docker CLI in a container speaks: a
// host binary mounted over the image's PATH speaks the daemon's own (it is
// the same release), the image's own CLI what it was built with, and
// DOCKER_API_VERSION overrides either (docker/cli
// vendor/github.com/docker/docker/client/options.go WithVersionFromEnv).
func dockerCLIAPI(image string, volumes []string, env map[string]string, images map[string]imageConfig, release dockerRelease) (string, error) {
	if v, ok := env["DOCKER_API_VERSION"]; ok {
		return v, nil
	}
	for _, dir := range pathDirs {
		for _, v := range volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && parts[1] == dir+"/docker" {
				return release.api, nil
			}
		}
		if cli := images[image].DockerCLI; cli != nil && filepath.Dir(cli.Path) == dir {
			return cli.API, nil
		}
	}
	return "", fmt.Errorf("%s has no docker CLI the fake knows of (add dockerCLI to testdata/images.json from its Dockerfile)", image)
}

// checkMesosDockerAPI refuses a docker CLI whose image inspect Mesos cannot
// read, or that the daemon refuses.
func checkMesosDockerAPI(who, api string) error {
	switch {
	case apiLess(mesosMaxDockerAPI, api):
		return fmt.Errorf("%s drives Docker through a CLI speaking API %s; Mesos 1.4.1 needs ContainerConfig from image inspect, which Docker omits from API 1.45 on: use a CLI of API %s or older, or set DOCKER_API_VERSION", who, api, mesosMaxDockerAPI)
	case apiLess(api, dockerMinAPI):
		return fmt.Errorf("%s's docker CLI speaks API %s, older than the daemon's minimum %s", who, api, dockerMinAPI)
	}
	return nil
}

// flagValue returns the value of --name=value in argv.
func flagValue(argv []string, name string) (string, bool) {
	for _, a := range argv {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

var runRules = []runRule{
	{
		// With --zk the registry is a replicated log whose quorum must be
		// given: "Need to specify --quorum for replicated log based registry
		// when using ZooKeeper" (EXIT_FAILURE); the URL must start zk://.
		program: "mesos-master",
		source:  "apache/mesos 1.4.1 src/master/main.cpp:366-377; include/mesos/zookeeper/url.hpp URL::parse",
		check: func(r dockerRun, argv []string, _ map[string]imageConfig, _ dockerRelease) error {
			zk, ok := flagValue(argv, "zk")
			if !ok {
				return nil
			}
			if !strings.HasPrefix(strings.TrimSpace(zk), "zk://") {
				return fmt.Errorf("--zk=%s: Error parsing ZooKeeper URL: Expecting 'zk://' at the beginning of the URL", zk)
			}
			q, ok := flagValue(argv, "quorum")
			if !ok {
				return errors.New("Need to specify --quorum for replicated log based registry when using ZooKeeper")
			}
			if n, err := strconv.Atoi(q); err != nil || n < 1 {
				return fmt.Errorf("--quorum=%s: not a positive number of replicas", q)
			}
			return nil
		},
	},
	{
		// Marathon's --zk must match ZKUrlPattern (Scallop's validate refuses
		// the option otherwise), and --master is required.
		program: "start",
		source:  "mesosphere/marathon v1.4.9 src/main/scala/mesosphere/marathon/ZookeeperConf.scala:30-35,92-97; MarathonConf.scala:40-44",
		check: func(r dockerRun, argv []string, _ map[string]imageConfig, _ dockerRelease) error {
			if !slices.ContainsFunc(argv, func(a string) bool { return a == "--master" || strings.HasPrefix(a, "--master=") }) {
				return errors.New("Required option 'master' not found")
			}
			if zk, ok := flagValue(argv, "zk"); ok && !marathonZKURL.MatchString(zk) {
				return fmt.Errorf("Validation failure for 'zk' option parameters: %s (want zk://host1:port1,host2:port2,.../path)", zk)
			}
			return nil
		},
	},
	{
		program: "mesos-slave",
		source:  "apache/mesos 1.4.1 src/docker/docker.cpp Docker::Image::create; moby/moby v26.1.4 api/server/router/image/image_routes.go",
		check: func(r dockerRun, argv []string, images map[string]imageConfig, release dockerRelease) error {
			if _, ok := flagValue(argv, "docker"); ok {
				return errors.New("the fake has no model of --docker: it checks the CLI found on PATH")
			}
			api, err := dockerCLIAPI(r.image, r.opts["-v"], r.env, images, release)
			if err != nil {
				return err
			}
			return checkMesosDockerAPI("the agent", api)
		},
	},
	{
		// An agent in a container must run its executors in containers of
		// their own, or they die with it (apache/mesos 1.4.1
		// src/slave/containerizer/docker.cpp:1273-1275, "we want the executor
		// to keep running when the slave container dies"). The executor
		// container keeps its image's ENTRYPOINT (docker.cpp:381,
		// shell=false; src/docker/docker.cpp:874-884), gets no
		// DOCKER_API_VERSION unless --executor_environment_variables sets it
		// (src/slave/slave.cpp:8019-8049), drives Docker with the CLI of its
		// own image (src/docker/executor.cpp:895-898), and is reaped by pid,
		// so the agent needs the host's pid namespace (docker.cpp:1586).
		program: "mesos-slave",
		source:  "apache/mesos 1.4.1 src/slave/containerizer/docker.cpp, src/slave/flags.cpp docker_mesos_image",
		check: func(r dockerRun, argv []string, images map[string]imageConfig, release dockerRelease) error {
			image, ok := flagValue(argv, "docker_mesos_image")
			if !ok {
				return errors.New("runs in a container without --docker_mesos_image: its executors, and the app, would die with the agent container on any restart")
			}
			if pid := r.opts["--pid"]; len(pid) == 0 || pid[len(pid)-1] != "host" {
				return errors.New("--docker_mesos_image needs the agent in the host's pid namespace (--pid=host) to reap its executor containers")
			}
			img, ok := images[image]
			if !ok {
				return fmt.Errorf("--docker_mesos_image=%s: not an image in testdata/images.json", image)
			}
			if img.Entrypoint != nil {
				return fmt.Errorf("--docker_mesos_image=%s has ENTRYPOINT %q, which Mesos keeps: it would be given mesos-docker-executor's flags", image, img.Entrypoint)
			}
			env := map[string]string{}
			if raw, ok := flagValue(argv, "executor_environment_variables"); ok {
				if err := json.Unmarshal([]byte(raw), &env); err != nil {
					return fmt.Errorf("--executor_environment_variables is not a JSON object of strings: %v", err)
				}
			}
			api, err := dockerCLIAPI(image, nil, env, images, release)
			if err != nil {
				return err
			}
			return checkMesosDockerAPI("the executor", api)
		},
	},
}

// pluginName is how the daemon names a plugin: its alias or reference,
// with ":latest" when it has no tag (moby/moby plugin/backend_linux.go,
// reference.ParseNormalizedNamed and TagNameOnly).
func pluginName(ref string) string {
	if last := ref[strings.LastIndex(ref, "/")+1:]; !strings.Contains(last, ":") && !strings.Contains(ref, "@") {
		return ref + ":latest"
	}
	return ref
}

// pluginRefRE is a lower-case repository path with an optional tag, the
// shape distribution/reference accepts for the references used here.
var pluginRefRE = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$`)

// pluginInstallOptions are `docker plugin install`'s options and whether
// each takes a value (docker/cli cli/command/plugin/install.go at v26.1.4).
var pluginInstallOptions = map[string]bool{
	"--alias": true, "--disable": false, "--disable-content-trust": false, "--grant-all-permissions": false,
}

func (st *fakeState) plugin(args []string) error {
	if len(args) == 0 {
		return errors.New("docker plugin: no subcommand")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "install":
		return st.pluginInstall(args)
	case "enable":
		if len(args) != 1 {
			return errors.New("\"docker plugin enable\" requires exactly 1 argument")
		}
		p, err := st.findPlugin(args[0])
		if err != nil {
			return err
		}
		if p.Enabled {
			// moby/moby v26.1.4 plugin/manager_linux.go:30,
			// errors.Wrap(enabledError(p.Name()), "plugin already enabled").
			return fmt.Errorf("Error response from daemon: plugin already enabled: plugin %s is enabled", pluginName(args[0]))
		}
		p.Enabled = true
		return nil
	case "inspect":
		format := ""
		if len(args) > 2 && args[0] == "--format" {
			format, args = args[1], args[2:]
		}
		if len(args) != 1 {
			return errors.New("fake docker: plugin inspect [--format F] NAME")
		}
		p, err := st.findPlugin(args[0])
		if err != nil {
			return err
		}
		switch format {
		case "":
			fmt.Printf("[{\"Name\":%q,\"Enabled\":%v}]\n", args[0], p.Enabled)
		case "{{.Enabled}}":
			fmt.Println(p.Enabled)
		default:
			return fmt.Errorf("fake docker: no model of plugin inspect --format %q", format)
		}
		return nil
	default:
		return fmt.Errorf("fake docker: no model of `docker plugin %s`", sub)
	}
}

func (st *fakeState) findPlugin(name string) (*fakePlugin, error) {
	if p, ok := st.Plugins[pluginName(name)]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("Error response from daemon: plugin %s not found", name)
}

func (st *fakeState) pluginInstall(args []string) error {
	opts, rest, err := parseOptions(args, pluginInstallOptions)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return errors.New("\"docker plugin install\" requires at least 1 argument")
	}
	ref, settings := rest[0], rest[1:]
	if !pluginRefRE.MatchString(ref) {
		// docker/cli v26.1.4 cli/command/plugin/install.go parses the first
		// argument with reference.ParseNormalizedNamed, which refuses "" (it
		// becomes "docker.io/library/") and anything not a reference.
		return fmt.Errorf("invalid reference format: %q", ref)
	}
	for _, s := range settings {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return fmt.Errorf("invalid plugin setting %q: want KEY=VALUE", s)
		}
	}
	if _, ok := opts["--grant-all-permissions"]; !ok {
		// Without it the CLI asks on stdin, which a boot does not have.
		return errors.New("plugin installation denied: no --grant-all-permissions and no terminal to ask")
	}
	name := ref
	if a, ok := opts["--alias"]; ok {
		name = a[len(a)-1]
	}
	name = pluginName(name)
	if _, exists := st.Plugins[name]; exists {
		// moby/moby v26.1.4 plugin/errors.go ("plugin " + name + " already
		// exists"), returned by backend_linux.go:271 Pull.
		return fmt.Errorf("Error response from daemon: plugin %s already exists", name)
	}
	// The plugin's manifest comes from the registry like an image's.
	if err := st.hubPull(ref); err != nil {
		return err
	}
	_, disabled := opts["--disable"]
	st.Plugins[name] = &fakePlugin{Ref: ref, Enabled: !disabled, Settings: settings}
	return nil
}
