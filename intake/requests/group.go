package requests

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// leaveTimeout bounds how long a stopping consumer waits for its reader to leave the consumer
// group. Leaving takes one round trip to the coordinator; it waits longer only when the reader
// is inside a rebalance, such as a join that the coordinator holds until a member that vanished
// without leaving (a daemon killed with SIGKILL) rejoins or times out, up to its rebalance
// timeout.
const leaveTimeout = time.Second

// errStopping is what a dial of a reader being cut off returns.
var errStopping = errors.New("import requests: stopping")

// connections dials a reader's connections (as its kafka.Dialer's DialFunc) and can cut them
// all, so that a reader's Close blocked in a request to the broker returns at once.
type connections struct {
	mu   sync.Mutex
	open map[net.Conn]bool
	cut  bool // no more dials
}

func newConnections() *connections { return &connections{open: map[net.Conn]bool{}} }

func (c *connections) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		conn.Close()
		return nil, errStopping
	}
	c.open[conn] = true
	return &trackedConn{Conn: conn, owner: c}, nil
}

// cutAll closes every open connection and refuses new ones.
func (c *connections) cutAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = true
	for conn := range c.open {
		conn.Close()
	}
	clear(c.open)
}

// trackedConn is a connection that connections forgets when it is closed.
type trackedConn struct {
	net.Conn
	owner *connections
}

func (t *trackedConn) Close() error {
	t.owner.mu.Lock()
	delete(t.owner.open, t.Conn)
	t.owner.mu.Unlock()
	return t.Conn.Close()
}

// closeReader closes a reader dialled through conns: it leaves the group when that takes less
// than leaveTimeout, else it cuts the reader's connections, so that stopping never waits on
// the group. Nothing is lost either way: every offset was committed synchronously after its
// message was handled, and a message fetched but not committed is delivered again to whichever
// member gets its partition, where the kafka_requests table keeps it from being queued twice.
// A member that did not leave is only dropped by the coordinator after its session timeout,
// which delays that reassignment.
func closeReader(r *kafka.Reader, conns *connections, log *slog.Logger) error {
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		return err
	case <-time.After(leaveTimeout):
		log.Info("import requests: the consumer group is rebalancing; stopping without waiting for it", "waited", leaveTimeout)
		conns.cutAll()
		return <-closed
	}
}
