package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/kinds/objects"
	chsink "github.com/leadpipe/leadpipe/sinks/clickhouse"
	"github.com/leadpipe/leadpipe/store"
)

func migrate(ctx context.Context, e *env, args []string) error {
	if _, err := e.parse(e.flags(), args); err != nil {
		return err
	}
	pool, err := e.connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := store.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "schema is up to date")
	} else {
		fmt.Fprintf(e.stdout, "applied migrations %v\n", applied)
	}
	if e.cfg.ClickHouseAddr == "" {
		return nil
	}
	applied, err = chsink.Migrate(ctx, e.cfg.ClickHouseAddr, e.cfg.ClickHouseDatabase)
	if err != nil {
		return fmt.Errorf("%w; or unset LEADPIPE_CLICKHOUSE_ADDR to run without analytics", err)
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "clickhouse schema is up to date")
	} else {
		fmt.Fprintf(e.stdout, "applied clickhouse migrations %v\n", applied)
	}
	return nil
}

func accountCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	limit := fs.Int64("prospect-limit", -1, "most prospects the account may hold (default: unlimited)")
	existsOK := fs.Bool("exists-ok", false, "succeed when the account already exists")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: leadpipe account create NAME [--prospect-limit N]")
	}
	var lim *int64
	if *limit >= 0 {
		lim = limit
	}
	pool, err := e.connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	a, err := store.CreateAccount(ctx, pool, pos[0], lim)
	if errors.Is(err, store.ErrExists) && *existsOK {
		a, err = store.AccountByName(ctx, pool, pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "account %q (id %d)\n", a.Name, a.ID)
	return nil
}

func userAdd(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account name")
	var u store.User
	fs.StringVar(&u.Username, "username", "", "login name")
	fs.StringVar(&u.Email, "email", "", "email address")
	fs.StringVar(&u.FullName, "full-name", "", "full name, e.g. \"Ada Lovelace\"")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := errors.Join(required("account", *account), required("username", u.Username)); err != nil {
		return err
	}
	err := e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) (err error) {
		u, err = store.AddUser(ctx, pool, a.ID, u)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %q (id %d) in account %q\n", u.Username, u.ID, *account)
	return nil
}

func fieldAdd(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account name")
	object := fs.String("object", "", "the kind the field is of: organizations, deals or an object type's key (default: prospects)")
	var f crm.Field
	var typ, options, aliases string
	fs.StringVar(&f.Key, "key", "", "field key: lowercase letters, digits, '_'")
	fs.StringVar(&f.Label, "label", "", "label shown to users; headers auto-map to it")
	fs.StringVar(&typ, "type", "text", "text, email, phone, number, date, boolean, picklist or multipicklist")
	fs.StringVar(&options, "options", "", "picklist options, separated by ';'")
	fs.StringVar(&aliases, "aliases", "", "other header names that auto-map to the field, separated by ';'")
	fs.IntVar(&f.MaxLength, "max-length", 255, "longest text value in characters (0: no limit)")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := required("account", *account); err != nil {
		return err
	}
	f.Type, f.Options, f.Aliases = crm.FieldType(typ), splitList(options), splitList(aliases)
	var entity string
	err := e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) error {
		k, err := importer.KindOf(ctx, pool, a.ID, *object)
		if err != nil {
			return err
		}
		if err := importer.CheckField(k, f); err != nil {
			return err
		}
		entity = k.Name()
		return store.AddField(ctx, pool, a.ID, entity, f)
	})
	if err != nil {
		return err
	}
	of := "" // a prospect field is printed as it always was
	if *object != "" {
		of = " of " + entity
	}
	fmt.Fprintf(e.stdout, "field %q (%s)%s in account %q\n", f.Key, f.Type, of, *account)
	return nil
}

func objectCreate(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account name")
	key := fs.String("key", "", "object type key, the kind its imports name: lowercase letters, digits, '_'")
	label := fs.String("label", "", "label shown to users; names the type's sheet in a workbook")
	identifier := fs.String("identifier", "", "key of the field whose value identifies a record (created as a text field if missing)")
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := errors.Join(required("account", *account), required("key", *key), required("label", *label), required("identifier", *identifier)); err != nil {
		return err
	}
	var t store.ObjectType
	err := e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) (err error) {
		t, err = objects.Create(ctx, pool, a.ID, *key, *label, *identifier)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "object type %q (%q, identified by %q, id %d) in account %q\n", t.Key, t.Label, t.Identifier, t.ID, *account)
	return nil
}

func objectList(ctx context.Context, e *env, args []string) error {
	return e.forAccount(ctx, args, "account name", func(pool *pgxpool.Pool, a store.Account) error {
		types, err := store.ObjectTypes(ctx, pool, a.ID)
		if err != nil {
			return err
		}
		for _, t := range types {
			fmt.Fprintf(e.stdout, "%s\t%s\tidentified by %s\n", t.Key, t.Label, t.Identifier)
		}
		return nil
	})
}

func dealStagesList(ctx context.Context, e *env, args []string) error {
	return e.forAccount(ctx, args, "account name", func(pool *pgxpool.Pool, a store.Account) error {
		stages, err := store.DealStages(ctx, pool, a.ID)
		if err != nil {
			return err
		}
		for _, s := range stages {
			fmt.Fprintln(e.stdout, s)
		}
		return nil
	})
}

func dealStagesSet(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	account := fs.String("account", "", "account name")
	list := fs.String("stages", "", `the account's deal stages in order, separated by ';', e.g. "Open;Won;Lost"`)
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := errors.Join(required("account", *account), required("stages", *list)); err != nil {
		return err
	}
	var stages []string
	err := e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) (err error) {
		// Split as given: an empty stage between two ';' is refused, not dropped.
		if err := store.SetDealStages(ctx, pool, a.ID, strings.Split(*list, ";")); err != nil {
			return err
		}
		stages, err = store.DealStages(ctx, pool, a.ID)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deal stages of account %q: %s\n", *account, strings.Join(stages, "; "))
	return nil
}

// withAccount connects to the database and calls f with the named account.
func (e *env) withAccount(ctx context.Context, name string, f func(*pgxpool.Pool, store.Account) error) error {
	pool, err := e.connect(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	a, err := store.AccountByName(ctx, pool, name)
	if err != nil {
		return err
	}
	return f(pool, a)
}

// forAccount runs a command whose one flag is --account (usage says what the account is for):
// it parses args and calls f with the account, as withAccount does.
func (e *env) forAccount(ctx context.Context, args []string, usage string, f func(*pgxpool.Pool, store.Account) error) error {
	fs := e.flags()
	account := fs.String("account", "", usage)
	if _, err := e.parse(fs, args); err != nil {
		return err
	}
	if err := required("account", *account); err != nil {
		return err
	}
	return e.withAccount(ctx, *account, f)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
