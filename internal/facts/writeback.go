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
