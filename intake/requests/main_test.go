package requests_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/intake/requests"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// TestMain gives these tests a database of their own (their workers claim any queued import)
// and one embedded Kafka-protocol broker on loopback, shared by the tests, each with topics
// and a consumer group of its own.
func TestMain(m *testing.M) {
	storetest.UseOwnDatabase("leadpipe_test_requests")
	var err error
	cluster, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "start kfake broker:", err)
		os.Exit(1)
	}
	code := m.Run()
	cluster.Close()
	os.Exit(code)
}

var cluster *kfake.Cluster

// waitFor bounds every wait of these tests; reaching it fails the test.
const waitFor = 90 * time.Second

// env is one test's world: an account, a file root, a files store, topics and a group.
type env struct {
	t     *testing.T
	pool  *pgxpool.Pool
	acct  store.Account
	cfg   config.Config
	files *filestore.Store
	log   *slog.Logger
}

func setup(t *testing.T) *env {
	t.Helper()
	pool := storetest.Pool(t)
	if _, err := pool.Exec(context.Background(), `UPDATE imports SET status = 'failed', error = 'abandoned by an earlier test',
		lease_owner = NULL, lease_expires_at = NULL WHERE status IN ('queued', 'running')`); err != nil {
		t.Fatalf("clear the queue: %v", err)
	}
	acct := storetest.Account(t, pool, -1)
	name := acct.Name // unique to the test and the run
	cfg := config.Default
	cfg.BatchSize = 2
	cfg.KafkaRequestsTopic = name + ".requests"
	cfg.KafkaDLQTopic = name + ".requests.dlq"
	cfg.KafkaGroup = name
	cfg.FileRoot = filepath.Join(t.TempDir(), "inbox")
	cfg.FilesDir = filepath.Join(t.TempDir(), "files")
	if err := os.MkdirAll(cfg.FileRoot, 0o750); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, pool: pool, acct: acct, cfg: cfg, files: &filestore.Store{Dir: cfg.FilesDir},
		log: slog.New(slog.NewTextHandler(t.Output(), nil))}
	e.createTopic(cfg.KafkaRequestsTopic)
	return e
}

func (e *env) brokers() []string { return cluster.ListenAddrs() }

func (e *env) importer() *importer.Importer {
	return &importer.Importer{Pool: e.pool, Config: e.cfg, Log: e.log}
}

// createTopic creates a topic of one partition, so that the tests' messages keep their order.
func (e *env) createTopic(topic string) {
	e.t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(e.brokers()...)}
	resp, err := client.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 1, ReplicationFactor: 1}}})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := resp.Errors[topic]; err != nil {
		e.t.Fatalf("create topic %s: %v", topic, err)
	}
}

// start runs a consumer on the test's pool until the returned stop is called (or the test ends).
func (e *env) start() (stop func()) {
	return e.startWith(e.pool)
}

func (e *env) startWith(pool *pgxpool.Pool) (stop func()) {
	e.t.Helper()
	c, err := requests.New(e.brokers(), e.cfg, &importer.Importer{Pool: pool, Config: e.cfg, Log: e.log}, e.files, e.log)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	e.t.Cleanup(stop)
	return stop
}

// runWorkers runs import workers on the test's database until the test ends.
func (e *env) runWorkers() {
	im := e.importer()
	w := &pipeline.Workers{Querier: e.pool, Count: 1, Owner: "requests-test", Lease: time.Minute, Poll: 20 * time.Millisecond,
		Run: func(ctx context.Context, imp store.Import, owner string) error {
			_, err := im.Run(ctx, imp, owner)
			return err
		}, Log: e.log}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Serve(ctx); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// request is a request message's value.
func (e *env) request(file string, extra map[string]any) []byte {
	e.t.Helper()
	m := map[string]any{"version": 1, "account": e.acct.Name, "file": file}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// produce writes messages to the requests topic, acknowledged by the broker.
func (e *env) produce(msgs ...kafka.Message) {
	e.t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(e.brokers()...), Topic: e.cfg.KafkaRequestsTopic, RequiredAcks: kafka.RequireAll, BatchSize: 1}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for _, m := range msgs { // one at a time: the order is the test's
		if err := w.WriteMessages(ctx, m); err != nil {
			e.t.Fatalf("produce: %v", err)
		}
	}
}

// writeFile writes a file under the file root and returns its name relative to the root.
func (e *env) writeFile(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.cfg.FileRoot, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return name
}

// imports returns the account's imports, oldest first.
func (e *env) imports() []store.Import {
	e.t.Helper()
	list, err := store.ListImports(context.Background(), e.pool, e.acct.ID, store.ImportFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// waitImports waits until the account has n imports and returns them, oldest first.
func (e *env) waitImports(n int) []store.Import {
	e.t.Helper()
	var list []store.Import
	e.eventually(fmt.Sprintf("%d imports", n), func() bool {
		list = e.imports()
		return len(list) >= n
	})
	return list
}

// waitFinished waits until an import has ended and returns it.
func (e *env) waitFinished(id int64) store.Import {
	e.t.Helper()
	var imp store.Import
	e.eventually(fmt.Sprintf("import %d to end", id), func() bool {
		var err error
		if imp, err = store.GetImport(context.Background(), e.pool, e.acct.ID, id); err != nil {
			e.t.Fatal(err)
		}
		return imp.FinishedAt != nil
	})
	return imp
}

// committed returns the group's committed offset of partition 0 of the requests topic (-1: none).
func (e *env) committed() int64 {
	e.t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(e.brokers()...)}
	resp, err := client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: e.cfg.KafkaGroup,
		Topics: map[string][]int{e.cfg.KafkaRequestsTopic: {0}}})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range resp.Topics[e.cfg.KafkaRequestsTopic] {
		if p.Error != nil {
			e.t.Fatal(p.Error)
		}
		return p.CommittedOffset
	}
	return -1
}

// waitCommitted waits until the group has committed offset want.
func (e *env) waitCommitted(want int64) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("committed offset %d", want), func() bool { return e.committed() == want })
}

// deadLetters reads the first n messages of the dead-letter topic.
func (e *env) deadLetters(n int) []kafka.Message {
	e.t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: e.brokers(), Topic: e.cfg.KafkaDLQTopic, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	var out []kafka.Message
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			e.t.Fatalf("read dead letter %d of %d: %v", len(out)+1, n, err)
		}
		out = append(out, m)
	}
	return out
}

// eventually polls cond until it holds, failing the test after waitFor.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// header returns a message's header value.
func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// requestsTotal returns leadpipe_requests_total{result}.
func requestsTotal(t *testing.T, result string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "leadpipe_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// gauge returns the value of an unlabelled gauge.
func gauge(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// proxiedURL returns the test database's URL with its host replaced by addr.
func proxiedURL(t *testing.T, addr string) string {
	u, err := url.Parse(storetest.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}
