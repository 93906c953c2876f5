// Package mobycountertest holds stand-ins for the failover tests: a Moby
// Counter server that behaves like binocarlos/moby-counter's localfile
// server.js, and a classic ELB in front of it, with its instances' health
// checks and the Elastic Load Balancing API that reports them
// (DescribeLoadBalancers, DescribeInstanceHealth).
//
// The server keeps its clicks in <dir>/file.json exactly as the app keeps
// them in /data/file.json on its volume, so "moving the volume" is starting
// a second server on the same dir: it sees every click the first one wrote
// to disk. NewServerOn puts the server on a Disk instead: the volume as one
// instance sees it, which may refuse a write (a volume detached from under
// the instance). The server reads the file through its own page cache, as
// server.js's fs.readFileSync does: once read, the content stays cached in
// this server (its instance), and another instance's writes to the device
// are not seen. With WithBuffered, writes stay in that cache (dirty) until
// Sync, to model clicks acknowledged but not yet on disk: Close loses them,
// as a crash does; Shutdown stops taking writes and syncs, as the OS
// shutdown that EC2's default terminate performs does (domain notes, section
// 2.3). WithWriteback adds the kernel's flusher: dirty data older than the
// expiry is written at the flusher's next wake-up. A writeback the disk
// refuses is lost, as Linux loses it (below).
package mobycountertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/marathon-ha/marathon-ha/internal/mobycounter"
)

// DataFile is the file name the app keeps its clicks in (index.js:
// datafile default /data/file.json).
const DataFile = "file.json"

// ServerOption configures a Server.
type ServerOption func(*Server)

// Disk is what lies under a server's page cache: the data file on the app's
// volume as this server's instance sees it.
type Disk interface {
	// ReadFile reads the data file from the device; ok false when it does
	// not exist yet.
	ReadFile() (data []string, ok bool, err error)
	// WriteFile writes the data file back to the device.
	WriteFile(data []string) error
}

// fileDisk is a directory standing in for the volume: every server on it
// shares the device.
type fileDisk struct{ path string }

func (d fileDisk) ReadFile() ([]string, bool, error) {
	if _, err := os.Stat(d.path); errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	data, err := readData(d.path)
	return data, err == nil, err
}

func (d fileDisk) WriteFile(data []string) error { return writeData(d.path, data) }

// WithOnAck calls hook with every click the server acknowledges, under its
// lock, before the answer leaves: the server's own record of what it
// promised.
func WithOnAck(hook func(click string)) ServerOption { return func(s *Server) { s.onAck = hook } }

// WithBuffered keeps written clicks in memory until Sync or Shutdown.
func WithBuffered() ServerOption { return func(s *Server) { s.buffered = true } }

// WithWriteback writes buffered clicks back the way Linux does
// (facts.DirtyExpire, facts.DirtyWriteback): a flusher wakes every
// interval and writes the data out once the oldest unwritten click is
// older than expire. It implies WithBuffered.
func WithWriteback(expire, interval time.Duration) ServerOption {
	return func(s *Server) { s.buffered, s.expire, s.wakeEvery = true, expire, interval }
}

// Server is a running Moby Counter stand-in.
type Server struct {
	// URL is the app's address, like http://<agent>:8500.
	URL string

	srv       *httptest.Server
	path      string
	disk      Disk
	onAck     func(string)
	buffered  bool
	expire    time.Duration
	wakeEvery time.Duration
	stop      chan struct{}
	stopOnce  sync.Once
	flusher   sync.WaitGroup

	mu         sync.Mutex
	cache      []string  // the page cache's copy of the file; nil until read
	dirty      bool      // cache holds writes the device has not got
	dirtySince time.Time // when cache stopped matching the device
	lostErr    error     // the last writeback the device refused
	closed     bool
}

// NewServer starts a server keeping its clicks in dir/file.json, creating
// the file with an empty list if it is missing, as server.js does at start.
func NewServer(dir string, opts ...ServerOption) (*Server, error) {
	path := filepath.Join(dir, DataFile)
	s, err := NewServerOn(fileDisk{path}, opts...)
	if err != nil {
		return nil, err
	}
	s.path = path
	return s, nil
}

// NewServerOn starts a server on disk, creating the data file with an empty
// list if it is missing, as server.js does at start (writeData([]), through
// the page cache like any write).
func NewServerOn(disk Disk, opts ...ServerOption) (*Server, error) {
	s := &Server{disk: disk}
	for _, o := range opts {
		o(s)
	}
	if _, ok, err := disk.ReadFile(); err != nil {
		return nil, fmt.Errorf("starting Moby Counter: %w", err)
	} else if !ok {
		if err := disk.WriteFile([]string{}); err != nil {
			return nil, fmt.Errorf("starting Moby Counter: %w", err)
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	s.stop = make(chan struct{})
	if s.wakeEvery > 0 {
		s.flusher.Add(1)
		go s.writeback()
	}
	return s, nil
}

// writeback is the kernel's flusher thread.
func (s *Server) writeback() {
	defer s.flusher.Done()
	t := time.NewTicker(s.wakeEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		if s.dirty && time.Since(s.dirtySince) >= s.expire {
			_ = s.syncLocked() // a refused writeback is lost (syncLocked)
		}
		s.mu.Unlock()
	}
}

// Path returns the data file's path ("" on a Disk of NewServerOn).
func (s *Server) Path() string { return s.path }

// Sync writes buffered clicks to the file.
func (s *Server) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked()
}

// syncLocked writes the dirty cache back. A write the device refuses is
// not retried: Linux marks the mapping with the error (EIO, reported to
// the next fsync or close) and clears the pages' dirty bit, so the data
// never reaches the disk (Documentation/filesystems/vfs.rst, "Handling
// errors during writeback"): the clicks are lost, although the cache (and
// so the app's answers) still holds them.
func (s *Server) syncLocked() error {
	if !s.dirty {
		return nil
	}
	s.dirty = false
	if err := s.disk.WriteFile(slices.Clone(s.cache)); err != nil {
		s.lostErr = err
		return err
	}
	return nil
}

// WritebackError returns the last writeback the device refused, nil if
// none: what the kernel reports as EIO.
func (s *Server) WritebackError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lostErr
}

// Close stops the server at once; buffered clicks are lost, as in a crash.
func (s *Server) Close() {
	s.mu.Lock()
	s.cache, s.dirty = nil, false
	s.mu.Unlock()
	s.stopServing()
}

func (s *Server) stopServing() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stopOnce.Do(func() { close(s.stop) })
	s.flusher.Wait()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Shutdown stops taking clicks, then syncs what the cache holds and stops
// serving, as a clean stop does (the app is stopped, then the file system
// is flushed and unmounted): nothing acknowledged after the sync. It
// returns the sync's error.
func (s *Server) Shutdown() error {
	s.mu.Lock()
	s.closed = true
	err := s.syncLocked()
	s.cache, s.dirty = nil, false
	s.mu.Unlock()
	s.stopServing()
	return err
}

// Clicks returns what GET /v1/whales would answer now.
func (s *Server) Clicks() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readLocked()
}

func (s *Server) readLocked() ([]string, error) {
	if s.cache == nil {
		data, _, err := s.disk.ReadFile()
		if err != nil {
			return nil, err
		}
		if data == nil {
			data = []string{}
		}
		s.cache = data
	}
	return slices.Clone(s.cache), nil
}

func readData(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var data []string
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return data, nil
}

// writeData writes the list like fs.writeFileSync(dataFile, JSON.stringify(data)).
func writeData(path string, data []string) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// serve routes like server.js: /v1/ping, /v1/whales, and the static client
// for everything else (ecstatic: 200 for the page, 404 for unknown files).
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == mobycounter.PingPath && r.Method == http.MethodGet:
		w.Header().Set("Content-type", "application/json")
		_, _ = io.WriteString(w, `{"connected":true}`)
	case r.URL.Path == mobycounter.WhalesPath && r.Method == http.MethodGet:
		s.mu.Lock()
		data, err := s.readLocked()
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError) // node would crash: the request fails
			return
		}
		raw, _ := json.Marshal(data)
		w.Header()["Content-Type"] = nil // server.js sets none; nil stops Go from sniffing one
		_, _ = w.Write(raw)
	case r.URL.Path == mobycounter.WhalesPath && r.Method == http.MethodPost:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.append(string(body)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	case r.URL.Path == mobycounter.PingPath || r.URL.Path == mobycounter.WhalesPath:
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
	case r.URL.Path == "/" || r.URL.Path == "/index.html":
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<!doctype html><title>Moby Counter</title><div id=\"whales\"></div>")
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) append(click string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server closed")
	}
	data, err := s.readLocked()
	if err != nil {
		return err
	}
	data = append(data, click)
	if !s.buffered {
		// Written through before the answer: the tests that are not
		// about the page cache.
		if err := s.disk.WriteFile(slices.Clone(data)); err != nil {
			return err
		}
	} else if !s.dirty {
		s.dirty, s.dirtySince = true, time.Now()
	}
	s.cache = data
	if s.onAck != nil {
		s.onAck(click)
	}
	return nil
}
