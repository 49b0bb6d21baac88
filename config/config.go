// Package config is leadpipe's configuration: one struct, its defaults in one place, loading
// from a YAML file (unknown keys are an error) and from LEADPIPE_* environment variables, which
// win over the file, and validation with messages that name the setting.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config holds every setting. Each field's yaml tag is its key in the config file and its env
// tag the environment variable that overrides it.
type Config struct {
	// PostgresURL is the database leadpipe stores everything in.
	PostgresURL string `yaml:"postgres_url" env:"LEADPIPE_POSTGRES_URL"`
	// HTTPAddr is where `leadpipe serve` serves /metrics, /healthz and /readyz.
	HTTPAddr string `yaml:"http_addr" env:"LEADPIPE_HTTP_ADDR"`
	// HTTPIdleTimeout closes a keep-alive connection idle that long; HTTPStallTimeout cuts a
	// request whose body stops coming, or whose answer its client stops reading, that long
	// (there is no total deadline: uploads take what their link needs);
	// HTTPMaxConnsPerClient bounds the open connections of one client IP.
	HTTPIdleTimeout       Duration `yaml:"http_idle_timeout" env:"LEADPIPE_HTTP_IDLE_TIMEOUT"`
	HTTPStallTimeout      Duration `yaml:"http_stall_timeout" env:"LEADPIPE_HTTP_STALL_TIMEOUT"`
	HTTPMaxConnsPerClient int      `yaml:"http_max_conns_per_client" env:"LEADPIPE_HTTP_MAX_CONNS_PER_CLIENT"`
	// SessionTTL is how long a sign-in to the web page lasts (docs/security.md).
	SessionTTL Duration `yaml:"session_ttl" env:"LEADPIPE_SESSION_TTL"`
	// Workers is how many imports `leadpipe serve` runs at once.
	Workers int `yaml:"workers" env:"LEADPIPE_WORKERS"`
	// BatchSize is how many rows move through the pipeline together; each batch is one
	// transaction.
	BatchSize int `yaml:"batch_size" env:"LEADPIPE_BATCH_SIZE"`
	// QueueDepth is how many batches may wait between two stages besides the one each stage
	// holds; 0 hands each batch straight to the next stage (pipeline.Run).
	QueueDepth int `yaml:"queue_depth" env:"LEADPIPE_QUEUE_DEPTH"`
	// Lease is how long a worker holds an import without recording a batch before another
	// worker may take it over.
	Lease Duration `yaml:"lease" env:"LEADPIPE_LEASE"`
	// PollInterval is how often idle workers look for queued imports and lapsed leases; an
	// import queued on the database wakes them at once (store.ListenQueued).
	PollInterval Duration `yaml:"poll_interval" env:"LEADPIPE_POLL_INTERVAL"`
	// MaxFieldBytes is the largest CSV cell accepted; a row with a larger one is skipped.
	MaxFieldBytes int `yaml:"max_field_bytes" env:"LEADPIPE_MAX_FIELD_BYTES"`
	// MaxRows is the most data rows a file may have; a longer file fails before anything is
	// written. 0 means no limit (foreground imports then read their file once, not twice).
	MaxRows int `yaml:"max_rows" env:"LEADPIPE_MAX_ROWS"`
	// MaxUnzippedBytes caps the total unzipped size of an XLSX or ODS file (a zip bomb fails its
	// import); MaxSheetXMLBytes is the most of an XLSX file's shared strings, or of another part
	// but its worksheets (which are streamed), kept in memory (more is read through a temporary
	// file).
	MaxUnzippedBytes int64 `yaml:"max_unzipped_bytes" env:"LEADPIPE_MAX_UNZIPPED_BYTES"`
	MaxSheetXMLBytes int64 `yaml:"max_sheet_xml_bytes" env:"LEADPIPE_MAX_SHEET_XML_BYTES"`
	// SheetParser is where spreadsheets (XLSX, XLS, ODS) are parsed: "process", in a child process
	// of their own limited to SheetMemoryLimit bytes of resident memory and SheetCPULimit of CPU time,
	// so that a parser's crash or runaway fails the file and not the daemon; "inline", in the
	// importing process; "auto", in a child process under `leadpipe serve` and `leadpipe
	// inspect` and inline in the other one-shot commands, whose own process is all that a
	// crash there takes down.
	SheetParser      string   `yaml:"sheet_parser" env:"LEADPIPE_SHEET_PARSER"`
	SheetMemoryLimit int64    `yaml:"sheet_memory_limit" env:"LEADPIPE_SHEET_MEMORY_LIMIT"`
	SheetCPULimit    Duration `yaml:"sheet_cpu_limit" env:"LEADPIPE_SHEET_CPU_LIMIT"`
	// FilesDir is where uploaded original files are stored, one per import, named by its id.
	FilesDir string `yaml:"files_dir" env:"LEADPIPE_FILES_DIR"`
	// MaxUploadBytes is the largest file the HTTP API accepts; larger uploads get 413.
	MaxUploadBytes int64 `yaml:"max_upload_bytes" env:"LEADPIPE_MAX_UPLOAD_BYTES"`
	// FilesRetention removes stored original files of imports that ended longer ago than
	// this; 0 keeps them.
	FilesRetention Duration `yaml:"files_retention" env:"LEADPIPE_FILES_RETENTION"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level" env:"LEADPIPE_LOG_LEVEL"`

	// KafkaBrokers is a comma-separated list of host:port; empty starts the embedded broker
	// on KafkaEmbeddedAddr, keeping its log in KafkaDataDir.
	KafkaBrokers      string `yaml:"kafka_brokers" env:"LEADPIPE_KAFKA_BROKERS"`
	KafkaEmbeddedAddr string `yaml:"kafka_embedded_addr" env:"LEADPIPE_KAFKA_EMBEDDED_ADDR"`
	KafkaDataDir      string `yaml:"kafka_data_dir" env:"LEADPIPE_KAFKA_DATA_DIR"`
	// KafkaEmbeddedRetention and KafkaEmbeddedRetentionBytes are how long and how much (per
	// partition) the embedded broker keeps of its topics' messages; 0 sets no limit.
	KafkaEmbeddedRetention      Duration `yaml:"kafka_embedded_retention" env:"LEADPIPE_KAFKA_EMBEDDED_RETENTION"`
	KafkaEmbeddedRetentionBytes int64    `yaml:"kafka_embedded_retention_bytes" env:"LEADPIPE_KAFKA_EMBEDDED_RETENTION_BYTES"`
	// The topics: import requests in, their dead letters, row outcomes and import events out.
	KafkaRequestsTopic string `yaml:"kafka_requests_topic" env:"LEADPIPE_KAFKA_REQUESTS_TOPIC"`
	KafkaDLQTopic      string `yaml:"kafka_dlq_topic" env:"LEADPIPE_KAFKA_DLQ_TOPIC"`
	KafkaOutcomesTopic string `yaml:"kafka_outcomes_topic" env:"LEADPIPE_KAFKA_OUTCOMES_TOPIC"`
	KafkaEventsTopic   string `yaml:"kafka_events_topic" env:"LEADPIPE_KAFKA_EVENTS_TOPIC"`
	// KafkaGroup is the consumer group that reads import requests.
	KafkaGroup string `yaml:"kafka_group" env:"LEADPIPE_KAFKA_GROUP"`
	// KafkaRequestMaxAttempts is how many times one delivery of a request may fail with an
	// unexpected error before it is dead-lettered; transient failures in between neither count
	// nor start the count again. Connection trouble is retried without bound.
	KafkaRequestMaxAttempts int `yaml:"kafka_request_max_attempts" env:"LEADPIPE_KAFKA_REQUEST_MAX_ATTEMPTS"`
	// KafkaRequestsRetention deletes the records of Kafka requests (kafka_requests) first seen
	// longer ago than this; a request_id sent again after that queues a new import. 0 keeps them.
	KafkaRequestsRetention Duration `yaml:"kafka_requests_retention" env:"LEADPIPE_KAFKA_REQUESTS_RETENTION"`
	// FileRoot is the directory under which Kafka requests may name files; URLAllowList the
	// comma-separated hosts whose http(s) URLs they may name (empty: none), fetched with at
	// most MaxFetchBytes in FetchTimeout.
	FileRoot      string   `yaml:"file_root" env:"LEADPIPE_FILE_ROOT"`
	URLAllowList  string   `yaml:"url_allow_list" env:"LEADPIPE_URL_ALLOW_LIST"`
	MaxFetchBytes int64    `yaml:"max_fetch_bytes" env:"LEADPIPE_MAX_FETCH_BYTES"`
	FetchTimeout  Duration `yaml:"fetch_timeout" env:"LEADPIPE_FETCH_TIMEOUT"`

	// ClickHouseAddr is host:port of ClickHouse's native protocol; empty turns analytics off.
	ClickHouseAddr     string `yaml:"clickhouse_addr" env:"LEADPIPE_CLICKHOUSE_ADDR"`
	ClickHouseDatabase string `yaml:"clickhouse_database" env:"LEADPIPE_CLICKHOUSE_DATABASE"`
	// ClickHouseBatchRows is the most row outcomes one INSERT carries, and ClickHouseLinger how
	// long outcomes gather after a delivery before the next (pipeline.Relay.Linger): ClickHouse
	// wants few large inserts, each a part on disk that its merges rewrite. An import's last
	// outcomes reach it at most about ClickHouseLinger after they commit.
	ClickHouseBatchRows int      `yaml:"clickhouse_batch_rows" env:"LEADPIPE_CLICKHOUSE_BATCH_ROWS"`
	ClickHouseLinger    Duration `yaml:"clickhouse_linger" env:"LEADPIPE_CLICKHOUSE_LINGER"`

	// Watch binds watched directories to accounts: DIR=ACCOUNT[,DIR=ACCOUNT…]. A file written
	// in place is imported once its size and mtime have not changed for WatchQuiet; the
	// directories are scanned every WatchInterval.
	Watch         string   `yaml:"watch" env:"LEADPIPE_WATCH"`
	WatchQuiet    Duration `yaml:"watch_quiet" env:"LEADPIPE_WATCH_QUIET"`
	WatchInterval Duration `yaml:"watch_interval" env:"LEADPIPE_WATCH_INTERVAL"`
	// WatchClaimsRetention deletes the records of watched files finished longer ago than this
	// (0 keeps them); WatchProcessedRetention and WatchFailedRetention remove the files that
	// have been in a watched directory's processed/ or failed/ folder longer than that (0 keeps
	// them).
	WatchClaimsRetention    Duration `yaml:"watch_claims_retention" env:"LEADPIPE_WATCH_CLAIMS_RETENTION"`
	WatchProcessedRetention Duration `yaml:"watch_processed_retention" env:"LEADPIPE_WATCH_PROCESSED_RETENTION"`
	WatchFailedRetention    Duration `yaml:"watch_failed_retention" env:"LEADPIPE_WATCH_FAILED_RETENTION"`
}

// Default is the configuration with nothing set. Its PostgresURL is the database that
// deploy/services.sh starts.
var Default = Config{
	PostgresURL:      "postgres://leadpipe@127.0.0.1:55432/leadpipe?sslmode=disable",
	HTTPAddr:         "127.0.0.1:8080",
	Workers:          2,
	BatchSize:        5000,
	QueueDepth:       0,
	Lease:            Duration(60 * time.Second),
	PollInterval:     Duration(time.Second),
	MaxFieldBytes:    1 << 20,
	MaxUnzippedBytes: 1 << 30,
	MaxSheetXMLBytes: 16 << 20,
	SheetParser:      "auto",
	SheetMemoryLimit: 1 << 30,
	SheetCPULimit:    Duration(5 * time.Minute),
	FilesDir:         ".data/files",
	MaxUploadBytes:   512 << 20,
	LogLevel:         "info",

	KafkaEmbeddedAddr:  "127.0.0.1:9092",
	KafkaDataDir:       ".data/kafka",
	KafkaRequestsTopic: "leadpipe.requests",
	KafkaDLQTopic:      "leadpipe.requests.dlq",
	KafkaOutcomesTopic: "leadpipe.outcomes",
	KafkaEventsTopic:   "leadpipe.events",
	KafkaGroup:         "leadpipe",
	FileRoot:           ".data/inbox",
	MaxFetchBytes:      512 << 20,
	FetchTimeout:       Duration(5 * time.Minute),
	ClickHouseDatabase: "leadpipe",
	// 50,000 outcomes and 1 s: a 1M-row import's outcomes go in a few dozen inserts instead of
	// one per batch (200), which cut ClickHouse's CPU for two 1M imports from 8.4 to 2.2 s
	// (docs/analytics.md).
	ClickHouseBatchRows: 50000,
	ClickHouseLinger:    Duration(time.Second),
	WatchQuiet:          Duration(2 * time.Second),
	WatchInterval:       Duration(time.Second),

	// Kafka import requests (intake/requests).
	KafkaRequestMaxAttempts: 10,
	KafkaRequestsRetention:  Duration(30 * 24 * time.Hour),

	// HTTP server (cmd/leadpipe/serve_http.go, httpguard).
	HTTPIdleTimeout:       Duration(60 * time.Second),
	HTTPStallTimeout:      Duration(30 * time.Second),
	HTTPMaxConnsPerClient: 32,
	SessionTTL:            Duration(12 * time.Hour),

	// Watched directories (intake/watch).
	WatchClaimsRetention: Duration(30 * 24 * time.Hour),

	// The embedded broker's topics (broker). Kafka's own default time; for bytes, see docs/kafka.md.
	KafkaEmbeddedRetention:      Duration(7 * 24 * time.Hour),
	KafkaEmbeddedRetentionBytes: 256 << 20,
}

// Duration is a time.Duration written as "30s", "5m" in the file and the environment.
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like 30s or 5m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Load returns the defaults, overlaid with the file at path (when path is not empty) and then
// with the environment, and validated.
func Load(path string, env func(string) (string, bool)) (Config, error) {
	c := Default
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file is the defaults
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
		if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("config %s: more than one YAML document; put every setting in one", path)
		}
	}
	if err := c.applyEnv(env); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) applyEnv(env func(string) (string, bool)) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("env")
		s, ok := env(name)
		if !ok {
			continue
		}
		f := v.Field(i)
		switch f.Interface().(type) {
		case string:
			f.SetString(s)
		case int, int64:
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return fmt.Errorf("config: %s=%q is not a whole number", name, s)
			}
			f.SetInt(n)
		case Duration:
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("config: %s=%q is not a duration (like 30s or 5m)", name, s)
			}
			f.SetInt(int64(d))
		}
	}
	return nil
}

// sqlName is a name that goes into SQL unquoted: a database's.
var sqlName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks every setting and reports all that are wrong.
func (c Config) Validate() error {
	var errs []string
	if c.PostgresURL == "" {
		errs = append(errs, "postgres_url is empty")
	}
	if c.HTTPIdleTimeout <= 0 {
		errs = append(errs, "http_idle_timeout must be positive")
	}
	if c.HTTPStallTimeout <= 0 {
		errs = append(errs, "http_stall_timeout must be positive")
	}
	if c.HTTPMaxConnsPerClient < 1 {
		errs = append(errs, fmt.Sprintf("http_max_conns_per_client is %d, want at least 1", c.HTTPMaxConnsPerClient))
	}
	if ttl := time.Duration(c.SessionTTL); ttl < time.Minute || ttl > 90*24*time.Hour {
		errs = append(errs, fmt.Sprintf("session_ttl is %s, want 1m to 2160h (90 days)", ttl))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Sprintf("workers is %d, want at least 1", c.Workers))
	}
	if c.BatchSize < 1 || c.BatchSize > 100000 {
		errs = append(errs, fmt.Sprintf("batch_size is %d, want 1 to 100000", c.BatchSize))
	}
	if c.QueueDepth < 0 {
		errs = append(errs, fmt.Sprintf("queue_depth is %d, want at least 0", c.QueueDepth))
	}
	if time.Duration(c.Lease) < time.Second {
		errs = append(errs, fmt.Sprintf("lease is %s, want at least 1s", time.Duration(c.Lease)))
	}
	if time.Duration(c.PollInterval) <= 0 {
		errs = append(errs, "poll_interval must be positive")
	}
	if c.MaxFieldBytes < 1024 {
		errs = append(errs, fmt.Sprintf("max_field_bytes is %d, want at least 1024", c.MaxFieldBytes))
	}
	if c.MaxRows < 0 {
		errs = append(errs, fmt.Sprintf("max_rows is %d, want 0 (no limit) or more", c.MaxRows))
	}
	if c.MaxUnzippedBytes < 1<<20 {
		errs = append(errs, fmt.Sprintf("max_unzipped_bytes is %d, want at least 1048576", c.MaxUnzippedBytes))
	}
	if c.MaxSheetXMLBytes < 1<<20 {
		errs = append(errs, fmt.Sprintf("max_sheet_xml_bytes is %d, want at least 1048576", c.MaxSheetXMLBytes))
	}
	if c.SheetParser != "auto" && c.SheetParser != "process" && c.SheetParser != "inline" {
		errs = append(errs, fmt.Sprintf("sheet_parser is %q, want auto, process or inline", c.SheetParser))
	}
	if c.SheetMemoryLimit < 64<<20 {
		errs = append(errs, fmt.Sprintf("sheet_memory_limit is %d, want at least 67108864 (64 MiB)", c.SheetMemoryLimit))
	}
	if time.Duration(c.SheetCPULimit) < time.Second {
		errs = append(errs, fmt.Sprintf("sheet_cpu_limit is %s, want at least 1s", time.Duration(c.SheetCPULimit)))
	}
	if c.FilesDir == "" {
		errs = append(errs, "files_dir is empty")
	}
	if c.MaxUploadBytes < 1 {
		errs = append(errs, fmt.Sprintf("max_upload_bytes is %d, want at least 1", c.MaxUploadBytes))
	}
	if c.FilesRetention < 0 {
		errs = append(errs, "files_retention is negative")
	}
	for _, kv := range [][2]string{{"kafka_requests_topic", c.KafkaRequestsTopic}, {"kafka_dlq_topic", c.KafkaDLQTopic},
		{"kafka_outcomes_topic", c.KafkaOutcomesTopic}, {"kafka_events_topic", c.KafkaEventsTopic}, {"kafka_group", c.KafkaGroup}} {
		if strings.TrimSpace(kv[1]) == "" {
			errs = append(errs, kv[0]+" is empty")
		}
	}
	if c.KafkaEmbeddedRetention < 0 {
		errs = append(errs, "kafka_embedded_retention is negative")
	}
	if c.KafkaEmbeddedRetentionBytes != 0 && c.KafkaEmbeddedRetentionBytes < 1<<20 {
		errs = append(errs, fmt.Sprintf("kafka_embedded_retention_bytes is %d, want 0 (no limit) or at least 1048576 (1 MiB)", c.KafkaEmbeddedRetentionBytes))
	}
	if c.KafkaBrokers == "" && c.KafkaEmbeddedAddr == "" {
		errs = append(errs, "kafka_brokers and kafka_embedded_addr are both empty; set one")
	}
	if c.KafkaRequestMaxAttempts < 1 {
		errs = append(errs, fmt.Sprintf("kafka_request_max_attempts is %d, want at least 1", c.KafkaRequestMaxAttempts))
	}
	if r := time.Duration(c.KafkaRequestsRetention); r != 0 && r < time.Hour {
		errs = append(errs, fmt.Sprintf("kafka_requests_retention is %s, want 0 (keep) or at least 1h", r))
	}
	if c.MaxFetchBytes < 1 {
		errs = append(errs, fmt.Sprintf("max_fetch_bytes is %d, want at least 1", c.MaxFetchBytes))
	}
	if c.FetchTimeout <= 0 {
		errs = append(errs, "fetch_timeout must be positive")
	}
	if !sqlName.MatchString(c.ClickHouseDatabase) {
		errs = append(errs, fmt.Sprintf("clickhouse_database is %q, want letters, digits and '_', not starting with a digit", c.ClickHouseDatabase))
	}
	if c.ClickHouseBatchRows < 1 || c.ClickHouseBatchRows > 1000000 {
		errs = append(errs, fmt.Sprintf("clickhouse_batch_rows is %d, want 1 to 1000000", c.ClickHouseBatchRows))
	}
	if l := time.Duration(c.ClickHouseLinger); l < 0 || l > time.Minute {
		errs = append(errs, fmt.Sprintf("clickhouse_linger is %s, want 0 to 1m", l))
	}
	if c.WatchQuiet < 0 {
		errs = append(errs, "watch_quiet is negative")
	}
	if c.WatchInterval <= 0 {
		errs = append(errs, "watch_interval must be positive")
	}
	for _, kv := range []struct {
		name string
		d    Duration
	}{{"watch_claims_retention", c.WatchClaimsRetention}, {"watch_processed_retention", c.WatchProcessedRetention},
		{"watch_failed_retention", c.WatchFailedRetention}} {
		if kv.d < 0 {
			errs = append(errs, kv.name+" is negative")
		}
	}
	if _, err := ParseWatch(c.Watch); err != nil {
		errs = append(errs, err.Error())
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("log_level is %q, want debug, info, warn or error", c.LogLevel))
	}
	if len(errs) > 0 {
		return errors.New("config: " + strings.Join(errs, "; "))
	}
	return nil
}

// WatchDir is a watched directory and the account its files are imported into.
type WatchDir struct {
	Dir     string // cleaned, as configured
	Account string
}

// ParseWatch reads the watch setting, DIR=ACCOUNT[,DIR=ACCOUNT…]; empty watches nothing. Each
// entry splits at its last "=", so a directory may contain "=" but an account name may not.
// The error names the bad entry.
func ParseWatch(s string) ([]WatchDir, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var dirs []WatchDir
	seen := map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		at := strings.LastIndexByte(entry, '=')
		if at < 0 {
			return nil, fmt.Errorf("watch entry %d %q is not DIR=ACCOUNT", i+1, entry)
		}
		d := WatchDir{Dir: strings.TrimSpace(entry[:at]), Account: strings.TrimSpace(entry[at+1:])}
		switch {
		case d.Dir == "":
			return nil, fmt.Errorf("watch entry %d %q has no directory before \"=\"", i+1, entry)
		case d.Account == "":
			return nil, fmt.Errorf("watch entry %d %q has no account after \"=\"", i+1, entry)
		}
		d.Dir = filepath.Clean(d.Dir)
		if seen[d.Dir] {
			return nil, fmt.Errorf("watch entry %d %q: directory %s is already watched; bind each directory to one account", i+1, entry, d.Dir)
		}
		seen[d.Dir] = true
		dirs = append(dirs, d)
	}
	return dirs, nil
}
