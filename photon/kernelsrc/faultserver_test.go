// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
)

// fault is what the test server does wrong for one path.
type fault int

const (
	faultNone     fault = iota
	faultNotFound       // 404
	faultCorrupt        // full length, one byte flipped
	faultTruncate       // declares the full length, sends half, closes
	faultStall          // sends half, then hangs until the client gives up
	faultError          // 503
)

// faultServer serves a directory with Range support and injects faults.
type faultServer struct {
	root     string
	files    http.Handler
	mu       sync.Mutex
	faults   map[string]fault // by URL path
	remain   map[string]int   // faults left before serving normally (0 = always)
	requests atomic.Int64
	ranges   atomic.Int64 // requests that carried a Range header
}

func newFaultServer(root string) *faultServer {
	return &faultServer{root: root, files: http.FileServer(http.Dir(root)), faults: map[string]fault{}, remain: map[string]int{}}
}

// set injects f on urlPath for the next n requests (n = 0: until cleared).
func (s *faultServer) set(urlPath string, f fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[urlPath] = f
	s.remain[urlPath] = n
}

func (s *faultServer) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string]fault{}
	s.remain = map[string]int{}
}

func (s *faultServer) take(urlPath string) fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults[urlPath]
	if n := s.remain[urlPath]; n > 0 {
		if n == 1 {
			delete(s.faults, urlPath)
		}
		s.remain[urlPath] = n - 1
	}
	return f
}

func (s *faultServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.Header.Get("Range") != "" {
		s.ranges.Add(1)
	}
	f := s.take(r.URL.Path)
	if f == faultNone {
		s.files.ServeHTTP(w, r)
		return
	}
	if f == faultNotFound {
		http.NotFound(w, r)
		return
	}
	if f == faultError {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	data, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(r.URL.Path)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	switch f {
	case faultCorrupt:
		bad := append([]byte(nil), data...)
		bad[len(bad)/2] ^= 0xff
		_, _ = w.Write(bad)
	case faultTruncate:
		_, _ = w.Write(data[:len(data)/2])
		// Returning short of Content-Length makes the server close the connection.
	case faultStall:
		_, _ = w.Write(data[:len(data)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
}
