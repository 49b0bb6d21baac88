package httpguard_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/httpguard"
)

// TestListenerLimitsClients: a client at its limit has its next connection closed at once, and gets
// its place back when one of its connections closes.
func TestListenerLimitsClients(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := httpguard.Listener(inner, 1, time.Minute)
	defer l.Close()
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedByServer reports whether the server closed c without a word.
	closedByServer := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(2 * time.Second)) //nolint:errcheck // a TCP connection
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout()) // EOF or a reset

	}

	dial()
	first := <-accepted
	if second := dial(); !closedByServer(second) {
		t.Fatal("a second connection of a client at its limit of 1 was not closed")
	}
	first.Close()
	dial()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the client's connection was not accepted after its first one closed")
	}
}

// TestListenerCutsStalledWrites: an answer its client stops reading is cut once a write has
// made no progress for the stall time, rather than holding the connection for ever.
func TestListenerCutsStalledWrites(t *testing.T) {
	const size = 64 << 20 // far more than the kernel's socket buffers hold
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.Copy(w, io.LimitReader(zeros{}, size)) //nolint:errcheck // cut by the test
	})}
	go srv.Serve(httpguard.Listener(inner, 1, 500*time.Millisecond)) //nolint:errcheck // closed below
	defer srv.Close()

	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: guard\r\n\r\n")
	// Not reading for 3 s: the server's writes stall.
	time.Sleep(3 * time.Second)
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // a TCP connection
	n, _ := io.Copy(io.Discard, c)
	if n >= size {
		t.Errorf("the client read all %d bytes after stalling for 3 s; want the answer cut after 500 ms", n)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestBodyStallsLeavesWorkAfterTheBody: once a request's body has ended, the server's own work
// (checking a large upload, a long dry run) may take longer than the stall bound; the request's
// context is not cancelled and the answer arrives.
func TestBodyStallsLeavesWorkAfterTheBody(t *testing.T) {
	const stall = 300 * time.Millisecond
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: httpguard.BodyStalls(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(4 * stall):
			fmt.Fprint(w, "checked")
		case <-r.Context().Done():
			// the client would get an empty answer
		}
	}), stall)}
	go srv.Serve(inner) //nolint:errcheck // closed below
	defer srv.Close()

	resp, err := http.Post("http://"+inner.Addr().String()+"/", "text/csv", strings.NewReader("email\na@example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "checked" {
		t.Errorf("answer after %v of work past the body = %d %q, want \"checked\": the request was cancelled at the stall bound", 4*stall, resp.StatusCode, body)
	}
}
