package manifest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func params() manifest.Params {
	return manifest.Params{
		AppID:        facts.AppID,
		Image:        facts.AppImage,
		HostPort:     facts.DefaultAppPort,
		VolumeDriver: facts.DockerVolumeDriverName[facts.VolumeDriverRexRay],
		VolumeName:   "marathon-ha-dev-moby",
		Zone:         "eu-west-1b",
	}
}

// decode parses rendered JSON for assertions, numbers as float64.
func decode(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatalf("rendered manifest is not JSON: %v\n%s", err, doc)
	}
	return m
}

func docker(t *testing.T, app map[string]any) map[string]any {
	t.Helper()
	c, _ := app["container"].(map[string]any)
	d, _ := c["docker"].(map[string]any)
	if d == nil {
		t.Fatalf("rendered manifest has no container.docker: %v", app)
	}
	return d
}

func TestRenderDefaultMatchesGolden(t *testing.T) {
	got, err := manifest.Render(apps.MobyCounter, params())
	if err != nil {
		t.Fatalf("Render(default): %v", err)
	}
	golden := filepath.Join("testdata", "moby-counter.rendered.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Errorf("rewrote %s; rerun without -update", golden)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Render(default) differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}

func TestRenderSetsClusterFields(t *testing.T) {
	p := params()
	got, err := manifest.Render(apps.MobyCounter, p)
	if err != nil {
		t.Fatal(err)
	}
	app := decode(t, got)
	if app["id"] != p.AppID {
		t.Errorf("id = %v, want %v", app["id"], p.AppID)
	}
	d := docker(t, app)
	if d["image"] != p.Image {
		t.Errorf("image = %v, want %v", d["image"], p.Image)
	}
	pm := d["portMappings"].([]any)[0].(map[string]any)
	if pm["containerPort"] != float64(facts.AppContainerPort) || pm["hostPort"] != float64(p.HostPort) {
		t.Errorf("port mapping = %v, want container %d -> host %d", pm, facts.AppContainerPort, p.HostPort)
	}
	wantParams := []any{
		map[string]any{"key": "volume-driver", "value": "rexray/ebs"},
		map[string]any{"key": "volume", "value": "marathon-ha-dev-moby:" + facts.AppDataPath},
	}
	if !reflect.DeepEqual(d["parameters"], wantParams) {
		t.Errorf("parameters = %v, want %v", d["parameters"], wantParams)
	}
	wantConstraints := []any{[]any{"zone", "CLUSTER", "eu-west-1b"}}
	if !reflect.DeepEqual(app["constraints"], wantConstraints) {
		t.Errorf("constraints = %v, want %v", app["constraints"], wantConstraints)
	}
	if strings.Contains(string(got), `"unset"`) || strings.Contains(string(got), "moby-counter:/data") {
		t.Errorf("rendered manifest still holds a placeholder of the default:\n%s", got)
	}
}

func TestRenderIsDeterministicAndIdempotent(t *testing.T) {
	first, err := manifest.Render(apps.MobyCounter, params())
	if err != nil {
		t.Fatal(err)
	}
	again, err := manifest.Render(apps.MobyCounter, params())
	if err != nil {
		t.Fatal(err)
	}
	twice, err := manifest.Render(first, params())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) || !bytes.Equal(first, twice) {
		t.Errorf("Render is not deterministic or not idempotent:\n%s\n---\n%s\n---\n%s", first, again, twice)
	}
}

// userManifest is a replacement manifest a user could give by config: extra
// fields, an old zone constraint, a stale volume driver, another volume and
// other Docker options.
const userManifest = `{
  "id": "/mine/counter",
  "instances": 1,
  "cpus": 0.25,
  "mem": 256.5,
  "env": {"DATA_FILE": "/data/clicks.json"},
  "labels": {"team": "demo"},
  "container": {
    "docker": {
      "image": "example/counter:2",
      "portMappings": [
        {"containerPort": 9000, "hostPort": 0, "protocol": "tcp"},
        {"containerPort": 80, "hostPort": 1234, "protocol": "tcp", "name": "http"}
      ],
      "parameters": [
        {"key": "log-driver", "value": "journald"},
        {"key": "volume-driver", "value": "flocker"},
        {"key": "volume", "value": "old:/data"},
        {"key": "volume", "value": "/var/log/app:/logs"}
      ]
    }
  },
  "constraints": [["hostname", "UNIQUE"], ["zone", "CLUSTER", "us-east-1a"]],
  "upgradeStrategy": {"minimumHealthCapacity": 0, "maximumOverCapacity": 0.0},
  "unreachableStrategy": {"inactiveAfterSeconds": 10, "expungeAfterSeconds": 20}
}`

func TestRenderKeepsUserFields(t *testing.T) {
	p := params()
	p.AppID = ""
	p.Image = ""
	got, err := manifest.Render([]byte(userManifest), p)
	if err != nil {
		t.Fatalf("Render(user manifest): %v", err)
	}
	app := decode(t, got)
	checks := []struct {
		name      string
		got, want any
	}{
		{"id kept when Params.AppID is empty", app["id"], "/mine/counter"},
		{"mem kept exactly", app["mem"], 256.5},
		{"env kept", app["env"], map[string]any{"DATA_FILE": "/data/clicks.json"}},
		{"labels kept", app["labels"], map[string]any{"team": "demo"}},
		{"unreachableStrategy kept", app["unreachableStrategy"], map[string]any{"inactiveAfterSeconds": 10.0, "expungeAfterSeconds": 20.0}},
		{"container.type defaulted to DOCKER", app["container"].(map[string]any)["type"], "DOCKER"},
		{"network defaulted to BRIDGE", docker(t, app)["network"], "BRIDGE"},
		{"image kept when Params.Image is empty", docker(t, app)["image"], "example/counter:2"},
		{"only the port-80 mapping gets the host port", docker(t, app)["portMappings"], []any{
			map[string]any{"containerPort": 9000.0, "hostPort": 0.0, "protocol": "tcp"},
			map[string]any{"containerPort": 80.0, "hostPort": float64(p.HostPort), "protocol": "tcp", "name": "http"},
		}},
		{"other parameters kept, volume pair replaced", docker(t, app)["parameters"], []any{
			map[string]any{"key": "log-driver", "value": "journald"},
			map[string]any{"key": "volume", "value": "/var/log/app:/logs"},
			map[string]any{"key": "volume-driver", "value": p.VolumeDriver},
			map[string]any{"key": "volume", "value": p.VolumeName + ":/data"},
		}},
		{"zone constraint replaced, others kept", app["constraints"], []any{
			[]any{"hostname", "UNIQUE"},
			[]any{"zone", "CLUSTER", p.Zone},
		}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if !strings.Contains(string(got), `"maximumOverCapacity": 0.0`) {
		t.Errorf("numbers are not written back as the user wrote them (want 0.0):\n%s", got)
	}
}

func TestRenderRejectsBadManifests(t *testing.T) {
	valid := string(apps.MobyCounter)
	tests := []struct {
		name    string
		base    string
		params  func(*manifest.Params)
		wantErr string
	}{
		{name: "not JSON", base: `{"id":`, wantErr: "manifest is not valid JSON"},
		{name: "two values", base: `{"id":"/a"} {}`, wantErr: "text after the first value"},
		{name: "array", base: `[{"id":"/a"}]`, wantErr: "manifest is a JSON array, not an object"},
		{name: "no container", base: `{"id":"/a","cmd":"sleep 1"}`, wantErr: "manifest has no container section"},
		{name: "mesos containerizer", base: `{"id":"/a","container":{"type":"MESOS","docker":{"image":"x"}}}`, wantErr: "container.type is MESOS"},
		{name: "no docker section", base: `{"id":"/a","container":{"type":"DOCKER"}}`, wantErr: "manifest has no container.docker section"},
		{name: "host networking", base: `{"id":"/a","container":{"docker":{"image":"x","network":"HOST"}}}`, wantErr: "network is HOST"},
		{name: "no port 80 mapping", base: `{"id":"/a","container":{"docker":{"image":"x","portMappings":[{"containerPort":8080}]}}}`, wantErr: "manifest maps no port to container port 80"},
		{name: "parameters not a list", base: `{"id":"/a","container":{"docker":{"image":"x","portMappings":[{"containerPort":80}],"parameters":{"volume":"a:/data"}}}}`, wantErr: "parameters is not a list"},
		{name: "constraints not a list", base: `{"id":"/a","constraints":"zone","container":{"docker":{"image":"x","portMappings":[{"containerPort":80}]}}}`, wantErr: "constraints is not a list"},
		{name: "two instances", base: strings.Replace(valid, `"instances": 1`, `"instances": 2`, 1), wantErr: "/instances: is 2"},
		{name: "schema violation", base: strings.Replace(valid, `"cpus": 0.5`, `"cpus": "half"`, 1), wantErr: "/cpus: expected number, but got string"},
		{name: "zero host port", base: valid, params: func(p *manifest.Params) { p.HostPort = 0 }, wantErr: "host port 0 is not in 1-65535"},
		{name: "empty zone", base: valid, params: func(p *manifest.Params) { p.Zone = "" }, wantErr: "zone is empty"},
		{name: "bad volume name", base: valid, params: func(p *manifest.Params) { p.VolumeName = "a:/etc" }, wantErr: `volume name "a:/etc" is not a Docker volume name`},
		{name: "no volume driver", base: valid, params: func(p *manifest.Params) { p.VolumeDriver = "" }, wantErr: "volume driver is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := params()
			if tt.params != nil {
				tt.params(&p)
			}
			out, err := manifest.Render([]byte(tt.base), p)
			if err == nil {
				t.Fatalf("Render succeeded, want error containing %q; output:\n%s", tt.wantErr, out)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Render error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestAppID(t *testing.T) {
	tests := []struct {
		doc, want, wantErr string
	}{
		{doc: `{"id":"/marathon-ha/moby-counter"}`, want: "/marathon-ha/moby-counter"},
		{doc: `{"id":"moby"}`, want: "/moby"},
		{doc: `{"id":"/"}`, wantErr: "manifest has no app id"},
		{doc: `{"cmd":"x"}`, wantErr: "manifest has no app id"},
		{doc: `nope`, wantErr: "manifest is not valid JSON"},
	}
	for _, tt := range tests {
		got, err := manifest.AppID([]byte(tt.doc))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("AppID(%s) error = %v, want %q", tt.doc, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("AppID(%s) = %q, %v; want %q", tt.doc, got, err, tt.want)
		}
	}
}
