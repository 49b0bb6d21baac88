package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/leadpipe/leadpipe/broker/brokertest"
	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/internal/syncbuf"
)

// TestServeRequests checks that `leadpipe serve` consumes import requests from Kafka: a request
// naming a file under file_root becomes an import its workers complete.
func TestServeRequests(t *testing.T) {
	cliEnv(t)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	if _, err := client.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: "leadpipe.requests", NumPartitions: 1, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	t.Setenv("LEADPIPE_KAFKA_BROKERS", brokers[0])
	t.Setenv("LEADPIPE_FILE_ROOT", root)
	t.Setenv("LEADPIPE_FILES_DIR", t.TempDir())
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")
	account := uniqueName(t)
	mustCLI(t, "account", "create", account)
	if err := os.WriteFile(filepath.Join(root, "leads.csv"), []byte("Email,First Name\nada@requests.example,Ada\nnot-an-email,Bob\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	errOut := serveInBackground(t)
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "leadpipe.requests", RequiredAcks: kafka.RequireAll}
	defer w.Close()
	value := fmt.Sprintf(`{"version": 1, "account": %q, "file": "leads.csv"}`, account)
	if err := w.WriteMessages(t.Context(), kafka.Message{Value: []byte(value)}); err != nil {
		t.Fatal(err)
	}

	var list struct {
		Imports []struct {
			Source, Status   string
			Created, Skipped int
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(list.Imports) == 0 || list.Imports[0].Status != "completed" {
		if time.Now().After(deadline) {
			t.Fatalf("no completed import of the request: %+v; log:\n%s", list, errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
		if err := json.Unmarshal([]byte(mustCLI(t, "imports", "list", "--account", account)), &list); err != nil {
			t.Fatal(err)
		}
	}
	if imp := list.Imports[0]; len(list.Imports) != 1 || imp.Source != "kafka" || imp.Created != 1 || imp.Skipped != 1 {
		t.Errorf("imports %+v, want one from kafka, created 1, skipped 1", list.Imports)
	}
}

// TestServePrunesKafkaRequests checks that `leadpipe serve` applies kafka_requests_retention:
// the records of requests first seen longer ago are deleted at start, the others kept.
func TestServePrunesKafkaRequests(t *testing.T) {
	pool := cliEnv(t)
	t.Setenv("LEADPIPE_FILE_ROOT", t.TempDir())
	t.Setenv("LEADPIPE_FILES_DIR", t.TempDir())
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	t.Setenv("LEADPIPE_KAFKA_REQUESTS_RETENTION", "1h")
	prefix := "id:0:" + uniqueName(t) + ":"
	for key, age := range map[string]string{"old": "61 minutes", "fresh": "59 minutes"} {
		if _, err := pool.Exec(t.Context(), `INSERT INTO kafka_requests (request_key, import_id, topic, partition, "offset", created_at)
			VALUES ($1, 0, 'leadpipe.requests', 0, 0, now() - $2::interval)`, prefix+key, age); err != nil {
			t.Fatal(err)
		}
	}
	left := func() []string {
		rows, err := pool.Query(t.Context(), "SELECT request_key FROM kafka_requests WHERE starts_with(request_key, $1)", prefix)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}

	log := serveInBackground(t)
	deadline := time.Now().Add(30 * time.Second)
	for len(left()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("records %v with a retention of 1h, want the fresh one only; log:\n%s", left(), log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if keys := left(); keys[0] != prefix+"fresh" {
		t.Errorf("records %v, want %sfresh", keys, prefix)
	}
}

// TestServeStopsWhileTheGroupWaitsForAKilledDaemon checks that `leadpipe serve`, started after
// a daemon that was killed and so never left the consumer group, stops within seconds while
// the group still waits for its predecessor.
func TestServeStopsWhileTheGroupWaitsForAKilledDaemon(t *testing.T) {
	cliEnv(t)
	b := brokertest.Start(t, "127.0.0.1:0", "")
	t.Setenv("LEADPIPE_KAFKA_BROKERS", b.Addr())
	t.Setenv("LEADPIPE_FILE_ROOT", t.TempDir())
	t.Setenv("LEADPIPE_FILES_DIR", t.TempDir())
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	group := uniqueName(t)
	t.Setenv("LEADPIPE_KAFKA_GROUP", group)
	brokertest.AbandonMember(t, b.Addr(), group, config.Default.KafkaRequestsTopic, 30*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, log) }()
	deadline := time.Now().Add(30 * time.Second)
	for brokertest.GroupState(t, b.Addr(), group) != "PreparingRebalance" {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon never joined the group; log:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	start := time.Now()
	cancel() // as SIGTERM does
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	took := time.Since(start)
	t.Logf("stopped in %s", took.Round(time.Millisecond))
	if took > 10*time.Second { // the bug took 24-30 s; 10 s leaves room for a loaded machine
		t.Errorf("serve took %s to stop while the group waited for a killed daemon; want at most 10s; log:\n%s", took.Round(time.Millisecond), log.String())
	}
}
