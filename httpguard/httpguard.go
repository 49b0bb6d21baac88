// Package httpguard bounds what one client can hold of leadpipe's HTTP server: connections per
// client address and time spent waiting on a client that stopped reading its answer
// (Listener), or stopped sending its request's body (BodyStalls). It also sets the headers
// every answer carries (Headers).
package httpguard

import (
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Listener returns a listener that lets each remote IP hold at most perClient open
// connections, and gives each write to a client stall to make progress. A connection past
// perClient is closed as soon as it is accepted, so that one client's idle connections cannot
// take every file descriptor of the server from the others. A write that makes no progress
// for stall (the client stopped reading) fails, and the server closes the connection.
func Listener(l net.Listener, perClient int, stall time.Duration) net.Listener {
	return &perClientListener{Listener: l, max: perClient, stall: stall, open: map[string]int{}}
}

type perClientListener struct {
	net.Listener
	max   int
	stall time.Duration
	mu    sync.Mutex
	open  map[string]int // open connections by remote IP
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
		return &clientConn{Conn: c, stall: l.stall, release: sync.OnceFunc(func() { l.release(ip) })}, nil
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

// clientConn writes in pieces, each given stall to be sent, and gives its client's place
// back when it is closed.
type clientConn struct {
	net.Conn
	stall   time.Duration
	release func()
}

// writePiece is what each write deadline covers: a client reading 4 KiB per http_stall_timeout
// (30 s: 137 bytes/s) keeps its download going.
const writePiece = 4 << 10

func (c *clientConn) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c.Conn.SetWriteDeadline(time.Now().Add(c.stall)) //nolint:errcheck // a TCP connection
		m, err := c.Conn.Write(p[n:min(len(p), n+writePiece)])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (c *clientConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// BodyStalls bounds how long h waits on a request body: every read of it must make progress
// within stall, or it fails and the connection is closed. There is no total deadline: an
// upload takes as long as its link needs, as long as its bytes keep coming, and the time the
// server itself takes between reads (checking a large file, say) is not counted.
func BodyStalls(h http.Handler, stall time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &stallReader{ReadCloser: r.Body, rc: http.NewResponseController(w), stall: stall,
			done: r.Body == nil || r.Body == http.NoBody}
		if !body.done {
			r.Body = body
		}
		h.ServeHTTP(w, r)
		if !body.done { // the server reads what is left of the body after h
			body.rc.SetReadDeadline(time.Now().Add(stall)) //nolint:errcheck // unsupported only on hijacked or HTTP/2 connections
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
	s.rc.SetReadDeadline(time.Now().Add(s.stall)) //nolint:errcheck // see BodyStalls
	n, err := s.ReadCloser.Read(p)
	s.done = err != nil
	return n, err
}

// ContentSecurityPolicy is the policy every answer carries: the page's scripts, styles and
// images come from the daemon itself, no inline script or style runs, it talks only to its own
// origin, and no other site may frame it (clickjacking).
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Headers makes every answer of h carry the security headers: X-Content-Type-Options: nosniff,
// so that no browser runs as a page or script what is served as data (an original file, a CSV
// report); the ContentSecurityPolicy; X-Frame-Options: DENY for browsers that predate
// frame-ancestors; and Referrer-Policy: same-origin, so no import id leaves in a Referer.
func Headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}
