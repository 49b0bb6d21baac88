// Package requests is leadpipe's Kafka request consumer. It reads import request messages
// (docs/requests.md) from the requests topic in a consumer group and turns each into an import
// queued in Postgres, its file copied into the files store, for the workers to run.
//
// A message's offset is committed only after its import is durably queued, or after the
// message went to the dead-letter topic with the reason it cannot be queued; a malformed
// message therefore never blocks its partition. So is a value Postgres refuses to store.
// Connection trouble (Postgres or the broker down) is retried with backoff, without committing;
// any other error is retried up to kafka_request_max_attempts, then dead-lettered (classify.go).
// A message delivered again after a crash is recognised in Postgres (the kafka_requests table)
// and queues no second import.
//
// It is an intake driver, beside the HTTP API: it calls the importer and the files store, and
// nothing under the engine calls it.
package requests

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/broker"
	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

var (
	requestsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "leadpipe_requests_total",
		Help: "Import request messages handled, by result: queued, duplicate (queued by an earlier delivery or request_id) or dead_letter.",
	}, []string{"result"})
	requestsLag = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "leadpipe_requests_lag",
		Help: "Request messages on the requests topic that the consumer group has not committed: high-water marks minus committed offsets, summed over the topic's partitions.",
	})
)

// The headers a dead letter carries besides the original message's own.
const (
	HeaderReason    = "leadpipe-dlq-reason"    // a Reason code
	HeaderDetail    = "leadpipe-dlq-detail"    // what is wrong, for people
	HeaderTopic     = "leadpipe-dlq-topic"     // where the request was read from
	HeaderPartition = "leadpipe-dlq-partition" // (decimal)
	HeaderOffset    = "leadpipe-dlq-offset"    // (decimal)
)

// Backoff between attempts at something that failed for a reason that should pass.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// Consumer reads import requests from Kafka and queues them. Make one with New.
type Consumer struct {
	brokers  []string
	cfg      config.Config
	importer *importer.Importer
	src      *source
	log      *slog.Logger
}

// New returns a consumer of the requests topic named in cfg, in cfg's consumer group, on
// brokers (host:port each). It queues imports with im, copying their files into files. It opens
// file_root (creating it when missing) and fails when it cannot.
func New(brokers []string, cfg config.Config, im *importer.Importer, files *filestore.Store, log *slog.Logger) (*Consumer, error) {
	if len(brokers) == 0 {
		return nil, errors.New("import requests: no Kafka brokers")
	}
	src, err := openSource(cfg.FileRoot, cfg.URLAllowList, cfg.MaxFetchBytes, time.Duration(cfg.FetchTimeout), files)
	if err != nil {
		return nil, fmt.Errorf("import requests: %w", err)
	}
	for _, result := range []string{"queued", "duplicate", "dead_letter"} {
		requestsTotal.WithLabelValues(result) // every series exists from the start, at 0
	}
	return &Consumer{brokers: brokers, cfg: cfg, importer: im, src: src, log: log}, nil
}

// session is a running Consumer: its reader and dead-letter writer.
type session struct {
	*Consumer
	reader    *kafka.Reader
	dlq       *kafka.Writer
	committed chan struct{} // receives (without blocking the sender) after each commit: the lag is measured again
}

// Run consumes requests until ctx is done, then leaves the consumer group (waiting at most
// leaveTimeout, see closeReader) and releases what the consumer holds; call it once. It first
// creates the requests and dead-letter topics when they are missing. A broker or Postgres that
// is down is waited for.
func (c *Consumer) Run(ctx context.Context) {
	defer c.src.Close()
	cfg := c.cfg
	err := retry(ctx, c.log, "create request topics", func() error {
		return broker.EnsureTopics(ctx, c.brokers, cfg.KafkaRequestsTopic, cfg.KafkaDLQTopic)
	})
	if err != nil {
		return // stopped before it started
	}
	s := &session{Consumer: c, committed: make(chan struct{}, 1)}
	conns := newConnections()
	s.reader = kafka.NewReader(kafka.ReaderConfig{
		Brokers:               c.brokers,
		Dialer:                &kafka.Dialer{Timeout: 10 * time.Second, DialFunc: conns.dial},
		GroupID:               cfg.KafkaGroup,
		Topic:                 cfg.KafkaRequestsTopic,
		StartOffset:           kafka.FirstOffset,
		WatchPartitionChanges: true,
		MaxWait:               time.Second, // how long a stop waits for the fetch in flight
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			c.log.Warn("import requests: kafka reader: " + fmt.Sprintf(msg, args...))
		}),
	})
	s.dlq = &kafka.Writer{
		Addr:         kafka.TCP(c.brokers...),
		Topic:        cfg.KafkaDLQTopic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    1, // one synchronous write per dead letter; no waiting for a batch to fill
	}
	c.log.Info("import requests: consuming", "topic", cfg.KafkaRequestsTopic, "group", cfg.KafkaGroup,
		"dead_letters", cfg.KafkaDLQTopic, "brokers", c.brokers, "file_root", c.src.rootDirs[0])
	measured := make(chan struct{})
	go func() { c.watchLag(ctx, s.committed); close(measured) }()
	s.consume(ctx)
	<-measured
	if err := errors.Join(closeReader(s.reader, conns, c.log), s.dlq.Close()); err != nil {
		c.log.Warn("import requests: close", "error", err)
	}
	c.log.Info("import requests: stopped")
}

// consume handles messages one at a time until ctx is done.
func (s *session) consume(ctx context.Context) {
	wait := minBackoff
	for {
		m, err := s.reader.FetchMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn("import requests: fetch failed; retrying", "error", err, "retry_in", wait)
			if !sleep(ctx, wait) {
				return
			}
			wait = min(2*wait, maxBackoff)
			continue
		}
		wait = minBackoff
		if s.process(ctx, m) != nil {
			return // ctx is done: the message is delivered again next time
		}
	}
}

// outcome is what became of one request.
type outcome struct {
	importID  int64
	duplicate bool
	rejection *Rejection
}

// process queues or dead-letters one request, then commits its offset. It returns an error only
// when ctx is done first.
func (s *session) process(ctx context.Context, m kafka.Message) error {
	log := s.log.With("topic", m.Topic, "partition", m.Partition, "offset", m.Offset)
	out, err := s.queue(ctx, log, m)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err() // a rejection caused by stopping is not the message's fault
	}
	if out.rejection != nil {
		err := retry(ctx, log, "dead-letter import request", func() error { return s.deadLetter(ctx, m, out.rejection) })
		if err != nil {
			return err
		}
	}
	if err := retry(ctx, log, "commit import request", func() error { return s.reader.CommitMessages(ctx, m) }); err != nil {
		return err
	}
	switch {
	case out.rejection != nil:
		requestsTotal.WithLabelValues("dead_letter").Inc()
		log.Warn("import request dead-lettered", "reason", out.rejection.Reason, "detail", out.rejection.Detail)
	case out.duplicate:
		requestsTotal.WithLabelValues("duplicate").Inc()
		log.Info("import request already queued", "import_id", out.importID)
	default:
		requestsTotal.WithLabelValues("queued").Inc() // logged by the importer, with this message's coordinates
	}
	select {
	case s.committed <- struct{}{}:
	default: // a measurement is pending already
	}
	return nil
}

// queue turns a request into a queued import, trying again while it fails for a reason that is
// not the message's (classify.go). The message's faults, and an unexpected error that came back
// kafka_request_max_attempts times, are returned as the outcome's rejection. It returns an
// error only when ctx is done first.
func (s *session) queue(ctx context.Context, log *slog.Logger, m kafka.Message) (outcome, error) {
	wait := minBackoff
	unexpected := 0
	for attempt := 1; ; attempt++ {
		id, dup, err := s.queueImport(ctx, log, m)
		if err == nil {
			return outcome{importID: id, duplicate: dup}, nil
		}
		if ctx.Err() != nil {
			return outcome{}, ctx.Err()
		}
		var rej *Rejection
		if errors.As(err, &rej) {
			return outcome{rejection: rej}, nil
		}
		if rej := refusedByPostgres(err); rej != nil {
			return outcome{rejection: rej}, nil
		}
		if !transient(err) {
			unexpected++
			if unexpected >= s.cfg.KafkaRequestMaxAttempts {
				return outcome{rejection: &Rejection{Reason: ReasonFailed, Detail: fmt.Sprintf(
					"the request failed %d times with an unexpected error, the last: %s; the daemon's log has each attempt",
					unexpected, describe(err))}}, nil
			}
		}
		log.Warn("import requests: queue import request failed; retrying", "error", err, "attempt", attempt,
			"unexpected_failures", unexpected, "retry_in", wait)
		if !sleep(ctx, wait) {
			return outcome{}, ctx.Err()
		}
		wait = min(2*wait, maxBackoff)
	}
}

// queueImport binds the request to an import id (store.ReserveRequest), copies its file into
// the files store and queues the import with that id. It reports a request queued before as a
// duplicate. The copy is removed when queueing failed for sure (copyOrphaned).
func (s *session) queueImport(ctx context.Context, log *slog.Logger, m kafka.Message) (id int64, duplicate bool, err error) {
	msg, opts, err := decode(m.Value)
	if err != nil {
		return 0, false, err
	}
	pool := s.importer.Pool
	acct, err := store.AccountByName(ctx, pool, msg.Account)
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, reject(ReasonUnknownAccount, "there is no account %q; create it (leadpipe account create) or fix the name", msg.Account)
	}
	if err != nil {
		return 0, false, err
	}
	id, queued, err := store.ReserveRequest(ctx, pool, requestKey(m, acct.ID, msg.RequestID), m.Topic, m.Partition, m.Offset)
	if err != nil || queued {
		return id, queued, err
	}
	path, err := s.src.store(ctx, msg.File, acct.ID, id)
	if err != nil {
		return 0, false, err
	}
	name := displayName(msg.File)
	if msg.FileName != "" {
		name = filestore.SafeFileName(msg.FileName)
	}
	im := *s.importer
	im.Log = log
	_, _, err = im.Submit(ctx, importer.Request{Account: acct.Name, Kind: msg.Kind, Path: path, FileName: name, Options: opts,
		Source: store.SourceKafka, ID: id})
	switch {
	case err == nil:
		return id, false, nil
	case store.IsDuplicateImport(err): // another delivery of this request, queued at the same time
		return id, true, nil
	}
	rej := rejection(err)
	if copyOrphaned(ctx, err, rej) {
		os.Remove(path)
	}
	if rej != nil {
		return 0, false, rej
	}
	return 0, false, err
}

// copyOrphaned reports whether the request's copy belongs to no import after Submit failed
// with err (rej being its rejection, if any): when the request was refused, or when it failed
// neither for the connection nor for ctx, either of which may have come after the import was
// committed. A rejection decides first: its error may wrap an (unexpected) EOF that transient
// takes for a dropped connection.
func copyOrphaned(ctx context.Context, err error, rej *Rejection) bool {
	return rej != nil || ctx.Err() == nil && !transient(err)
}

// rejection returns the Rejection for an error of importer.Submit that is the request's fault:
// those the HTTP API answers with a 4xx status, and values Postgres refused; nil for the others.
func rejection(err error) *Rejection {
	switch {
	case errors.Is(err, importer.ErrUnknownKind):
		return &Rejection{Reason: ReasonUnknownKind, Detail: err.Error()}
	case errors.Is(err, crm.ErrInvalidOptions):
		return &Rejection{Reason: ReasonBadOptions, Detail: err.Error()}
	case errors.Is(err, importer.ErrBadFile):
		return &Rejection{Reason: ReasonBadFile, Detail: err.Error()}
	case errors.Is(err, store.ErrNotFound):
		return &Rejection{Reason: ReasonUnknownAccount, Detail: err.Error()}
	}
	return refusedByPostgres(err)
}

// requestKey names a request in the kafka_requests table: by its request_id within its account
// when it has one, else by where it was read and what it says.
func requestKey(m kafka.Message, accountID int64, requestID string) string {
	if requestID != "" {
		return fmt.Sprintf("id:%d:%s", accountID, requestID)
	}
	return fmt.Sprintf("msg:%s/%d/%d/%x", m.Topic, m.Partition, m.Offset, sha256.Sum256(m.Value))
}

// deadLetter writes a request that cannot be queued to the dead-letter topic: its key, value
// and headers as they were, plus headers saying why and where it came from.
func (s *session) deadLetter(ctx context.Context, m kafka.Message, rej *Rejection) error {
	headers := append(slices.Clone(m.Headers),
		kafka.Header{Key: HeaderReason, Value: []byte(rej.Reason)},
		kafka.Header{Key: HeaderDetail, Value: []byte(rej.Detail)},
		kafka.Header{Key: HeaderTopic, Value: []byte(m.Topic)},
		kafka.Header{Key: HeaderPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafka.Header{Key: HeaderOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
	)
	if err := s.dlq.WriteMessages(ctx, kafka.Message{Key: m.Key, Value: m.Value, Headers: headers}); err != nil {
		return fmt.Errorf("write dead letter to %s: %w", s.cfg.KafkaDLQTopic, err)
	}
	return nil
}

// retry runs op until it succeeds or ctx is done, logging each failure and waiting from
// minBackoff, doubling up to maxBackoff, between attempts. It returns ctx's error if ctx ends
// first.
func retry(ctx context.Context, log *slog.Logger, what string, op func() error) error {
	wait := minBackoff
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("import requests: "+what+" failed; retrying", "error", err, "attempt", attempt, "retry_in", wait)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, maxBackoff)
	}
}

// sleep waits for d, or less when ctx is done first; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
