package config_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadpipe/leadpipe/config"
)

// noEnv is an environment with nothing set.
func noEnv(string) (string, bool) { return "", false }

// envOf returns an environment holding exactly m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func fixture(name string) string { return filepath.Join("testdata", name) }

// good is testdata/good.yaml, where every setting is away from its default.
var good = config.Config{
	PostgresURL:         "postgres://u@db.example:5432/leads?sslmode=require",
	HTTPAddr:            "0.0.0.0:9100",
	Workers:             8,
	BatchSize:           2500,
	QueueDepth:          6,
	Lease:               config.Duration(2 * time.Minute),
	PollInterval:        config.Duration(250 * time.Millisecond),
	MaxFieldBytes:       65536,
	MaxRows:             1000000,
	MaxUnzippedBytes:    2 << 30,
	MaxSheetXMLBytes:    32 << 20,
	SheetParser:         "inline",
	SheetMemoryLimit:    256 << 20,
	SheetCPULimit:       config.Duration(time.Minute),
	FilesDir:            "/var/lib/leadpipe/files",
	MaxUploadBytes:      1 << 30,
	FilesRetention:      config.Duration(720 * time.Hour),
	LogLevel:            "debug",
	KafkaBrokers:        "kafka-1:9092,kafka-2:9092",
	KafkaEmbeddedAddr:   "127.0.0.1:19092",
	KafkaDataDir:        "/var/lib/leadpipe/kafka",
	KafkaRequestsTopic:  "crm.imports.requests",
	KafkaDLQTopic:       "crm.imports.requests.dead",
	KafkaOutcomesTopic:  "crm.imports.outcomes",
	KafkaEventsTopic:    "crm.imports.events",
	KafkaGroup:          "crm-importers",
	FileRoot:            "/srv/imports",
	URLAllowList:        "files.example.com,cdn.example.com",
	MaxFetchBytes:       1 << 20,
	FetchTimeout:        config.Duration(30 * time.Second),
	ClickHouseAddr:      "ch.example:9000",
	ClickHouseDatabase:  "crm_analytics",
	ClickHouseBatchRows: 20000,
	ClickHouseLinger:    config.Duration(250 * time.Millisecond),
	Watch:               "/srv/drop/acme=acme,/srv/drop/globex=globex",
	WatchQuiet:          config.Duration(10 * time.Second),
	WatchInterval:       config.Duration(500 * time.Millisecond),

	KafkaRequestMaxAttempts:     4,
	KafkaRequestsRetention:      config.Duration(72 * time.Hour),
	HTTPIdleTimeout:             config.Duration(2 * time.Minute),
	HTTPStallTimeout:            config.Duration(time.Minute),
	HTTPMaxConnsPerClient:       8,
	SessionTTL:                  config.Duration(30 * time.Minute),
	WatchClaimsRetention:        config.Duration(240 * time.Hour),
	WatchProcessedRetention:     config.Duration(168 * time.Hour),
	WatchFailedRetention:        config.Duration(2160 * time.Hour),
	KafkaEmbeddedRetention:      config.Duration(48 * time.Hour),
	KafkaEmbeddedRetentionBytes: 64 << 20,
}

func TestDefaultIsValid(t *testing.T) {
	if err := config.Default.Validate(); err != nil {
		t.Fatalf("Default.Validate() = %v, want nil", err)
	}
	want := config.Config{
		PostgresURL:      "postgres://leadpipe@127.0.0.1:55432/leadpipe?sslmode=disable",
		HTTPAddr:         "127.0.0.1:8080",
		Workers:          2,
		BatchSize:        5000,
		QueueDepth:       0,
		Lease:            config.Duration(60 * time.Second),
		PollInterval:     config.Duration(time.Second),
		MaxFieldBytes:    1 << 20,
		MaxUnzippedBytes: 1 << 30,
		MaxSheetXMLBytes: 16 << 20,
		SheetParser:      "auto",
		SheetMemoryLimit: 1 << 30,
		SheetCPULimit:    config.Duration(5 * time.Minute),
		FilesDir:         ".data/files",
		MaxUploadBytes:   512 << 20,
		LogLevel:         "info",

		KafkaEmbeddedAddr:   "127.0.0.1:9092",
		KafkaDataDir:        ".data/kafka",
		KafkaRequestsTopic:  "leadpipe.requests",
		KafkaDLQTopic:       "leadpipe.requests.dlq",
		KafkaOutcomesTopic:  "leadpipe.outcomes",
		KafkaEventsTopic:    "leadpipe.events",
		KafkaGroup:          "leadpipe",
		FileRoot:            ".data/inbox",
		MaxFetchBytes:       512 << 20,
		FetchTimeout:        config.Duration(5 * time.Minute),
		ClickHouseDatabase:  "leadpipe",
		ClickHouseBatchRows: 50000,
		ClickHouseLinger:    config.Duration(time.Second),
		WatchQuiet:          config.Duration(2 * time.Second),
		WatchInterval:       config.Duration(time.Second),

		KafkaRequestMaxAttempts:     10,
		KafkaRequestsRetention:      config.Duration(720 * time.Hour),
		HTTPIdleTimeout:             config.Duration(60 * time.Second),
		HTTPStallTimeout:            config.Duration(30 * time.Second),
		HTTPMaxConnsPerClient:       32,
		SessionTTL:                  config.Duration(12 * time.Hour),
		WatchClaimsRetention:        config.Duration(720 * time.Hour),
		KafkaEmbeddedRetention:      config.Duration(7 * 24 * time.Hour),
		KafkaEmbeddedRetentionBytes: 256 << 20,
	}
	if config.Default != want {
		t.Fatalf("Default = %+v, want %+v", config.Default, want)
	}
}

func TestLoadGoodFixtures(t *testing.T) {
	partial := config.Default
	partial.Workers = 3
	partial.LogLevel = "warn"
	partial.Lease = config.Duration(90 * time.Second)

	tests := []struct {
		file string
		want config.Config
	}{
		{"good.yaml", good},
		{"partial.yaml", partial},
		{"empty.yaml", config.Default},
		{"comments-only.yaml", config.Default},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := config.Load(fixture(tt.file), noEnv)
			if err != nil {
				t.Fatalf("Load(%s) error: %v", tt.file, err)
			}
			if got != tt.want {
				t.Fatalf("Load(%s) =\n  %+v\nwant\n  %+v", tt.file, got, tt.want)
			}
		})
	}
}

func TestLoadNoPathIsDefaults(t *testing.T) {
	got, err := config.Load("", noEnv)
	if err != nil {
		t.Fatalf("Load(\"\") error: %v", err)
	}
	if got != config.Default {
		t.Fatalf("Load(\"\") = %+v, want Default %+v", got, config.Default)
	}
}

func TestLoadBadFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings the error must contain
	}{
		{"unknown-key.yaml", []string{"batch_sise", "not found", "line 2"}},
		{"bad-duration.yaml", []string{`line 2: "30" is not a duration`}},
		{"bad-type.yaml", []string{"many", "line 1"}},
		{"missing.yaml", []string{"config:", "missing.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := config.Load(fixture(tt.file), noEnv)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, nil; want an error", tt.file, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load(%s) error %q does not contain %q", tt.file, err, w)
				}
			}
			if got != (config.Config{}) {
				t.Errorf("Load(%s) returned a config with its error: %+v", tt.file, got)
			}
		})
	}
}

// Validate reports every problem, not just the first.
func TestLoadBadValuesListsEveryProblem(t *testing.T) {
	_, err := config.Load(fixture("bad-values.yaml"), noEnv)
	if err == nil {
		t.Fatal("Load(bad-values.yaml) succeeded; want an error")
	}
	want := "config: postgres_url is empty" +
		"; workers is 0, want at least 1" +
		"; batch_size is 100001, want 1 to 100000" +
		"; queue_depth is -1, want at least 0" +
		"; lease is 500ms, want at least 1s" +
		"; poll_interval must be positive" +
		"; max_field_bytes is 1023, want at least 1024" +
		`; log_level is "loud", want debug, info, warn or error`
	if err.Error() != want {
		t.Fatalf("error =\n  %s\nwant\n  %s", err, want)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config.Config)
		want   string // "" for valid
	}{
		{"default", func(*config.Config) {}, ""},
		{"batch size 1", func(c *config.Config) { c.BatchSize = 1 }, ""},
		{"batch size 100000", func(c *config.Config) { c.BatchSize = 100000 }, ""},
		{"batch size 0", func(c *config.Config) { c.BatchSize = 0 }, "config: batch_size is 0, want 1 to 100000"},
		{"request max attempts 0", func(c *config.Config) { c.KafkaRequestMaxAttempts = 0 }, "config: kafka_request_max_attempts is 0, want at least 1"},
		{"requests kept", func(c *config.Config) { c.KafkaRequestsRetention = 0 }, ""},
		{"requests retention 1m", func(c *config.Config) { c.KafkaRequestsRetention = config.Duration(time.Minute) },
			"config: kafka_requests_retention is 1m0s, want 0 (keep) or at least 1h"},
		{"lease 1s", func(c *config.Config) { c.Lease = config.Duration(time.Second) }, ""},
		{"lease 999ms", func(c *config.Config) { c.Lease = config.Duration(999 * time.Millisecond) }, "config: lease is 999ms, want at least 1s"},
		{"poll negative", func(c *config.Config) { c.PollInterval = config.Duration(-time.Second) }, "config: poll_interval must be positive"},
		{"watch retentions off", func(c *config.Config) { c.WatchClaimsRetention = 0 }, ""},
		{"watch failed retention negative", func(c *config.Config) { c.WatchFailedRetention = config.Duration(-time.Hour) },
			"config: watch_failed_retention is negative"},
		{"max field 1024", func(c *config.Config) { c.MaxFieldBytes = 1024 }, ""},
		{"every log level", func(c *config.Config) { c.LogLevel = "error" }, ""},
		{"http idle timeout 0", func(c *config.Config) { c.HTTPIdleTimeout = 0 }, "config: http_idle_timeout must be positive"},
		{"http stall timeout 0", func(c *config.Config) { c.HTTPStallTimeout = 0 }, "config: http_stall_timeout must be positive"},
		{"http conns per client 0", func(c *config.Config) { c.HTTPMaxConnsPerClient = 0 }, "config: http_max_conns_per_client is 0, want at least 1"},
		{"session ttl 1m", func(c *config.Config) { c.SessionTTL = config.Duration(time.Minute) }, ""},
		{"session ttl 90 days", func(c *config.Config) { c.SessionTTL = config.Duration(90 * 24 * time.Hour) }, ""},
		{"session ttl 59s", func(c *config.Config) { c.SessionTTL = config.Duration(59 * time.Second) },
			"config: session_ttl is 59s, want 1m to 2160h (90 days)"},
		{"session ttl over 90 days", func(c *config.Config) { c.SessionTTL = config.Duration(91 * 24 * time.Hour) },
			"config: session_ttl is 2184h0m0s, want 1m to 2160h (90 days)"},
		{"log level case", func(c *config.Config) { c.LogLevel = "INFO" }, `config: log_level is "INFO", want debug, info, warn or error`},
		{"clickhouse database", func(c *config.Config) { c.ClickHouseDatabase = "crm_analytics2" }, ""},
		{"clickhouse batch rows zero", func(c *config.Config) { c.ClickHouseBatchRows = 0 }, "config: clickhouse_batch_rows is 0, want 1 to 1000000"},
		{"clickhouse linger negative", func(c *config.Config) { c.ClickHouseLinger = config.Duration(-time.Second) }, "config: clickhouse_linger is -1s, want 0 to 1m"},
		{"clickhouse linger zero", func(c *config.Config) { c.ClickHouseLinger = 0 }, ""},
		{"clickhouse database not a name", func(c *config.Config) { c.ClickHouseDatabase = "crm; DROP" },
			`config: clickhouse_database is "crm; DROP", want letters, digits and '_', not starting with a digit`},
		{"sheet parser inline", func(c *config.Config) { c.SheetParser = "inline" }, ""},
		{"sheet parser process", func(c *config.Config) { c.SheetParser = "process" }, ""},
		{"sheet parser unknown", func(c *config.Config) { c.SheetParser = "child" }, `config: sheet_parser is "child", want auto, process or inline`},
		{"sheet memory too small", func(c *config.Config) { c.SheetMemoryLimit = 1 << 20 },
			"config: sheet_memory_limit is 1048576, want at least 67108864 (64 MiB)"},
		{"sheet CPU too short", func(c *config.Config) { c.SheetCPULimit = config.Duration(time.Millisecond) }, "config: sheet_cpu_limit is 1ms, want at least 1s"},
		{"embedded retention off", func(c *config.Config) { c.KafkaEmbeddedRetention, c.KafkaEmbeddedRetentionBytes = 0, 0 }, ""},
		{"embedded retention 1 MiB", func(c *config.Config) { c.KafkaEmbeddedRetentionBytes = 1 << 20 }, ""},
		{"embedded retention negative", func(c *config.Config) { c.KafkaEmbeddedRetention = config.Duration(-time.Hour) },
			"config: kafka_embedded_retention is negative"},
		{"embedded retention too few bytes", func(c *config.Config) { c.KafkaEmbeddedRetentionBytes = 1000 },
			"config: kafka_embedded_retention_bytes is 1000, want 0 (no limit) or at least 1048576 (1 MiB)"},
		{"two problems", func(c *config.Config) { c.Workers, c.QueueDepth = -2, -1 },
			"config: workers is -2, want at least 1; queue_depth is -1, want at least 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEnvOverridesFile(t *testing.T) {
	env := envOf(map[string]string{
		"LEADPIPE_POSTGRES_URL":    "postgres://env@127.0.0.1:1/env",
		"LEADPIPE_WORKERS":         " 11 ",
		"LEADPIPE_LEASE":           "45s",
		"LEADPIPE_POLL_INTERVAL":   "3s",
		"LEADPIPE_LOG_LEVEL":       "error",
		"LEADPIPE_MAX_FIELD_BYTES": "4096",
		"UNRELATED":                "x",
	})
	got, err := config.Load(fixture("good.yaml"), env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := good
	want.PostgresURL = "postgres://env@127.0.0.1:1/env"
	want.Workers = 11
	want.Lease = config.Duration(45 * time.Second)
	want.PollInterval = config.Duration(3 * time.Second)
	want.MaxFieldBytes = 4096
	want.LogLevel = "error"
	if got != want {
		t.Fatalf("Load =\n  %+v\nwant\n  %+v", got, want)
	}
}

func TestEnvOverridesDefaults(t *testing.T) {
	got, err := config.Load("", envOf(map[string]string{"LEADPIPE_HTTP_ADDR": "127.0.0.1:0", "LEADPIPE_BATCH_SIZE": "7", "LEADPIPE_QUEUE_DEPTH": "1",
		"LEADPIPE_SESSION_TTL": "8h"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := config.Default
	want.HTTPAddr, want.BatchSize, want.QueueDepth = "127.0.0.1:0", 7, 1
	want.SessionTTL = config.Duration(8 * time.Hour)
	if got != want {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LEADPIPE_WORKERS": "two"}, `config: LEADPIPE_WORKERS="two" is not a whole number`},
		{map[string]string{"LEADPIPE_LEASE": "30"}, `config: LEADPIPE_LEASE="30" is not a duration (like 30s or 5m)`},
		// The environment's values are validated like the file's.
		{map[string]string{"LEADPIPE_WORKERS": "0"}, "config: workers is 0, want at least 1"},
		{map[string]string{"LEADPIPE_LOG_LEVEL": "chatty"}, `config: log_level is "chatty", want debug, info, warn or error`},
	}
	for _, tt := range tests {
		_, err := config.Load(fixture("good.yaml"), envOf(tt.env))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Load with env %v: error %v, want %q", tt.env, err, tt.want)
		}
	}
}

// An environment value that is wrong wins over a good file value, and a good one fixes a bad
// file value.
func TestEnvFixesBadFileValue(t *testing.T) {
	got, err := config.Load(fixture("bad-values.yaml"), envOf(map[string]string{
		"LEADPIPE_POSTGRES_URL":    "postgres://x",
		"LEADPIPE_WORKERS":         "1",
		"LEADPIPE_BATCH_SIZE":      "10",
		"LEADPIPE_QUEUE_DEPTH":     "2",
		"LEADPIPE_LEASE":           "5s",
		"LEADPIPE_POLL_INTERVAL":   "1s",
		"LEADPIPE_MAX_FIELD_BYTES": "2048",
		"LEADPIPE_LOG_LEVEL":       "info",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Workers != 1 || got.BatchSize != 10 || got.LogLevel != "info" || time.Duration(got.Lease) != 5*time.Second {
		t.Fatalf("Load = %+v", got)
	}
}

func TestParseWatch(t *testing.T) {
	tests := []struct {
		in   string
		want []config.WatchDir
		err  string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{"/srv/drop/acme=acme", []config.WatchDir{{Dir: "/srv/drop/acme", Account: "acme"}}, ""},
		{" /srv/a/ = acme , drop/b=Globex Inc", []config.WatchDir{{Dir: "/srv/a", Account: "acme"}, {Dir: "drop/b", Account: "Globex Inc"}}, ""},
		{"/srv/x=y=acme", []config.WatchDir{{Dir: "/srv/x=y", Account: "acme"}}, ""},
		{"/srv/a=acme,/srv/b", nil, `watch entry 2 "/srv/b" is not DIR=ACCOUNT`},
		{"=acme", nil, `watch entry 1 "=acme" has no directory before "="`},
		{"/srv/a=", nil, `watch entry 1 "/srv/a=" has no account after "="`},
		{"/srv/a=acme,", nil, `watch entry 2 "" is not DIR=ACCOUNT`},
		{"/srv/a=acme,/srv/a/=globex", nil, `watch entry 2 "/srv/a/=globex": directory /srv/a is already watched; bind each directory to one account`},
	}
	for _, tt := range tests {
		got, err := config.ParseWatch(tt.in)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("ParseWatch(%q) error %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("ParseWatch(%q) error %v", tt.in, err)
		case !slices.Equal(got, tt.want):
			t.Errorf("ParseWatch(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// A bad watch entry fails validation like any other setting, from the environment too.
func TestValidateWatch(t *testing.T) {
	_, err := config.Load("", envOf(map[string]string{"LEADPIPE_WATCH": "/srv/a=acme,/srv/b"}))
	if want := `config: watch entry 2 "/srv/b" is not DIR=ACCOUNT`; err == nil || err.Error() != want {
		t.Fatalf("Load error %v, want %q", err, want)
	}
}
