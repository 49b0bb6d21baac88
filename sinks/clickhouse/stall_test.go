package chsink_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/pipeline"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/sinks/clickhouse/analyticstest"
	"github.com/leadpipe/leadpipe/store"
)

// A delivery to a ClickHouse that stopped reading in the middle of it ends when its context
// ends, as the daemon's shutdown cancels it: clickhouse-go watches the context only while the
// last block is sent, and the blocks before it (Batch.Flush) would wait for ever.
func TestDeliveryToAStalledServerEndsWithItsContext(t *testing.T) {
	db := analyticstest.Database(t, chDatabase)
	proxy := startStallingProxy(t, analyticstest.Addr())
	sink := &chsink.Sink{Addr: proxy.addr, Database: db}
	t.Cleanup(func() { sink.Close() })
	t.Cleanup(proxy.release) // runs first: the sink's connections may still be writing
	if err := sink.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}

	started := time.Now()
	d := pipeline.Delivery{Account: "acme", Import: store.Import{ID: 11, Kind: "prospects", Source: store.SourceUpload,
		FileName: "stalled.csv", CreatedAt: started, StartedAt: &started}}
	for row := 2; row < 200_002; row++ { // 40 blocks, about 20 MB: more than the sockets' buffers hold
		d.Rows = append(d.Rows, store.RowOutcome{ImportID: 11, Row: row, Outcome: "created", EntityID: int64(row)})
	}
	proxy.stallAfter(2 << 20) // the INSERT and its first blocks reach ClickHouse; then nothing
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(time.Second, cancel)
	done := make(chan error, 1)
	go func() { done <- sink.Deliver(ctx, d) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a delivery through a server that stopped reading succeeded")
		}
		if waited := time.Since(started); waited > 15*time.Second {
			t.Errorf("the delivery ended %v after it began, its context cancelled after 1 s", waited.Round(time.Second))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the delivery still waits on the stalled server 19 s after its context was cancelled")
	}
}

// stallingProxy passes TCP connections to a server on, and can stop passing what clients send.
type stallingProxy struct {
	addr string

	mu       sync.Mutex
	budget   int64 // bytes from clients still passed; -1: no limit
	released chan struct{}
}

func startStallingProxy(t *testing.T, target string) *stallingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &stallingProxy{addr: ln.Addr().String(), budget: -1, released: make(chan struct{})}
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			go func() { io.Copy(client, server); client.Close() }()
			go p.forward(server, client)
		}
	}()
	return p
}

// stallAfter passes n more bytes from the clients, then none until release.
func (p *stallingProxy) stallAfter(n int64) {
	p.mu.Lock()
	p.budget = n
	p.mu.Unlock()
}

// release passes everything again, and for good.
func (p *stallingProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.released:
	default:
		close(p.released)
	}
}

// allowance is how much of want forward may read now: 0 once the budget is spent.
func (p *stallingProxy) allowance(want int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.released:
		return want
	default:
	}
	if p.budget < 0 {
		return want
	}
	n := int(min(int64(want), p.budget))
	p.budget -= int64(n)
	return n
}

// forward copies what the client sends to the server, reading nothing while the proxy stalls.
func (p *stallingProxy) forward(server, client net.Conn) {
	defer server.Close()
	buf := make([]byte, 32<<10)
	for {
		n := p.allowance(len(buf))
		if n == 0 {
			<-p.released
			continue
		}
		k, err := client.Read(buf[:n])
		if k > 0 {
			if _, werr := server.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
