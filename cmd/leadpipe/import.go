package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

func importFile(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account to import into")
	kind := fs.String("kind", "", kindUsage)
	optionsPath := fs.String("options", "", "import options file (JSON)")
	mapping := fs.String("mapping", "", "saved mapping whose options go under the options file's (leadpipe mappings list)")
	dryRun := fs.Bool("dry-run", false, "compute every row's outcome and write nothing")
	queue := fs.Bool("queue", false, "queue the import for `leadpipe serve` instead of running it here")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: leadpipe import FILE --account NAME [--kind K] [--options OPTIONS.json] [--mapping NAME] [--dry-run] [--queue]")
	}
	if err := required("account", *account); err != nil {
		return err
	}
	if *queue && *dryRun {
		return errors.New("--queue and --dry-run do not go together")
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
	req := importer.Request{Account: *account, Kind: *kind, Path: pos[0], Options: opts, Source: store.SourceCLI}
	out := json.NewEncoder(e.stdout)
	if *queue {
		imp, checked, err := im.Submit(ctx, req)
		if err != nil {
			return err
		}
		return out.Encode(api.QueuedView(imp, checked))
	}
	finish := e.progressBar(im)
	sum, err := im.RunNow(ctx, req, thisProcess(store.HolderCLI).String(), *dryRun)
	finish()
	return printSummary(e, sum.Status, sum, err)
}

// printSummary prints the summary of an import (or an undo) run in the foreground, if it got
// that far (status is its status), and returns the run's error.
func printSummary(e *env, status string, sum any, err error) error {
	if status != "" {
		if encErr := json.NewEncoder(e.stdout).Encode(sum); encErr != nil {
			return encErr
		}
	}
	return err
}

// thisProcess is this process as the holder of an import's lease.
func thisProcess(kind string) store.Holder {
	host, _ := os.Hostname()
	return store.Holder{Kind: kind, Host: host, PID: os.Getpid()}
}

func importsResume(ctx context.Context, e *env, args []string) error {
	return e.withImport(ctx, args, func(pool *pgxpool.Pool, a store.Account, imp store.Import) error {
		im := e.importer(pool)
		// Only an import that will run needs its file here: one that ended, or a cancelled one
		// (which resuming ends), gets ResumeImport's answer whatever became of its file.
		if imp.FinishedAt == nil && imp.Status != store.StatusCancelled {
			if err := im.Readable(imp); err != nil {
				return err
			}
		}
		owner := thisProcess(store.HolderCLI).String()
		claimed, err := store.ResumeImport(ctx, pool, a.ID, imp.ID, owner, time.Duration(e.cfg.Lease))
		if err != nil {
			return err
		}
		finish := e.progressBar(im)
		sum, err := im.Run(ctx, claimed, owner)
		finish()
		return printSummary(e, sum.Status, sum, err)
	})
}

// importsUndo undoes an import here, in the foreground (docs/undo.md), and prints the undo's
// summary; with --dry-run it prints what the undo would do, row by row, and changes nothing.
func importsUndo(ctx context.Context, e *env, args []string) error {
	var dryRun bool
	return e.withImport(ctx, args, func(pool *pgxpool.Pool, a store.Account, imp store.Import) error {
		req := importer.UndoRequest{Account: a.Name, ImportID: imp.ID, Source: store.SourceCLI}
		im := e.importer(pool)
		finish := e.progressBar(im)
		sum, err := im.UndoNow(ctx, req, thisProcess(store.HolderCLI).String(), dryRun)
		finish()
		return printSummary(e, sum.Status, sum, err)
	}, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "report what the undo would do, row by row, and change nothing")
	})
}
