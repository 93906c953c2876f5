// Package manifest renders and checks the Marathon app definition of Moby
// Counter: it takes the repository's default (apps.MobyCounter) or a user's
// replacement, sets the fields the cluster dictates, keeps every other field
// the user wrote, and checks the result against Marathon 1.4's app schema and
// the rules a single-writer volume imposes.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/marathon-ha/marathon-ha/internal/facts"
)

// Params are the values the cluster dictates to the manifest.
type Params struct {
	// AppID is the Marathon app id, e.g. facts.AppID. Empty keeps the
	// manifest's own id.
	AppID string
	// Image replaces container.docker.image when non-empty.
	Image string
	// HostPort is the agent port the container's facts.AppContainerPort is
	// published on; the ELB forwards to it.
	HostPort int
	// VolumeDriver is the name Docker knows the volume driver by
	// (facts.DockerVolumeDriverName[...]), e.g. "flocker" or "rexray/ebs".
	VolumeDriver string
	// VolumeName is the name of the data volume, mounted at facts.AppDataPath.
	VolumeName string
	// Zone is the availability zone the app must run in, beside its volume.
	Zone string
}

// Docker parameter keys the cluster sets: `docker run --volume-driver` and
// `--volume` (Marathon passes container.docker.parameters as `--key=value`,
// mesosphere/marathon docs/docs/native-docker.md "Privileged Mode and
// Arbitrary Docker Options").
const (
	paramVolumeDriver = "volume-driver"
	paramVolume       = "volume"
)

// dockerVolumeName is what Docker accepts as a volume name (moby/moby
// daemon/names: RestrictedNameChars "[a-zA-Z0-9][a-zA-Z0-9_.-]").
var dockerVolumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func (p Params) check() error {
	var problems []string
	if p.HostPort < 1 || p.HostPort > 65535 {
		problems = append(problems, fmt.Sprintf("host port %d is not in 1-65535", p.HostPort))
	}
	if p.VolumeDriver == "" {
		problems = append(problems, "volume driver is empty")
	}
	if !dockerVolumeName.MatchString(p.VolumeName) {
		problems = append(problems, fmt.Sprintf("volume name %q is not a Docker volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)", p.VolumeName))
	}
	if p.Zone == "" {
		problems = append(problems, "zone is empty: the app must be pinned to its volume's availability zone")
	}
	if len(problems) > 0 {
		return fmt.Errorf("rendering the manifest: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Render parses a Marathon app definition, sets the fields the cluster
// dictates (id, image if p.Image is set, the host port of the mapping for
// container port facts.AppContainerPort, the volume-driver and volume Docker
// parameters, the zone constraint) and returns it as canonical JSON: keys
// sorted, two-space indent, numbers as written. It rejects a manifest that
// cannot carry those fields and validates the result (see Validate).
func Render(base []byte, p Params) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	app, err := decodeObject(base)
	if err != nil {
		return nil, err
	}
	if p.AppID != "" {
		app["id"] = p.AppID
	}
	docker, err := dockerSection(app)
	if err != nil {
		return nil, err
	}
	if p.Image != "" {
		docker["image"] = p.Image
	}
	if err := setHostPort(docker, p.HostPort); err != nil {
		return nil, err
	}
	if err := setVolume(docker, p.VolumeDriver, p.VolumeName); err != nil {
		return nil, err
	}
	if err := setZone(app, p.Zone); err != nil {
		return nil, err
	}
	out, err := encode(app)
	if err != nil {
		return nil, err
	}
	if err := Validate(out); err != nil {
		return nil, err
	}
	return out, nil
}

// AppID returns the id of a Marathon app definition, made absolute as
// Marathon does ("moby" is "/moby").
func AppID(doc []byte) (string, error) {
	app, err := decodeObject(doc)
	if err != nil {
		return "", err
	}
	id, ok := app["id"].(string)
	if !ok || strings.Trim(id, "/") == "" {
		return "", errors.New("manifest has no app id: set \"id\", e.g. " + facts.AppID)
	}
	if !strings.HasPrefix(id, "/") {
		id = "/" + id
	}
	return id, nil
}

// decodeValue decodes one JSON value, numbers kept as json.Number so they
// are written back exactly as the user wrote them.
func decodeValue(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("manifest is not valid JSON: text after the first value")
	}
	return v, nil
}

func decodeObject(doc []byte) (map[string]any, error) {
	v, err := decodeValue(doc)
	if err != nil {
		return nil, err
	}
	app, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("manifest is a JSON %s, not an object: it must be one Marathon app definition", jsonKind(v))
	}
	return app, nil
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// dockerSection returns container.docker, insisting on the Docker
// containerizer: the volume-driver parameter is a `docker run` flag.
func dockerSection(app map[string]any) (map[string]any, error) {
	container, ok := app["container"].(map[string]any)
	if !ok {
		return nil, errors.New("manifest has no container section: Moby Counter runs as a Docker container (container.type DOCKER)")
	}
	switch t := container["type"]; t {
	case nil:
		container["type"] = "DOCKER"
	case "DOCKER":
	default:
		return nil, fmt.Errorf("manifest's container.type is %v: the volume driver needs the Docker containerizer, set \"DOCKER\"", t)
	}
	docker, ok := container["docker"].(map[string]any)
	if !ok {
		return nil, errors.New("manifest has no container.docker section")
	}
	switch n := docker["network"]; n {
	case nil:
		docker["network"] = "BRIDGE"
	case "BRIDGE", "USER":
	default:
		return nil, fmt.Errorf("manifest's container.docker.network is %v: port mappings (container port %d to the host port) need BRIDGE networking", n, facts.AppContainerPort)
	}
	return docker, nil
}

func setHostPort(docker map[string]any, hostPort int) error {
	mappings, _ := docker["portMappings"].([]any)
	found := false
	for _, m := range mappings {
		pm, ok := m.(map[string]any)
		if !ok {
			continue
		}
		if n, ok := pm["containerPort"].(json.Number); ok && n.String() == fmt.Sprint(facts.AppContainerPort) {
			pm["hostPort"] = hostPort
			found = true
		}
	}
	if !found {
		return fmt.Errorf("manifest maps no port to container port %d: add {\"containerPort\": %d, \"protocol\": \"tcp\"} to container.docker.portMappings",
			facts.AppContainerPort, facts.AppContainerPort)
	}
	return nil
}

// setVolume drops any volume-driver parameter and any volume mounted at
// facts.AppDataPath, then appends the cluster's pair. Other parameters,
// including other volumes, stay as the user wrote them.
func setVolume(docker map[string]any, driver, name string) error {
	var params []any
	if raw, ok := docker["parameters"]; ok {
		list, ok := raw.([]any)
		if !ok {
			return errors.New("manifest's container.docker.parameters is not a list of {\"key\", \"value\"} objects")
		}
		params = list
	}
	kept := make([]any, 0, len(params)+2)
	for _, raw := range params {
		p, ok := raw.(map[string]any)
		if !ok {
			return errors.New("manifest's container.docker.parameters holds an entry that is not a {\"key\", \"value\"} object")
		}
		key, _ := p["key"].(string)
		value, _ := p["value"].(string)
		if key == paramVolumeDriver || (key == paramVolume && mountsAt(value, facts.AppDataPath)) {
			continue
		}
		kept = append(kept, p)
	}
	kept = append(kept,
		map[string]any{"key": paramVolumeDriver, "value": driver},
		map[string]any{"key": paramVolume, "value": name + ":" + facts.AppDataPath},
	)
	docker["parameters"] = kept
	return nil
}

// mountsAt reports whether a `docker run --volume` value ("src:dst[:opts]")
// mounts at dst.
func mountsAt(volume, dst string) bool {
	parts := strings.Split(volume, ":")
	return len(parts) >= 2 && strings.TrimSuffix(parts[1], "/") == dst
}

// setZone replaces every constraint on the zone attribute with one CLUSTER
// constraint on the cluster's zone; other constraints stay.
func setZone(app map[string]any, zone string) error {
	var constraints []any
	if raw, ok := app["constraints"]; ok {
		list, ok := raw.([]any)
		if !ok {
			return errors.New("manifest's constraints is not a list of [field, operator, value] lists")
		}
		constraints = list
	}
	kept := make([]any, 0, len(constraints)+1)
	for _, raw := range constraints {
		c, ok := raw.([]any)
		if !ok {
			return errors.New("manifest's constraints holds an entry that is not a [field, operator, value] list")
		}
		if len(c) > 0 && c[0] == facts.AgentZoneAttribute {
			continue
		}
		kept = append(kept, c)
	}
	app["constraints"] = append(kept, []any{facts.AgentZoneAttribute, "CLUSTER", zone})
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
