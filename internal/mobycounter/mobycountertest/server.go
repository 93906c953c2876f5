// Package mobycountertest holds stand-ins for the failover tests: a Moby
// Counter server that behaves like binocarlos/moby-counter's localfile
// server.js, and a classic ELB in front of it, with its instances' health
// checks and the Elastic Load Balancing API that reports them
// (DescribeLoadBalancers, DescribeInstanceHealth).
//
// The server keeps its clicks in <dir>/file.json exactly as the app keeps
// them in /data/file.json on its volume, so "moving the volume" is starting
// a second server on the same dir: it sees every click the first one wrote
// to disk. With WithBuffered, writes stay in memory (the page cache) until
// Sync, to model clicks acknowledged but not yet on disk: Close loses them,
// as a crash does; Shutdown syncs first, as the OS shutdown that EC2's
// default terminate performs does (domain notes, section 2.3). WithWriteback
// adds the kernel's flusher: dirty data older than the expiry is written at
// the flusher's next wake-up.
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
	buffered  bool
	expire    time.Duration
	wakeEvery time.Duration
	stop      chan struct{}
	flusher   sync.WaitGroup

	mu         sync.Mutex
	pending    []string  // buffered state; nil when the file is current
	dirtySince time.Time // when pending stopped matching the file
	closed     bool
	refusing   bool // shutting down: no more clicks
}

// NewServer starts a server keeping its clicks in dir/file.json, creating
// the file with an empty list if it is missing, as server.js does at start.
func NewServer(dir string, opts ...ServerOption) (*Server, error) {
	s := &Server{path: filepath.Join(dir, DataFile)}
	for _, o := range opts {
		o(s)
	}
	if _, err := os.Stat(s.path); errors.Is(err, os.ErrNotExist) {
		if err := writeData(s.path, []string{}); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("starting Moby Counter on %s: %w", s.path, err)
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
		if s.pending != nil && time.Since(s.dirtySince) >= s.expire {
			_ = s.syncLocked() // an error leaves the data dirty, as a failed writeback does
		}
		s.mu.Unlock()
	}
}

// Path returns the data file's path.
func (s *Server) Path() string { return s.path }

// Sync writes buffered clicks to the file.
func (s *Server) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked()
}

func (s *Server) syncLocked() error {
	if s.pending == nil {
		return nil
	}
	if err := writeData(s.path, s.pending); err != nil {
		return err
	}
	s.pending = nil
	return nil
}

// Close stops the server at once; buffered clicks are lost, as in a crash.
func (s *Server) Close() {
	s.mu.Lock()
	already := s.closed
	s.pending, s.closed = nil, true
	s.mu.Unlock()
	if !already {
		close(s.stop)
	}
	s.flusher.Wait()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Shutdown stops taking clicks, syncs, then stops the server, as a clean OS
// shutdown does: Docker stops the app before the volume is flushed and
// unmounted, so no click is acknowledged after the flush and then dropped.
func (s *Server) Shutdown() error {
	s.mu.Lock()
	s.refusing = true
	err := s.syncLocked()
	s.mu.Unlock()
	s.Close()
	return err
}

// Clicks returns what GET /v1/whales would answer now.
func (s *Server) Clicks() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readLocked()
}

func (s *Server) readLocked() ([]string, error) {
	if s.pending != nil {
		return slices.Clone(s.pending), nil
	}
	return readData(s.path)
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
	if s.closed || s.refusing {
		return errors.New("server closed")
	}
	data, err := s.readLocked()
	if err != nil {
		return err
	}
	data = append(data, click)
	if s.buffered {
		if s.pending == nil {
			s.dirtySince = time.Now()
		}
		s.pending = data
		return nil
	}
	return writeData(s.path, data)
}
