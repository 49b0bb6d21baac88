package chsink

import (
	"context"
	"net"
	"sync"
	"syscall"
	"time"
)

// writeInterrupter dials the sink's connections to ClickHouse, and can make their writes fail.
// clickhouse-go watches a batch's context only while Batch.Send sends the last block: a block
// flushed before it (Batch.Flush, insertRows) to a server that stopped reading would wait for
// ever, and the daemon's shutdown, which cancels the relay's context, with it. So insertRows
// interrupts the writes when its context ends (TestDeliveryToAStalledServerEndsWithItsContext).
type writeInterrupter struct {
	mu    sync.Mutex
	conns map[*interruptibleConn]struct{}
}

func newWriteInterrupter() *writeInterrupter {
	return &writeInterrupter{conns: map[*interruptibleConn]struct{}{}}
}

// dial connects to addr within dialTimeout, for clickhouse.Options.DialContext.
func (w *writeInterrupter) dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	ic := &interruptibleConn{Conn: c, owner: w}
	w.mu.Lock()
	w.conns[ic] = struct{}{}
	w.mu.Unlock()
	return ic, nil
}

// interrupt makes every write on the connections, in progress or to come, fail at once. A
// connection whose write failed is closed by clickhouse-go, and the sink starts afresh after a
// failed delivery.
func (w *writeInterrupter) interrupt() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.conns {
		c.SetWriteDeadline(time.Unix(1, 0))
	}
}

// interruptibleConn is a connection writeInterrupter dialled; it forgets it when closed.
type interruptibleConn struct {
	net.Conn
	owner *writeInterrupter
}

func (c *interruptibleConn) Close() error {
	c.owner.mu.Lock()
	delete(c.owner.conns, c)
	c.owner.mu.Unlock()
	return c.Conn.Close()
}

// SyscallConn is the TCP connection's: clickhouse-go checks through it that an idle connection
// is still open before it uses it again.
func (c *interruptibleConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(syscall.Conn).SyscallConn()
}
