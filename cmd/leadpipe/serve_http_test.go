package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/httpguard"

	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestHTTPConnectionsPerClient: one client holding many idle keep-alive connections, under a
// low open-file limit, does not make /healthz unreachable for another client. The daemon
// serves at most http_max_conns_per_client (8 here) connections of one IP and closes the rest
// as soon as it accepts them. Before that bound, the held connections took every file the
// daemon could open, and the other client's connection was never accepted.
func TestHTTPConnectionsPerClient(t *testing.T) {
	cliEnv(t)
	_, base, out := serveProcess(t, 128, "LEADPIPE_HTTP_MAX_CONNS_PER_CLIENT=8")
	addr := strings.TrimPrefix(base, "http://")

	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	for range 300 {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			continue // the backlog is full: the daemon is not accepting
		}
		held = append(held, c)
		fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: leadpipe\r\n\r\n") // answered, then idle
	}

	other := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	resp, err := other.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("another client's GET /healthz: %v, with %d idle connections held by one client; output:\n%s", err, len(held), out.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("another client's GET /healthz: %s", resp.Status)
	}

	// Of the held connections, exactly 8 were served; the others were closed unanswered.
	var mu sync.Mutex
	answered := 0
	var wg sync.WaitGroup
	for _, c := range held {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(3 * time.Second)) //nolint:errcheck // a TCP connection
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode == http.StatusOK {
				mu.Lock()
				answered++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if answered != 8 {
		t.Errorf("%d of one client's %d connections were served, want 8 (http_max_conns_per_client)", answered, len(held))
	}
}

// TestHTTPIdleAndStalledConnections: a keep-alive connection idle for http_idle_timeout is
// closed; an upload whose body stops coming for http_stall_timeout is cut; an upload that
// takes longer than http_stall_timeout but keeps sending is served.
func TestHTTPIdleAndStalledConnections(t *testing.T) {
	t.Setenv("LEADPIPE_HTTP_IDLE_TIMEOUT", "1s")
	t.Setenv("LEADPIPE_HTTP_STALL_TIMEOUT", "1s")
	d := startDaemon(t)
	addr := strings.TrimPrefix(d.base, "http://")

	// waitClosed waits up to 10 s for the daemon to answer or close c, and says how long it took.
	waitClosed := func(c net.Conn, r *bufio.Reader) (time.Duration, error) {
		start := time.Now()
		c.SetReadDeadline(start.Add(10 * time.Second)) //nolint:errcheck // a TCP connection
		_, err := io.Copy(io.Discard, r)
		return time.Since(start), err
	}

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: leadpipe\r\n\r\n")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // "ok"
	resp.Body.Close()
	if took, err := waitClosed(c, r); err != nil || took > 5*time.Second {
		t.Errorf("an idle keep-alive connection: closed after %s (%v), want it closed after about 1s", took.Round(time.Millisecond), err)
	}

	imports := func() int {
		t.Helper()
		var list struct{ Imports []json.RawMessage }
		if _, b := d.call("GET", "/v1/imports", "", nil); json.Unmarshal(b, &list) != nil {
			t.Fatalf("GET /v1/imports: %s", b)
		}
		return len(list.Imports)
	}
	before := imports()
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/imports HTTP/1.1\r\nHost: leadpipe\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"+
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stalled.csv\"\r\n\r\nEmail\n", d.token)
	if took, err := waitClosed(c, bufio.NewReader(c)); errors.Is(err, os.ErrDeadlineExceeded) || took > 5*time.Second {
		t.Errorf("a stalled upload: the daemon waited %s (%v), want it cut after about 1s", took.Round(time.Millisecond), err)
	}

	// The client's pooled connection has been idle about as long as the 1 s idle timeout, and a
	// request with a body that cannot be sent again is not retried when the daemon closes that
	// connection under it: the upload gets a connection of its own.
	http.DefaultClient.CloseIdleConnections()
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprint(pw, "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.csv\"\r\n\r\nEmail\n")
		for i := range 30 { // 3 s, 100 ms apart
			fmt.Fprintf(pw, "slow%d@stall.example\n", i)
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Fprint(pw, "\r\n--b--\r\n")
		pw.Close()
	}()
	if status, b := d.call("POST", "/v1/imports", "multipart/form-data; boundary=b", pr); status != http.StatusAccepted {
		t.Errorf("a slow upload that keeps sending: %d %s, want 202", status, b)
	}
	if got := imports(); got != before+1 {
		t.Errorf("%d imports queued, want only the slow upload's", got-before)
	}
}

// pgProxy forwards loopback connections to Postgres. Paused, it cuts the connections it
// forwards and refuses new ones: to the daemon, Postgres is down.
type pgProxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	paused bool
	conns  []net.Conn
}

// startPGProxy starts a proxy to the test database and returns it and the URL through it.
func startPGProxy(t *testing.T) (*pgProxy, *url.URL) {
	t.Helper()
	u, err := url.Parse(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := &pgProxy{l: l, target: u.Host}
	go p.serve()
	u.Host = l.Addr().String()
	return p, u
}

func (p *pgProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		up, err := net.Dial("tcp", p.target)
		if p.paused || err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }() //nolint:errcheck // ends with either side
		go func() { io.Copy(c, up); c.Close() }()  //nolint:errcheck // as above
	}
}

// pause cuts the connections through the proxy and refuses new ones until resume.
func (p *pgProxy) pause(paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = paused
	if paused {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestReadyzAndHeaders: /readyz says only ready or not ready; when Postgres does not answer,
// the reason (which names the database's user, name and address) is logged, not shown. Every
// answer, of the API, the page or neither, carries the security headers (httpguard.Headers).
func TestReadyzAndHeaders(t *testing.T) {
	cliEnv(t)
	proxy, proxied := startPGProxy(t)
	t.Setenv("LEADPIPE_POSTGRES_URL", proxied.String())
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	t.Setenv("LEADPIPE_FILES_DIR", t.TempDir())
	log := serveInBackground(t)
	base := "http://" + os.Getenv("LEADPIPE_HTTP_ADDR")
	get := func(path string) (int, http.Header, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, nil, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for status, _, _ := get("/readyz"); status != http.StatusOK; status, _, _ = get("/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer 200; log:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
		"Content-Security-Policy": httpguard.ContentSecurityPolicy, "Referrer-Policy": "same-origin"}
	for _, path := range []string{"/", "/assets/app.js", "/healthz", "/readyz", "/metrics", "/v1/imports", "/v1/imports/1/file", "/no-such-page"} {
		status, h, _ := get(path)
		for name, value := range want {
			if h.Get(name) != value {
				t.Errorf("GET %s (%d): %s %q, want %q", path, status, name, h.Get(name), value)
			}
		}
	}
	if !strings.Contains(httpguard.ContentSecurityPolicy, "script-src 'self';") || !strings.Contains(httpguard.ContentSecurityPolicy, "frame-ancestors 'none'") {
		t.Errorf("the policy allows inline script or framing: %s", httpguard.ContentSecurityPolicy)
	}
	if status, h, body := get("/"); status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, `src="/assets/app.js"`) {
		t.Errorf("GET /: %d %s, want the page:\n%s", status, h.Get("Content-Type"), body)
	}

	proxy.pause(true)
	defer proxy.pause(false) // for the daemon to stop cleanly
	secrets := []string{proxied.User.Username(), strings.TrimPrefix(proxied.Path, "/"), proxied.Port()}
	var bodies []string
	for deadline := time.Now().Add(30 * time.Second); len(bodies) < 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer 503 with Postgres down; log:\n%s", log.String())
		}
		if status, _, body := get("/readyz"); status == http.StatusServiceUnavailable {
			bodies = append(bodies, body)
		}
	}
	for _, body := range bodies {
		if !strings.HasPrefix(body, "not ready") {
			t.Errorf("/readyz with Postgres down: %q, want it to say not ready", body)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("/readyz with Postgres down: %q shows %q", body, s)
			}
		}
	}
	if !strings.Contains(log.String(), "not ready: postgres does not answer") {
		t.Errorf("the reason is not logged; log:\n%s", log.String())
	}
}

// TestUnknownAPIRoute: a /v1 path that is no route answers a JSON 404 naming it, as every API
// error is answered, not the page's plain-text one, whatever the method.
func TestUnknownAPIRoute(t *testing.T) {
	d := startDaemon(t)
	for _, method := range []string{"GET", "POST", "DELETE"} {
		status, body := d.call(method, "/v1/no-such-route", "", nil)
		if status != http.StatusNotFound || !strings.Contains(string(body), `"detail":"no API route `+method+` /v1/no-such-route;`) {
			t.Errorf("%s /v1/no-such-route: %d %s, want a JSON 404 naming it", method, status, body)
		}
	}
}
