// Package kafkasink is the Kafka sink of the outbox (pipeline.Relay): it publishes every row's
// committed outcome to the outcomes topic and every import event to the events topic, as
// versioned JSON keyed by import id, so that one import's messages stay in one partition and
// in order. A write counts only once every in-sync replica has it; a failed write is retried
// by the relay, so messages may repeat but are never lost. docs/kafka.md describes the
// messages.
package kafkasink

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/broker"
	"github.com/leadpipe/leadpipe/pipeline"
)

// Name is the sink's name in its cursors, metrics and logs.
const Name = "kafka"

// DeliveryRows is the relay's BatchRows for this sink, unless the daemon's batch_size is
// larger: the relay then reads a batch at a time. A read of outcomes decodes a batch's run of
// created or updated rows whole (store, runs.go), so reads of fewer rows than a batch decode
// the same run again for each: with reads of 1,000 rows, the Kafka relay's reads cost 2.78
// CPU-s over the serve step's two imports, against the ClickHouse relay's 0.86 s for the same
// outcomes read 50,000 at a time (docs/architecture.md, "The serve step's relays, read a batch
// at a time").
const DeliveryRows = 10000

// produceRows and produceBytes bound one produce request: the most messages, and the most
// bytes as kafka-go counts them (messageSize), which is also its writer's BatchBytes and about
// Kafka's default limit of a record batch (message.max.bytes). A delivery of more goes in several
// requests, one after another.
const (
	produceRows  = 1000
	produceBytes = 1 << 20
)

// outcomeSize is about what a row outcome's message takes (a created row of a prospects
// import: 190 bytes), to size a delivery's buffer.
const outcomeSize = 256

// DefaultTimeout is Config.Timeout when that is zero.
const DefaultTimeout = 30 * time.Second

// Config says where a Sink publishes.
type Config struct {
	// Brokers are the Kafka brokers, host:port each.
	Brokers       []string
	OutcomesTopic string
	EventsTopic   string
	// Timeout bounds each produce request of a delivery, and creating the topics.
	Timeout time.Duration
}

// Sink publishes deliveries to Kafka. It creates its topics when they are missing before its
// first delivery, and again after a failed one. It is safe for concurrent use.
type Sink struct {
	cfg      Config
	writer   *kafka.Writer
	metadata *metadataCache // the writer's transport

	mu      sync.Mutex
	ensured bool // the topics exist, as far as the sink knows
}

// New returns a sink publishing to the brokers of cfg. It connects on its first delivery.
func New(cfg Config) *Sink {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	metadata := &metadataCache{next: kafka.DefaultTransport}
	return &Sink{cfg: cfg, metadata: metadata, writer: &kafka.Writer{
		Addr:      kafka.TCP(cfg.Brokers...),
		Transport: metadata,
		Balancer:  kafka.Murmur2Balancer{}, // the Java client's partitioner: same key, same partition
		// The relay retries a failed delivery; a few attempts here ride out a leader change.
		MaxAttempts:  3,
		BatchSize:    produceRows,
		BatchBytes:   produceBytes,
		BatchTimeout: time.Millisecond, // a delivery is written at once, not after a linger
		RequiredAcks: kafka.RequireAll,
	}}
}

// Name returns Name.
func (s *Sink) Name() string { return Name }

// Deliver publishes d's row outcomes in order, then its events, and returns once Kafka has
// acknowledged every one of them: an event is on its topic only once the rows before it are on
// theirs. On an error some may have been published anyway: the relay delivers them again.
func (s *Sink) Deliver(ctx context.Context, d pipeline.Delivery) error {
	if err := s.ensureTopics(ctx); err != nil {
		return err
	}
	key := []byte(strconv.FormatInt(d.Import.ID, 10))
	err := s.publish(ctx, s.cfg.OutcomesTopic, key, len(d.Rows), func(buf []byte, i int) ([]byte, time.Time, error) {
		r := &d.Rows[i]
		m := outcomeMessage(&d, r)
		buf, err := m.appendJSON(buf)
		if err != nil {
			err = fmt.Errorf("encode outcome of row %d: %w", r.Row, err)
		}
		return buf, time.Time{}, err
	})
	if err != nil {
		return fmt.Errorf("publish row outcomes of import %d: %w", d.Import.ID, err)
	}
	err = s.publish(ctx, s.cfg.EventsTopic, key, len(d.Events), func(buf []byte, i int) ([]byte, time.Time, error) {
		e := d.Events[i]
		b, err := json.Marshal(eventMessage(d, e))
		if err != nil {
			err = fmt.Errorf("encode event %d: %w", e.Seq, err)
		}
		return append(buf, b...), e.At, err
	})
	if err != nil {
		return fmt.Errorf("publish events of import %d: %w", d.Import.ID, err)
	}
	return nil
}

// publish publishes n messages to topic under key, in order, the i-th encoded by encode (its
// value appended to buf, and its time; zero is the time it is sent). They go in produce
// requests of up to produceRows messages and produceBytes, each acknowledged before the next is
// sent: a request that fails ends the publishing, so no message is on the topic ahead of an
// earlier one. kafka-go would split a larger request in several, and go on with the later
// ones after one failed. A request's buffer is reused for the next only once Kafka acknowledged
// it: the writer is synchronous, so it no longer holds the messages then.
func (s *Sink) publish(ctx context.Context, topic string, key []byte, n int, encode func(buf []byte, i int) ([]byte, time.Time, error)) error {
	msgs := make([]kafka.Message, 0, min(n, produceRows))
	buf := make([]byte, 0, outcomeSize*cap(msgs))
	bytes := 0
	for i := range n {
		start := len(buf)
		var (
			at  time.Time
			err error
		)
		if buf, at, err = encode(buf, i); err != nil {
			return err
		}
		size := messageSize(key, buf[start:])
		if len(msgs) == produceRows || len(msgs) > 0 && bytes+size > produceBytes {
			if err := s.write(ctx, msgs); err != nil {
				return fmt.Errorf("messages %d to %d of %d: %w", i-len(msgs)+1, i, n, err)
			}
			buf = append(buf[:0], buf[start:]...)
			start, msgs, bytes = 0, msgs[:0], 0
		}
		msgs = append(msgs, kafka.Message{Topic: topic, Key: key, Value: buf[start:len(buf):len(buf)], Time: at})
		bytes += size
	}
	if err := s.write(ctx, msgs); err != nil {
		return fmt.Errorf("messages %d to %d of %d: %w", n-len(msgs)+1, n, n, err)
	}
	return nil
}

// messageSize is what a message of key and value without headers counts for against a batch's
// bytes in kafka-go (Message.totalSize): its fixed fields, 22 bytes, and key and value.
func messageSize(key, value []byte) int {
	return 22 + len(key) + len(value)
}

// write writes msgs and waits for Kafka to acknowledge them, for up to the sink's timeout.
func (s *Sink) write(ctx context.Context, msgs []kafka.Message) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	s.metadata.begin()
	err := s.writer.WriteMessages(ctx, msgs...)
	if err != nil {
		s.setEnsured(false) // a broker that lost its state may have lost the topics too
		return fmt.Errorf("kafka %s: %w", strings.Join(s.cfg.Brokers, ","), err)
	}
	return nil
}

// Close waits for writes in flight and closes the connections. Deliver fails after Close.
func (s *Sink) Close() error {
	return s.writer.Close()
}

func (s *Sink) ensureTopics(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ensured {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := broker.EnsureTopics(ctx, s.cfg.Brokers, s.cfg.OutcomesTopic, s.cfg.EventsTopic); err != nil {
		return err
	}
	s.ensured = true
	return nil
}

func (s *Sink) setEnsured(v bool) {
	s.mu.Lock()
	s.ensured = v
	s.mu.Unlock()
}
