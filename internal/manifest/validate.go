package manifest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// appSchema is Marathon 1.4's JSON schema for app definitions, copied
// unchanged from shared/reference/marathon-1.4/AppDefinition.json (Marathon
// 1.4's docs/docs/rest-api/public/api/v2/schema/AppDefinition.json,
// mesosphere/marathon; sha256 fbdf084f...84eb). Marathon 1.4 is the pinned
// line (facts.MarathonImage).
//
//go:embed schema/marathon-1.4-AppDefinition.json
var appSchema []byte

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	compileErr  error
)

// schema compiles appSchema once. The file declares "$schema":
// "http://json-schema.org/schema#", which a validator reads as the newest
// draft, but it is written in draft-04 (tuple "items" lists with
// "additionalItems" in "constraints"), which newer drafts reject; so the
// declaration is dropped and draft-04 is used.
func schema() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		var doc map[string]any
		if err := json.Unmarshal(appSchema, &doc); err != nil {
			compileErr = fmt.Errorf("reading Marathon 1.4's app schema: %w", err)
			return
		}
		delete(doc, "$schema")
		raw, err := json.Marshal(doc)
		if err != nil {
			compileErr = fmt.Errorf("re-encoding Marathon 1.4's app schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft4
		const url = "marathon-1.4/AppDefinition.json"
		if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
			compileErr = fmt.Errorf("loading Marathon 1.4's app schema: %w", err)
			return
		}
		compiled, compileErr = c.Compile(url)
		if compileErr != nil {
			compileErr = fmt.Errorf("compiling Marathon 1.4's app schema: %w", compileErr)
		}
	})
	return compiled, compileErr
}

// Validate checks a Marathon app definition against Marathon 1.4's app
// schema and against the rules a single-writer data volume imposes:
// exactly one instance, upgradeStrategy 0/0 (the old task must release the
// volume before the new one mounts it; Marathon itself refuses external
// volumes with maximumOverCapacity > 0, mesosphere/marathon
// docs/docs/external-volumes.md), an explicit unreachableStrategy object
// (Marathon 1.4.0 to 1.4.8 otherwise wait 300 s before replacing a lost
// task, docs/docs/configure-task-handling.md; 1.4.9 changed its default to
// 0/0, mesosphere/marathon UnreachableStrategy.scala@v1.4.9, and the app must
// not depend on which image runs), and one volume-driver and at least
// one volume Docker parameter. The error lists every problem found.
func Validate(doc []byte) error {
	s, err := schema()
	if err != nil {
		return err
	}
	v, err := decodeValue(doc)
	if err != nil {
		return err
	}
	var problems []string
	if err := s.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("validating the manifest against Marathon 1.4's app schema: %w", err)
		}
		problems = append(problems, schemaProblems(ve)...)
	}
	if app, ok := v.(map[string]any); ok {
		problems = append(problems, volumeRules(app)...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("manifest is not a valid Marathon 1.4 app for a single-writer volume:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// schemaProblems flattens a validation error into one line per failed leaf
// check, "<JSON pointer>: <message>", sorted and deduplicated.
func schemaProblems(ve *jsonschema.ValidationError) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := e.InstanceLocation
			if loc == "" {
				loc = "/"
			}
			line := fmt.Sprintf("%s: %s", loc, e.Message)
			if !seen[line] {
				seen[line] = true
				out = append(out, line)
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.Strings(out)
	return out
}

func volumeRules(app map[string]any) []string {
	var problems []string
	if n, ok := app["instances"].(json.Number); ok && n.String() != "1" {
		problems = append(problems, fmt.Sprintf("/instances: is %s; the data volume attaches to one host at a time, so it must be 1", n))
	}
	us, ok := app["upgradeStrategy"].(map[string]any)
	if !ok {
		problems = append(problems, `/upgradeStrategy: missing; set {"minimumHealthCapacity": 0, "maximumOverCapacity": 0} so the old task stops before the new one mounts the volume`)
	} else {
		for _, k := range []string{"minimumHealthCapacity", "maximumOverCapacity"} {
			if !isZero(us[k]) {
				problems = append(problems, fmt.Sprintf("/upgradeStrategy/%s: is %v; it must be 0 so the old task stops before the new one mounts the volume", k, us[k]))
			}
		}
	}
	if _, ok := app["unreachableStrategy"].(map[string]any); !ok {
		problems = append(problems, `/unreachableStrategy: must be an object such as {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0}; without it Marathon 1.4.0 to 1.4.8 wait 300 s before replacing a task lost with its agent (1.4.9 does not, but the image is configurable)`)
	}
	var drivers, volumes int
	if container, ok := app["container"].(map[string]any); ok {
		if docker, ok := container["docker"].(map[string]any); ok {
			params, _ := docker["parameters"].([]any)
			for _, raw := range params {
				p, _ := raw.(map[string]any)
				switch p["key"] {
				case paramVolumeDriver:
					drivers++
				case paramVolume:
					volumes++
				}
			}
		}
	}
	if drivers != 1 {
		problems = append(problems, fmt.Sprintf("/container/docker/parameters: has %d %q parameters; exactly one must name the volume driver", drivers, paramVolumeDriver))
	}
	if volumes == 0 {
		problems = append(problems, fmt.Sprintf("/container/docker/parameters: has no %q parameter; the app's data volume must be mounted", paramVolume))
	}
	return problems
}

// isZero reports whether a decoded JSON number is 0 (0, 0.0, 0e0).
func isZero(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	f, err := n.Float64()
	return err == nil && f == 0
}
