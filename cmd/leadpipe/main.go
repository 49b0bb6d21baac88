// Command leadpipe imports CRM lists (prospects, organizations, deals, custom objects) into a CRM database. `leadpipe serve` is the daemon;
// the other subcommands manage accounts and fields and run imports from the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/config"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/stages/read/isolate"
	"github.com/leadpipe/leadpipe/store"
)

var usage = `leadpipe imports CRM lists (CSV, XLS, XLSX, ODS) — prospects, organizations, deals, custom objects — into a CRM database.
The HTTP API (/v1, see api/openapi.yaml) is served by "leadpipe serve".

Usage:
  leadpipe serve                                    run the daemon: workers, /metrics, /healthz, /readyz
  leadpipe migrate                                  create or upgrade the database schema
  leadpipe broker [--addr HOST:PORT] [--data-dir DIR]
                                                    run the embedded Kafka broker alone (docs/kafka.md)
  leadpipe account create NAME [--prospect-limit N] [--exists-ok]
  leadpipe user add --account NAME --username U --email E --full-name "First Last"
  leadpipe field add --account NAME [--object organizations|deals|OBJECT_KEY] --key K --label L --type TYPE
                    [--options "a;b"] [--aliases "x;y"] [--max-length N]
  leadpipe object create --account NAME --key KEY --label LABEL --identifier FIELD_KEY
  leadpipe object list --account NAME
  leadpipe deal-stages list --account NAME          the stage picklist of deals imports, one a line
  leadpipe deal-stages set --account NAME --stages "Open;Won;Lost"
                                                    replace the account's deal stages (in this order)
  leadpipe import FILE --account NAME [--kind K] [--options OPTIONS.json] [--mapping NAME] [--dry-run] [--queue]
  leadpipe preview FILE --account NAME [--kind K] [--options OPTIONS.json] [--mapping NAME]
                                                    --mapping imports with a saved mapping's options under
                                                    the options file's (docs/mappings.md)
  leadpipe mappings list --account NAME [--kind K]  the saved mappings, by name (all kinds without --kind)
  leadpipe mappings save NAME --account NAME [--kind K] --options OPTIONS.json [--columns "a;b"]
                                                    save (or replace) an options file as a named mapping;
                                                    --columns: the header it is for (default: its mapping's)
  leadpipe mappings delete NAME --account NAME [--kind K]
  leadpipe inspect FILE [--sheet NAME] [--limit N]
                                                    what leadpipe reads from a file before any mapping:
                                                    JSON lines, its format, sheets and header, then its
                                                    first N data rows (20; 0 for all); no database needed
  leadpipe imports list --account NAME [--status S] [--kind K] [--request ID] [--undos exclude|include|only]
                       [--from DATE] [--to DATE] [--limit N] [--cursor C]
                                                    the history, newest first; undos are listed only with
                                                    --undos (an undone import shows its undo)
  leadpipe imports show|file|skipped|cancel ID --account NAME
                                                    cancel stops an import, or an undo, that has not ended
  leadpipe imports records ID --account NAME [--created] [--limit N] [--cursor C]
                                                    the records an import created or touched, any kind
  leadpipe imports resume ID --account NAME         run an interrupted (or queued) import, or undo, to its end here
  leadpipe imports undo ID --account NAME [--dry-run]
                                                    take an import back here (docs/undo.md): delete what it
                                                    created, restore what it changed, keep what changed
                                                    since; prints the undo's counts as one JSON object
  leadpipe prospects list --account NAME [--import-id ID] [--import-file NAME] [--imported-since DATE]
                          [--imported-until DATE] [--limit N] [--cursor C] [--format json|csv]
  leadpipe token create --account NAME              print a new API token for the account
  leadpipe analytics [QUERY] [--account NAME] [--since 30d|DATE]
                                                    run an analytics query on ClickHouse; none lists them

--kind K is the kind of record a file holds, one of: ` + strings.Join(importer.Kinds(), ", ") + `;
prospects when it is not given (docs/kinds.md). --kind workbook imports an XLSX, XLS or ODS file
whose sheets are named for kinds, one import per sheet in dependency order, grouped under one
request (docs/import-rules.md, "Workbooks").

Every command takes --config FILE (or LEADPIPE_CONFIG); settings also come from LEADPIPE_*
variables, e.g. LEADPIPE_POSTGRES_URL. See README.md.
`

func main() {
	// SIGHUP (a closed terminal, a supervisor's reload) stops as gracefully as SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	tuneGC()
	isolate.ServeChild()
	stopProfile, err := profile(os.Getenv(cpuProfileEnv), os.Getenv(allocProfileEnv))
	if err == nil {
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		err = errors.Join(err, stopProfile())
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "leadpipe:", oneLine(err))
		}
		os.Exit(1)
	}
}

// oneLine keeps an error message on one line, as scripts read it.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "account", "user", "field", "object", "deal-stages", "token", "imports", "prospects", "mappings":
		if len(rest) > 0 {
			cmd, rest = cmd+" "+rest[0], rest[1:]
		}
	}
	commands := map[string]func(context.Context, *env, []string) error{
		"serve":           serve,
		"migrate":         migrate,
		"broker":          runBroker,
		"account create":  accountCreate,
		"user add":        userAdd,
		"field add":       fieldAdd,
		"object create":   objectCreate,
		"object list":     objectList,
		"import":          importFile,
		"token create":    tokenCreate,
		"preview":         previewFile,
		"inspect":         inspectFile,
		"imports list":    importsList,
		"imports show":    importsShow,
		"imports file":    importsFile,
		"imports skipped": importsSkipped,
		"imports records": importsRecords,
		"imports cancel":  importsCancel,
		"imports resume":  importsResume,
		"imports undo":    importsUndo,
		"prospects list":  prospectsList,
		"analytics":       analyticsCmd,

		"deal-stages list": dealStagesList,
		"deal-stages set":  dealStagesSet,

		"mappings list":   mappingsList,
		"mappings save":   mappingsSave,
		"mappings delete": mappingsDelete,
	}
	f, ok := commands[cmd]
	if !ok {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
	}
	return f(ctx, &env{stdout: stdout, stderr: stderr, name: cmd}, rest)
}

// env is what every command gets: its output streams and, once flags are parsed, its config.
type env struct {
	stdout, stderr io.Writer
	name           string
	configPath     string
	cfg            config.Config
	logLevel       slog.Level
	log            *slog.Logger
}

// flags returns a flag set for the command with the shared --config flag.
func (e *env) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("leadpipe "+e.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.configPath, "config", os.Getenv("LEADPIPE_CONFIG"), "config file (YAML)")
	return fs
}

// parse parses flags placed before, between or after the positional arguments, loads the
// config and returns the positional arguments.
func (e *env) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional, args = append(positional, args[0]), args[1:]
	}
	cfg, err := config.Load(e.configPath, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	e.cfg = cfg
	if err := e.logLevel.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, err
	}
	e.log = e.logger(e.stderr)
	return positional, nil
}

// logger returns a logger that writes to w at the log_level setting.
func (e *env) logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: e.logLevel}))
}

// importer returns the importer on pool, parsing spreadsheets where the sheet_parser setting
// says: "auto" is a child process for the daemon and for inspect (run on the files that do not
// import as expected), this process for the other one-shot commands.
func (e *env) importer(pool *pgxpool.Pool) *importer.Importer {
	im := &importer.Importer{Pool: pool, Config: e.cfg, Log: e.log}
	if e.cfg.SheetParser == "process" || e.cfg.SheetParser == "auto" && (e.name == "serve" || e.name == "inspect") {
		im.Sheets = &isolate.Parser{MemoryBytes: e.cfg.SheetMemoryLimit, CPU: time.Duration(e.cfg.SheetCPULimit)}
	}
	return im
}

// connect opens the database pool.
func (e *env) connect(ctx context.Context) (*pgxpool.Pool, error) {
	return store.Connect(ctx, e.cfg.PostgresURL)
}

func required(name, value string) error {
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("--%s is required", name)
	}
	return nil
}
