// Package apps holds the Marathon app definitions the cluster deploys.
//
// moby-counter.json is the 2015 demo's app.json (ClusterHQ/marathon-ha-demo)
// as a single app, improved: an HTTP health check on the app's ping
// endpoint, upgradeStrategy 0/0 so the old task releases the volume before
// the new one mounts it, unreachableStrategy 0/0 so a task lost with its
// agent is replaced at once (1.4.9's default is also 0/0, but 1.4.0 to 1.4.8
// and the 1.4 docs say 300 s, so the app does not rely on it), a zone
// constraint, and no forced image pull, so a failover does not depend on
// Docker Hub.
//
// The host port, the volume-driver and volume parameters and the zone
// constraint hold placeholders: manifest.Render sets them from the stack's
// configuration. The zone placeholder "unset" matches no agent, so the raw
// file posted by hand never lands in the wrong zone.
package apps

import _ "embed"

// MobyCounter is the default Marathon app definition of Moby Counter.
//
//go:embed moby-counter.json
var MobyCounter []byte
