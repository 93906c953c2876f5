package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/marathon-ha/marathon-ha/apps"
	"github.com/marathon-ha/marathon-ha/internal/config"
	"github.com/marathon-ha/marathon-ha/internal/facts"
	"github.com/marathon-ha/marathon-ha/internal/manifest"
	"github.com/marathon-ha/marathon-ha/internal/opflags"
)

// fromStack reads the stack (--stack or --outputs) and sets what it
// decides: the Marathon URLs, the app id to delete, and the app
// definition, rendered as the program renders it (components/cluster.go:
// manifest.Render of the base with the stack's image, app port, volume
// driver, volume and zone).
func fromStack(ctx context.Context, fs *opflags.FlagSet, o *options, stdin io.Reader) error {
	outs, err := fs.LoadOutputs(ctx, stdin, pulumi)
	if err != nil {
		return err
	}
	if !fs.IsSet("marathon") {
		o.marathonURL = strings.Join(outs.MarathonURLs, ",")
	}
	if o.del {
		if o.appID == "" && !fs.IsSet("manifest") {
			o.appID = outs.AppID
		}
		return nil
	}
	cfg := map[string]string{}
	if fs.Stack != "" {
		if cfg, err = fs.LoadConfig(ctx, pulumi); err != nil {
			return err
		}
	}
	get := func(key string) string {
		if v := cfg[facts.Project+":"+key]; v != "" {
			return v
		}
		return config.DefaultOf(key)
	}
	base, from := apps.MobyCounter, "apps/moby-counter.json"
	switch {
	case fs.IsSet("manifest"):
		if base, err = readManifest(o.manifestPath, stdin); err != nil {
			return err
		}
		from = source(o.manifestPath)
	case get(config.KeyAppManifest) != "":
		// Relative to the project directory, as the program reads it.
		from = filepath.Join(fs.Cwd, get(config.KeyAppManifest))
		if base, err = os.ReadFile(from); err != nil {
			return fmt.Errorf("reading the stack's %s:%s: %w", facts.Project, config.KeyAppManifest, err)
		}
	}
	port := outs.AppPort
	if port == 0 { // a stack made before the output: its config, or the default
		fmt.Sscan(get(config.KeyAppPort), &port)
	}
	o.rendered, err = manifest.Render(base, manifest.Params{AppID: facts.AppID, Image: get(config.KeyAppImage), HostPort: port,
		VolumeDriver: facts.DockerVolumeDriverName[outs.VolumeDriver], VolumeName: outs.VolumeName, Zone: outs.AvailabilityZone})
	if err != nil {
		return fmt.Errorf("%s rendered for stack %s: %w", from, outs.Stack, err)
	}
	return nil
}

// templateZone is the placeholder of the repository's template in its zone
// constraint (apps/apps.go: "unset", which matches no agent), read from the
// template itself.
func templateZone() string {
	var app struct {
		Constraints [][]string `json:"constraints"`
	}
	if err := json.Unmarshal(apps.MobyCounter, &app); err != nil {
		panic(fmt.Sprintf("apps/moby-counter.json: %v", err))
	}
	for _, c := range app.Constraints {
		if len(c) == 3 && c[0] == facts.AgentZoneAttribute {
			return c[2]
		}
	}
	panic("apps/moby-counter.json has no zone constraint")
}

// checkRendered refuses a manifest that still holds the template's zone
// placeholder: posted as it is, the app would never be placed.
func checkRendered(doc []byte) error {
	var app struct {
		Constraints [][]any `json:"constraints"`
	}
	if err := json.Unmarshal(doc, &app); err != nil {
		return nil // manifest.Validate says what is wrong with it
	}
	for _, c := range app.Constraints {
		if len(c) == 3 && c[0] == facts.AgentZoneAttribute && c[2] == templateZone() {
			return errors.New("this is the template (apps/moby-counter.json): its zone constraint is still the placeholder " +
				fmt.Sprintf("%q, so Marathon would never place the app; pass --stack NAME (or --outputs FILE) to render it from the stack", templateZone()))
		}
	}
	return nil
}
