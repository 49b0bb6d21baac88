package requests_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/leadpipe/leadpipe/intake/requests"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// refuseCommits makes the broker refuse the offset commits of the test's group while the
// returned flag is set.
func (e *env) refuseCommits() (refuse *atomic.Bool, refused *atomic.Int32) {
	refuse, refused = new(atomic.Bool), new(atomic.Int32)
	refuse.Store(true)
	group := e.cfg.KafkaGroup
	cluster.ControlKey(int16(kmsg.OffsetCommit), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		req := kr.(*kmsg.OffsetCommitRequest)
		if req.Group != group || !refuse.Load() {
			return nil, nil, false
		}
		refused.Add(1)
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.CoordinatorLoadInProgress.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	e.t.Cleanup(func() { refuse.Store(false) })
	return refuse, refused
}

func TestRequestQueuedBeforeACrashIsNotQueuedAgain(t *testing.T) {
	e := setup(t)
	refuse, refused := e.refuseCommits()
	e.produce(kafka.Message{Value: e.request(e.writeFile("first.csv", leadsCSV), nil)})

	// The consumer queues the import, cannot commit, and stops: a crash between the two.
	stop := e.start()
	e.waitImports(1)
	e.eventually("a refused commit", func() bool { return refused.Load() > 0 })
	stop()
	refuse.Store(false)
	if got := e.committed(); got != -1 {
		t.Fatalf("committed offset %d after the refused commits", got)
	}

	// Delivered again, the request is recognised and its offset committed.
	duplicates := requestsTotal(t, "duplicate")
	stop = e.start()
	e.waitCommitted(1)
	if n := len(e.imports()); n != 1 {
		t.Fatalf("%d imports after the request was delivered again, want 1", n)
	}
	if got := requestsTotal(t, "duplicate") - duplicates; got != 1 {
		t.Errorf("leadpipe_requests_total{result=duplicate} moved by %v, want 1", got)
	}

	// A request_id makes a resent request a duplicate too, whatever its offset.
	e.produce(
		kafka.Message{Value: e.request(e.writeFile("second.csv", leadsCSV), map[string]any{"request_id": "r-2"})},
		kafka.Message{Value: e.request(e.writeFile("second-again.csv", leadsCSV), map[string]any{"request_id": "r-2"})},
	)
	e.waitCommitted(3)

	// After a clean restart the next request is neither lost nor doubled.
	stop()
	e.start()
	e.produce(kafka.Message{Value: e.request(e.writeFile("third.csv", leadsCSV), nil)})
	e.waitCommitted(4)
	var names []string
	for _, imp := range e.imports() {
		names = append(names, imp.FileName)
	}
	if len(names) != 3 || names[0] != "first.csv" || names[1] != "second.csv" || names[2] != "third.csv" {
		t.Errorf("imports %v, want first.csv, second.csv, third.csv", names)
	}
}

// pgProxy forwards TCP connections to Postgres and can be switched off: it then drops the
// connections it holds and closes new ones at once, as a Postgres that is down would.
type pgProxy struct {
	ln       net.Listener
	upstream string
	refused  atomic.Int32 // connections closed at once while down
	mu       sync.Mutex
	down     bool
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
}

func startProxy(t *testing.T) *pgProxy {
	u, err := url.Parse(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, upstream: u.Host, conns: map[net.Conn]bool{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.setDown(true)
		p.wg.Wait()
	})
	return p
}

func (p *pgProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			p.refused.Add(1)
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		p.wg.Go(func() { pipe(up, c) })
		p.wg.Go(func() { pipe(c, up) })
	}
}

func (p *pgProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func TestPostgresDownIsWaitedOutNotDeadLettered(t *testing.T) {
	e := setup(t)
	proxy := startProxy(t)
	pool, err := store.Connect(context.Background(), proxiedURL(t, proxy.ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	e.cfg.KafkaRequestMaxAttempts = 1 // connection trouble is not bounded by it
	e.produce(
		kafka.Message{Value: e.request(e.writeFile("leads.csv", leadsCSV), nil)},
		kafka.Message{Value: e.request(e.writeFile("more.csv", leadsCSV), nil)},
		kafka.Message{Value: e.request(e.writeFile("most.csv", leadsCSV), nil)},
	)
	proxy.setDown(true)
	stop := e.startWith(pool)
	defer stop() // before the pool closes

	e.eventually("retries against the Postgres that is down", func() bool { return proxy.refused.Load() >= 3 })
	if n := len(e.imports()); n != 0 || e.committed() != -1 {
		t.Fatalf("with Postgres down: %d imports, committed offset %d", n, e.committed())
	}
	// The stuck consumer shows in the lag: every request waits.
	e.eventually("leadpipe_requests_lag 3", func() bool { return gauge(t, "leadpipe_requests_lag") == 3 })
	proxy.setDown(false)
	e.waitImports(3)
	e.waitCommitted(3)
	e.eventually("leadpipe_requests_lag 0", func() bool { return gauge(t, "leadpipe_requests_lag") == 0 })

	// Nothing was dead-lettered: the first dead letter is a malformed request sent now.
	e.produce(kafka.Message{Value: []byte("not JSON")})
	if dl := e.deadLetters(1)[0]; string(dl.Value) != "not JSON" || header(dl, requests.HeaderOffset) != "3" {
		t.Errorf("first dead letter %q at offset %s", dl.Value, header(dl, requests.HeaderOffset))
	}
}

func TestRequestIDIsForgottenOncePruned(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	again := func() kafka.Message {
		return kafka.Message{Value: e.request(e.writeFile("leads.csv", leadsCSV), map[string]any{"request_id": "r-1"})}
	}
	e.produce(again(), again())
	e.start()
	e.waitCommitted(2)
	if n := len(e.imports()); n != 1 {
		t.Fatalf("%d imports of one request_id sent twice, want 1", n)
	}

	// Pruning deletes the records first seen before the cutoff only.
	if _, err := e.pool.Exec(ctx, `UPDATE kafka_requests SET created_at = now() - interval '2 hours'
		WHERE request_key = $1`, fmt.Sprintf("id:%d:r-1", e.acct.ID)); err != nil {
		t.Fatal(err)
	}
	var fresh int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM kafka_requests WHERE created_at >= now() - interval '1 hour'`).Scan(&fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := store.PruneRequests(ctx, e.pool, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	var left, kept int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE request_key = $1),
		count(*) FILTER (WHERE created_at >= now() - interval '1 hour') FROM kafka_requests`,
		fmt.Sprintf("id:%d:r-1", e.acct.ID)).Scan(&left, &kept); err != nil {
		t.Fatal(err)
	}
	if left != 0 || kept != fresh {
		t.Fatalf("after pruning: %d records of r-1 (want 0), %d of the last hour (want %d)", left, kept, fresh)
	}

	// The same request_id, sent after its record was pruned, is queued again.
	e.produce(again())
	e.waitCommitted(3)
	if n := len(e.imports()); n != 2 {
		t.Errorf("%d imports once r-1 was pruned and sent again, want 2", n)
	}
}
