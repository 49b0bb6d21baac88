package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/filestore"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// The commands here show what the HTTP API shows, through the same functions, as JSON (or
// CSV) on stdout.

func tokenCreate(ctx context.Context, e *env, args []string) error {
	return e.forAccount(ctx, args, "account the token belongs to", func(pool *pgxpool.Pool, a store.Account) error {
		token, err := store.CreateToken(ctx, pool, a.ID)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, token)
		return nil
	})
}

func previewFile(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account to preview the import for")
	kind := fs.String("kind", "", kindUsage)
	optionsPath := fs.String("options", "", "import options file (JSON)")
	mapping := fs.String("mapping", "", "saved mapping whose options go under the options file's (leadpipe mappings list)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: leadpipe preview FILE --account NAME [--kind K] [--options OPTIONS.json] [--mapping NAME]")
	}
	if err := required("account", *account); err != nil {
		return err
	}
	opts, err := requestOptions(*optionsPath, *mapping)
	if err != nil {
		return err
	}
	pool, err := e.connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	im := e.importer(pool)
	p, err := im.Preview(ctx, importer.Request{Account: *account, Kind: *kind, Path: pos[0], Options: opts, Source: store.SourceCLI})
	if err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(p)
}

// readOptions reads an import options file; no path means the default options.
func readOptions(path string) (crm.Options, error) {
	if path == "" {
		return crm.Options{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return crm.Options{}, fmt.Errorf("options: %w", err)
	}
	opts, err := crm.ParseOptions(b)
	if err != nil {
		return crm.Options{}, fmt.Errorf("options file %s: %w", path, err)
	}
	return opts, nil
}

// timeFlag is a flag holding a date or RFC 3339 time, parsed as the API parses it.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) (err error) {
	f.t, err = api.ParseTime(s)
	return err
}

// kindUsage is the help of the --kind flag of the commands that import.
var kindUsage = "kind of record the file holds: " + strings.Join(importer.Kinds(), ", ") + " (default prospects), or " +
	importer.WorkbookKind + " for a workbook whose sheets are named for kinds"

func importsList(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account whose imports to list")
	var f store.ImportFilter
	var from, to timeFlag
	fs.StringVar(&f.Status, "status", "", "only imports with this status")
	fs.StringVar(&f.Kind, "kind", "", "only imports of this kind: "+strings.Join(importer.Kinds(), ", "))
	fs.Var(&from, "from", "only imports created at or after this date or time")
	fs.Var(&to, "to", "only imports created before this date or time")
	fs.IntVar(&f.Limit, "limit", api.DefaultLimit, "imports per page")
	fs.Int64Var(&f.Before, "cursor", 0, "next_cursor of the previous page")
	fs.Int64Var(&f.RequestID, "request", 0, "only the imports of this workbook request (its request_id)")
	fs.StringVar(&f.Undos, "undos", store.UndosExclude, "which undos to list: "+strings.Join(store.UndosFilters, ", "))
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := required("account", *account); err != nil {
		return err
	}
	if !slices.Contains(store.UndosFilters, f.Undos) {
		return fmt.Errorf("--undos %q: want one of %s", f.Undos, strings.Join(store.UndosFilters, ", "))
	}
	f.From, f.To = from.t, to.t
	return e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) error {
		list, err := api.History(ctx, pool, a, f)
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(list)
	})
}

// withImport parses `imports VERB ID --account NAME`, and the flags flags defines, and calls f
// with the account's import.
func (e *env) withImport(ctx context.Context, args []string, f func(*pgxpool.Pool, store.Account, store.Import) error, flags ...func(*flag.FlagSet)) error {
	fs := e.flags()
	account := fs.String("account", "", "account of the import")
	for _, def := range flags {
		def(fs)
	}
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if err := required("account", *account); err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: leadpipe %s ID --account NAME", e.name)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return fmt.Errorf("import id %q is not a number", pos[0])
	}
	return e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) error {
		imp, err := store.GetImport(ctx, pool, a.ID, id)
		if err != nil {
			return err
		}
		return f(pool, a, imp)
	})
}

func importsShow(ctx context.Context, e *env, args []string) error {
	return e.withImport(ctx, args, func(pool *pgxpool.Pool, _ store.Account, imp store.Import) error {
		v, err := api.ShowImport(ctx, pool, imp.AccountID, imp.ID)
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(v)
	})
}

func importsFile(ctx context.Context, e *env, args []string) error {
	return e.withImport(ctx, args, func(_ *pgxpool.Pool, _ store.Account, imp store.Import) error {
		f, err := filestore.OpenOriginal(imp)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(e.stdout, f)
		return err
	})
}

func importsSkipped(ctx context.Context, e *env, args []string) error {
	return e.withImport(ctx, args, func(pool *pgxpool.Pool, _ store.Account, imp store.Import) error {
		return importer.WriteSkippedCSV(ctx, pool, imp, e.stdout)
	})
}

func importsRecords(ctx context.Context, e *env, args []string) error {
	var createdOnly bool
	var after int64
	var limit int
	return e.withImport(ctx, args, func(pool *pgxpool.Pool, a store.Account, imp store.Import) error {
		page, err := e.importer(pool).Records(ctx, a, imp, after, createdOnly, limit)
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(page)
	}, func(fs *flag.FlagSet) {
		fs.BoolVar(&createdOnly, "created", false, "only the records the import created")
		fs.Int64Var(&after, "cursor", 0, "next_cursor of the previous page")
		fs.IntVar(&limit, "limit", api.DefaultLimit, "records per page")
	})
}

func importsCancel(ctx context.Context, e *env, args []string) error {
	return e.withImport(ctx, args, func(pool *pgxpool.Pool, a store.Account, imp store.Import) error {
		cancelled, err := store.CancelImport(ctx, pool, a.ID, imp.ID)
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(api.NewImportView(cancelled))
	})
}

func prospectsList(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account whose prospects to list")
	var f store.ProspectFilter
	var since, until timeFlag
	fs.Int64Var(&f.ImportID, "import-id", 0, "only prospects this import created, updated or touched")
	fs.StringVar(&f.ImportFile, "import-file", "", "only prospects of imports of this file name")
	fs.Var(&since, "imported-since", "only prospects of imports created at or after this date or time")
	fs.Var(&until, "imported-until", "only prospects of imports created before this date or time")
	fs.IntVar(&f.Limit, "limit", api.DefaultLimit, "prospects per page")
	fs.Int64Var(&f.After, "cursor", 0, "next_cursor of the previous page")
	format := fs.String("format", "json", "json or csv")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := required("account", *account); err != nil {
		return err
	}
	if *format != "json" && *format != "csv" {
		return fmt.Errorf("--format %q: want json or csv", *format)
	}
	f.From, f.To = since.t, until.t
	return e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) error {
		list, err := api.Prospects(ctx, pool, a, f)
		if err != nil {
			return err
		}
		if *format == "json" {
			return json.NewEncoder(e.stdout).Encode(list)
		}
		return writeProspectsCSV(e.stdout, list.Prospects)
	})
}

// writeProspectsCSV writes prospects as CSV, formula-safe like every CSV leadpipe writes.
func writeProspectsCSV(w io.Writer, ps []store.ProspectRecord) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "email", "first_name", "last_name", "title", "phone", "mobile", "website", "street", //nolint:errcheck // Flush reports it
		"city", "state", "postal_code", "country", "lead_source", "lead_owner", "email_opt_in", "organization", "created_at", "updated_at"})
	for _, p := range ps {
		optIn := ""
		if p.EmailOptIn != nil {
			optIn = strconv.FormatBool(*p.EmailOptIn)
		}
		rec := []string{strconv.FormatInt(p.ID, 10), p.Email, p.FirstName, p.LastName, p.Title, p.Phone, p.Mobile, p.Website,
			p.Street, p.City, p.State, p.PostalCode, p.Country, p.LeadSource, p.LeadOwner, optIn, p.Organization,
			p.CreatedAt.Format(time.RFC3339), p.UpdatedAt.Format(time.RFC3339)}
		for i := range rec {
			rec[i] = importer.EscapeFormula(rec[i])
		}
		cw.Write(rec) //nolint:errcheck // Flush reports it
	}
	cw.Flush()
	return cw.Error()
}
