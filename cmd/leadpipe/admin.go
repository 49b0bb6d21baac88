package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
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
	err := e.withAccount(ctx, *account, func(pool *pgxpool.Pool, a store.Account) error {
		if err := importer.CheckField("", f); err != nil {
			return err
		}
		return store.AddField(ctx, pool, a.ID, "prospects", f)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "field %q (%s) in account %q\n", f.Key, f.Type, *account)
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

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
