package httpguard_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/httpguard"
)

// TestLimitPerClient: a client at its limit has its next connection closed at once, and gets
// its place back when one of its connections closes.
func TestLimitPerClient(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := httpguard.LimitPerClient(inner, 1)
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
