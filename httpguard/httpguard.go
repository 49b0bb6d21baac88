// Package httpguard bounds what one client can hold of leadpipe's HTTP server: connections per
// client address (LimitPerClient), and time spent waiting on a client that stopped sending its
// request or reading its answer (Stalls). It also sets the headers every answer carries
// (NoSniff).
package httpguard

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// LimitPerClient returns a listener that lets each remote IP hold at most perClient open
// connections: a connection past that is closed as soon as it is accepted, so that one client's
// idle connections cannot take every file descriptor or worker of the server from the others.
func LimitPerClient(l net.Listener, perClient int) net.Listener {
	return &perClientListener{Listener: l, max: perClient, open: map[string]int{}}
}

type perClientListener struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int // open connections by remote IP
}

func (l *perClientListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if !l.take(ip) {
			c.Close()
			continue
		}
		return &clientConn{Conn: c, release: sync.OnceFunc(func() { l.release(ip) })}, nil
	}
}

// take counts a new connection of ip, unless ip already holds the most it may.
func (l *perClientListener) take(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip] >= l.max {
		return false
	}
	l.open[ip]++
	return true
}

func (l *perClientListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// remoteIP is the address a connection comes from, without its port.
func remoteIP(c net.Conn) string {
	addr := c.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// clientConn gives its client's place back when it is closed.
type clientConn struct {
	net.Conn
	release func()
}

func (c *clientConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// Stalls bounds how long h waits on its client: every read of a request body and every write
// of an answer must make progress within stall, or the connection is cut. There is no total
// deadline: an upload takes as long as its link needs, as long as its bytes keep coming, and
// the time the server itself takes between reads or writes (checking a large file, say) is
// not counted.
func Stalls(h http.Handler, stall time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		body := &stallReader{ReadCloser: r.Body, rc: rc, stall: stall, done: r.Body == nil || r.Body == http.NoBody}
		if !body.done {
			r.Body = body
		}
		h.ServeHTTP(&stallWriter{ResponseWriter: w, rc: rc, stall: stall}, r)
		// After h, the server writes what is buffered and reads what is left of the body.
		rc.SetWriteDeadline(time.Now().Add(stall)) //nolint:errcheck // unsupported only on hijacked or HTTP/2 connections
		if !body.done {
			rc.SetReadDeadline(time.Now().Add(stall)) //nolint:errcheck // as above
		}
	})
}

// stallReader gives each read of a request body stall to return, until the body ends: the
// server then reads the connection itself, to see the client leave, without a deadline.
type stallReader struct {
	io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
	done  bool // the body has ended
}

func (s *stallReader) Read(p []byte) (int, error) {
	if s.done {
		return s.ReadCloser.Read(p)
	}
	s.rc.SetReadDeadline(time.Now().Add(s.stall)) //nolint:errcheck // see Stalls
	n, err := s.ReadCloser.Read(p)
	s.done = err != nil
	return n, err
}

// stallWriter gives each write of an answer stall to reach the client.
type stallWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func (s *stallWriter) Write(p []byte) (int, error) {
	s.rc.SetWriteDeadline(time.Now().Add(s.stall)) //nolint:errcheck // see Stalls
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (s *stallWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// NoSniff makes every answer of h carry X-Content-Type-Options: nosniff, so that no browser
// runs as a page or script what is served as data (an original file, a CSV report).
func NoSniff(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}
