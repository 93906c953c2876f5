package facts

import "time"

// Linux page-cache writeback, which decides when a click the app has
// acknowledged is really on the EBS volume.
const (
	// DirtyExpire and DirtyWriteback are the kernel's defaults for
	// vm.dirty_expire_centisecs (3000: dirty data older than 30 s is
	// written out by the next flusher run) and vm.dirty_writeback_centisecs
	// (500: the flusher threads wake every 5 s) (Linux
	// Documentation/admin-guide/sysctl/vm.rst; mm/page-writeback.c:
	// dirty_expire_interval = 30 * 100, dirty_writeback_interval = 5 * 100).
	DirtyExpire    = 30 * time.Second
	DirtyWriteback = 5 * time.Second

	// PageCacheFlushWait is how long kill-node and the rehearsal wait after
	// their last acknowledged click before they kill the node (both take it
	// as the default of their --flush-wait). Moby Counter stores a
	// click with fs.writeFileSync (binocarlos/moby-counter localfile
	// index.js), which returns once the data is in the page cache, not on
	// disk; the kernel writes it back at most DirtyExpire plus one
	// DirtyWriteback period later. A node terminated sooner may lose the
	// click although the app acknowledged it: that is the kernel's
	// contract, not a failover bug, so the tools wait it out. A graceful
	// kill flushes the page cache anyway (the OS shutdown unmounts the
	// volume); a crash (SkipOsShutdown) does not.
	PageCacheFlushWait = DirtyExpire + DirtyWriteback
)

// The agents' bound on what a crash can lose (issue 18): Moby Counter never
// fsyncs, so an acknowledged click is safe only once the kernel has written
// it back and ext4 has committed the file's new size. The agents lower the
// kernel's writeback timers (sysctl) and the journal's commit interval so
// that a crash loses at most CrashLossBound of acknowledged clicks. The
// kill-node and rehearsal workloads judge the measured RPO against it.
const (
	// AgentDirtyExpire and AgentDirtyWriteback are the agents'
	// vm.dirty_expire_centisecs (50) and vm.dirty_writeback_centisecs (50):
	// data dirty for more than 0.5 s is written by the flusher, which wakes
	// every 0.5 s (Linux Documentation/admin-guide/sysctl/vm.rst), so a
	// click's data reaches the device at most 1 s after it was written.
	AgentDirtyExpire    = 500 * time.Millisecond
	AgentDirtyWriteback = 500 * time.Millisecond
	// AgentJournalCommit is the ext4 commit interval of the app's volume
	// (commit=1; the default 5 s "you will lose as much as the latest 5
	// seconds of metadata changes", Linux Documentation/admin-guide/ext4.rst).
	// Neither driver passes mount options: REX-Ray 0.11.4 mounts with an
	// empty types.DeviceMountOpts{} and has no setting for them (rexray/rexray
	// libstorage/drivers/integration/linux/linux.go@v0.11.4 Mount); Flocker
	// 1.15 runs a bare `mount DEVICE MOUNTPOINT` (ClusterHQ/flocker
	// flocker/node/agents/blockdevice_manager.py@1.15.0 mount). So the
	// agent's JournalCommitUnit remounts the driver's ext4 mounts with
	// commit=1 within a second of their appearance (ext4 accepts commit= on
	// a remount) and writes it into the filesystem's default mount options
	// (tune2fs -E mount_opts), which ext4 reads at every later mount.
	AgentJournalCommit = 1 * time.Second
	// CrashLossBound is the age of the newest acknowledged click a crash may
	// lose: data written back within AgentDirtyExpire + AgentDirtyWriteback,
	// then committed within AgentJournalCommit. Not bounded: the first
	// second after a volume's first mount on an agent, before the watch
	// remounted it, when the default 5 s commit still applies (a volume
	// whose superblock already carries commit=1 mounts with it).
	CrashLossBound = AgentDirtyExpire + AgentDirtyWriteback + AgentJournalCommit
)
