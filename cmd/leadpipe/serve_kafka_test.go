package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/broker/brokertest"
	"github.com/leadpipe/leadpipe/internal/syncbuf"
	kafkasink "github.com/leadpipe/leadpipe/sinks/kafka"
)

// runInBackground runs `leadpipe args…` until the test stops it, and returns its log and a stop
// function that cancels it and returns what it returned.
func runInBackground(t *testing.T, args ...string) (*syncbuf.Buffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, io.Discard, &stderr) }()
	stopped, result := false, error(nil)
	stop := func() error {
		if !stopped {
			cancel()
			result, stopped = <-done, true
		}
		return result
	}
	t.Cleanup(func() { stop() })
	return &stderr, stop
}

// waitLog waits until the log has a line with every one of parts.
func waitLog(t *testing.T, log *syncbuf.Buffer, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		for _, line := range strings.Split(log.String(), "\n") {
			if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q within a minute; log:\n%s", parts, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With no brokers configured, serve runs the embedded broker and publishes each row outcome
// there; `leadpipe broker` on the same data directory serves them after serve stopped.
func TestServePublishesToTheEmbeddedBroker(t *testing.T) {
	pool := cliEnv(t)
	name, _, _ := setupImportAccount(t)
	kafkaAddr, dataDir := unusedAddr(t), t.TempDir()
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	t.Setenv("LEADPIPE_POLL_INTERVAL", "50ms")
	t.Setenv("LEADPIPE_KAFKA_EMBEDDED_ADDR", kafkaAddr)
	t.Setenv("LEADPIPE_KAFKA_DATA_DIR", dataDir)

	file := writeTestFile(t, "k.csv", []byte("email,first_name\nk1@kafka.example,K1\nbad,K2\nk3@kafka.example,K3\n"))
	importID := jsonInt(t, oneJSON(t, mustCLI(t, "import", file, "--account", name, "--queue")), "import_id")
	log, stop := runInBackground(t, "serve")
	waitLog(t, log, "embedded kafka broker listening", "addr="+kafkaAddr, "data_dir="+dataDir)

	deadline := time.Now().Add(time.Minute)
	for {
		var done bool
		err := pool.QueryRow(context.Background(), `SELECT i.status = 'completed' AND c.row_number >= i.checkpoint_row
				AND c.event_seq >= i.event_seq
			FROM imports i JOIN sink_cursors c ON c.import_id = i.id AND c.sink = 'kafka' WHERE i.id = $1`, importID).Scan(&done)
		if err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d not completed and published within a minute; log:\n%s", importID, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := net.Dial("tcp", kafkaAddr); err == nil {
		t.Fatal("the embedded broker still listens after serve stopped")
	}

	brokerLog, stopBroker := runInBackground(t, "broker", "--addr", kafkaAddr, "--data-dir", dataDir)
	waitLog(t, brokerLog, "kafka broker listening", "addr="+kafkaAddr)
	var rows []string
	for _, m := range brokertest.Messages(t, kafkaAddr, "leadpipe.outcomes") {
		if string(m.Key) != strconv.FormatInt(importID, 10) {
			continue
		}
		var o kafkasink.Outcome
		if err := json.Unmarshal(m.Value, &o); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, strconv.Itoa(o.RowNumber)+" "+o.Outcome+" "+o.Reason)
	}
	if want := []string{"2 created ", "3 skipped invalid_email", "4 created "}; !slices.Equal(rows, want) {
		t.Errorf("outcomes on the topic: %q, want %q", rows, want)
	}
	if err := stopBroker(); err != nil {
		t.Fatalf("leadpipe broker: %v", err)
	}
	waitLog(t, brokerLog, "kafka broker stopped")
}

// serve says what to do when the embedded broker's address is taken.
func TestServeEmbeddedBrokerAddressInUse(t *testing.T) {
	cliEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("LEADPIPE_HTTP_ADDR", unusedAddr(t))
	t.Setenv("LEADPIPE_KAFKA_EMBEDDED_ADDR", l.Addr().String())
	_, _, err = cli(t, "serve")
	if err == nil || !strings.Contains(err.Error(), l.Addr().String()) || !strings.Contains(err.Error(), "kafka_embedded_addr") {
		t.Fatalf("serve with the broker's address taken = %v, want an error naming the address and the setting", err)
	}
}
