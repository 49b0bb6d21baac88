package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// mappingKindUsage is the usage of the --kind flag of the mappings commands.
const mappingKindUsage = "kind of the imports the saved mapping serves (default prospects)"

// mappingsList prints the account's saved mappings (of --kind, or all) as GET /v1/mappings
// answers them.
func mappingsList(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account whose saved mappings to list")
	kind := fs.String("kind", "", "only the saved mappings of this kind")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := required("account", *account); err != nil {
		return err
	}
	return e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) error {
		list, err := api.Mappings(ctx, pool, a, *kind)
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(list)
	})
}

// mappingsSave saves the options of an options file as a named mapping (created or replaced)
// and prints it as stored.
func mappingsSave(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account the mapping belongs to")
	kind := fs.String("kind", "", mappingKindUsage)
	optionsPath := fs.String("options", "", "import options file (JSON) to save")
	columns := fs.String("columns", "", `the header of the files it is for, separated by ';' (default: the columns its mapping names)`)
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New(`usage: leadpipe mappings save NAME --account A [--kind K] --options OPTIONS.json [--columns "a;b"]`)
	}
	if err := errors.Join(required("account", *account), required("options", *optionsPath)); err != nil {
		return err
	}
	b, err := os.ReadFile(*optionsPath)
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	cols := splitList(*columns)
	if *columns == "" {
		o, err := crm.ParseOptions(b)
		if err != nil {
			return fmt.Errorf("options file %s: %w", *optionsPath, err)
		}
		cols = slices.Sorted(maps.Keys(o.Mapping))
	}
	pool, err := e.connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := e.importer(pool).SaveMapping(ctx, importer.MappingToSave{Account: *account, Kind: *kind, Name: pos[0], Columns: cols, Options: b})
	if err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(m)
}

// mappingsDelete deletes a saved mapping.
func mappingsDelete(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account the mapping belongs to")
	kind := fs.String("kind", "", mappingKindUsage)
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: leadpipe mappings delete NAME --account A [--kind K]")
	}
	if err := required("account", *account); err != nil {
		return err
	}
	return e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) error {
		k, err := importer.KindOf(ctx, pool, a.ID, *kind)
		if err != nil {
			return err
		}
		err = store.DeleteSavedMapping(ctx, pool, a.ID, k.Name(), pos[0])
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no saved mapping %q for %s in account %q (leadpipe mappings list --account %s)", pos[0], k.Name(), a.Name, a.Name)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted saved mapping %q for %s of account %q\n", pos[0], k.Name(), a.Name)
		return nil
	})
}

// requestOptions reads the options of an import or a preview from an options file (none: the
// defaults) and names the saved mapping of --mapping in them, when given.
func requestOptions(path, mapping string) (crm.Options, error) {
	o, err := readOptions(path)
	if err == nil && mapping != "" {
		o.SavedMapping = mapping
		err = o.CheckLimits()
	}
	return o, err
}
