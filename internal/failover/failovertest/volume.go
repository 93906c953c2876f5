package failovertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter/mobycountertest"
)

// The app's EBS volume and the instances' mounts of it.
//
// EBS attaches a volume to one instance at a time (EC2 API reference,
// AttachVolume: a volume that is not available is refused with
// VolumeInUse), and an app server sees it only through its own instance's
// page cache (mobycountertest's Disk): a click is acknowledged once it is
// in that cache (Moby Counter's fs.writeFileSync returns then), and reaches
// the volume only when the kernel writes it back (the flusher, after
// facts.AgentDirtyExpire, waking every facts.AgentDirtyWriteback; or a
// sync) and only through the attachment it was mounted on. A mount whose
// attachment was taken away (a forced DetachVolume: "The instance won't
// have an opportunity to flush file system caches or file system
// metadata", API reference, DetachVolume Force; shared notes fencing.md
// section 5) can no longer write: the writeback fails with EIO and the
// kernel drops the pages' dirty bit (Linux Documentation/filesystems/vfs.rst,
// "Handling errors during writeback"), so the clicks it held are lost even
// though the app acknowledged them, and even if the volume is attached
// again (elsewhere, or as a new device here). The same holds for a mount
// unmounted by the self-fence. The mount is revoked by the cluster at the
// moment it asks EC2 for the forced detach, so no lock of EC2's stand-in
// is taken under an app server's lock.

// volume is the volume's content, kept in the data directory's file.json
// as the app keeps /data/file.json.
type volume struct {
	mu   sync.Mutex
	path string
}

func (v *volume) read() ([]string, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	raw, err := os.ReadFile(v.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var data []string
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, false, fmt.Errorf("parsing %s: %w", v.path, err)
	}
	return data, true, nil
}

func (v *volume) write(data []string) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return os.WriteFile(v.path, raw, 0o644)
}

// VolumeClicks returns what the app's volume holds now: the clicks that
// reached it.
func (c *Cluster) VolumeClicks() ([]string, error) {
	data, _, err := c.vol.read()
	return data, err
}

// mount is one instance's mount of the volume: the Disk its app server
// reads and writes back through.
type mount struct {
	vol            *volume
	rec            *recorder
	instance, host string

	mu      sync.Mutex
	revoked string // why it can no longer reach the volume; "" while it can
}

var _ mobycountertest.Disk = (*mount)(nil)

func newMount(v *volume, rec *recorder, instance, host string) *mount {
	return &mount{vol: v, rec: rec, instance: instance, host: host}
}

// revoke takes the volume away from the mount.
func (m *mount) revoke(why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.revoked == "" {
		m.revoked = why
	}
}

func (m *mount) ioError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.revoked == "" {
		return nil
	}
	return fmt.Errorf("EIO: the app's volume is no longer this instance's (%s)", m.revoked)
}

func (m *mount) ReadFile() ([]string, bool, error) {
	if err := m.ioError(); err != nil {
		return nil, false, err
	}
	return m.vol.read()
}

func (m *mount) WriteFile(data []string) error {
	if err := m.ioError(); err != nil {
		onDisk, _, _ := m.vol.read()
		m.rec.add(Event{At: time.Now(), Kind: EventWritebackLost, Instance: m.instance, Host: m.host,
			Detail: fmt.Sprintf("%v; clicks not on the volume: %v", err, missing(data, onDisk))})
		return err
	}
	return m.vol.write(data)
}

// missing lists the clicks of want that have is short of.
func missing(want, have []string) []string {
	left := slices.Clone(have)
	var out []string
	for _, c := range want {
		if i := slices.Index(left, c); i >= 0 {
			left = slices.Delete(left, i, i+1)
			continue
		}
		out = append(out, c)
	}
	return out
}

func volumePath(dir string) string { return filepath.Join(dir, mobycountertest.DataFile) }
