package prospects

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/store"
	"github.com/leadpipe/leadpipe/store/storetest"
)

// batchDriver writes batches of one import's writer by hand, so that a test can put another
// writer's transaction exactly between a batch's read-ahead and its write.
type batchDriver struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	acct store.Account
	w    *writer
}

func newBatchDriver(t *testing.T) *batchDriver {
	pool := storetest.Pool(t)
	acct := storetest.Account(t, pool, -1)
	c := crm.NewCatalog("prospect", standardFields(), nil)
	return &batchDriver{t: t, ctx: t.Context(), pool: pool, acct: acct,
		w: newWriter(&kind.Plan{Kind: Kind{}, Account: acct, Catalog: c, Mapped: func(string) bool { return true }})}
}

// batch is one row per email and company.
func (d *batchDriver) batch(emailCompany ...string) *pipeline.Batch {
	c := d.w.plan.Catalog
	b := &pipeline.Batch{}
	for i := 0; i < len(emailCompany); i += 2 {
		v := make([]string, len(c.Fields))
		v[c.MustIndex(crm.FieldEmail)], v[c.MustIndex(crm.FieldOrganization)] = emailCompany[i], emailCompany[i+1]
		b.Rows = append(b.Rows, pipeline.Row{Number: i/2 + 2, Values: v})
	}
	return b
}

func (d *batchDriver) prepare(b *pipeline.Batch) {
	d.t.Helper()
	err := pgx.BeginTxFunc(d.ctx, d.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return d.w.Prepare(d.ctx, tx, b) })
	if err != nil {
		d.t.Fatal(err)
	}
}

func (d *batchDriver) write(b *pipeline.Batch) {
	d.t.Helper()
	if err := pgx.BeginFunc(d.ctx, d.pool, func(tx pgx.Tx) error { return d.w.Write(d.ctx, tx, b) }); err != nil {
		d.t.Fatal(err)
	}
}

// rename renames an organization as another writer (an organizations import) would: under
// the account's lock, in a transaction of its own.
func (d *batchDriver) rename(id int64, name string) {
	d.t.Helper()
	err := pgx.BeginFunc(d.ctx, d.pool, func(tx pgx.Tx) error {
		if err := store.LockAccount(d.ctx, tx, d.acct.ID); err != nil {
			return err
		}
		_, err := tx.Exec(d.ctx, "UPDATE organizations SET name = $2, name_key = $3 WHERE id = $1", id, name, crm.NormalizeOrgName(name))
		return err
	})
	if err != nil {
		d.t.Fatal(err)
	}
}

// orgOf is the id and name of the organization of the prospect with email.
func (d *batchDriver) orgOf(email string) (int64, string) {
	d.t.Helper()
	var id int64
	var name string
	if err := d.pool.QueryRow(d.ctx, `SELECT o.id, o.name FROM prospects p JOIN organizations o ON o.id = p.organization_id
		WHERE p.account_id = $1 AND lower(p.email) = $2`, d.acct.ID, email).Scan(&id, &name); err != nil {
		d.t.Fatalf("organization of %s: %v", email, err)
	}
	return id, name
}

// The organizations an import linked to are not read again by its later batches while only it
// writes into the account; once another writer did, they are read again. Here the other
// writer renames the organization a first batch created, and a later batch naming the old
// name must create a new one, whether the other writer ran before the batch's read-ahead or
// between its read-ahead and its write.
func TestKnownOrganizationsAfterAnotherWriter(t *testing.T) {
	for _, between := range []bool{false, true} {
		d := newBatchDriver(t)
		d.write(d.batch("ann@acme.com", "Acme", "bob@beta.io", "Beta"))
		acme, _ := d.orgOf("ann@acme.com")
		b2, b3 := d.batch("cat@beta.io", "Beta"), d.batch("dan@other.org", "Acme")
		d.prepare(b2)
		d.write(b2)
		if !between {
			d.rename(acme, "Acme Holdings")
		}
		d.prepare(b3)
		if between {
			d.rename(acme, "Acme Holdings")
		}
		d.write(b3)
		if id, name := d.orgOf("dan@other.org"); id == acme || name != "Acme" {
			t.Errorf("between=%v: dan links to organization %d %q; want a new Acme, not %d (renamed)", between, id, name, acme)
		}
		beta, _ := d.orgOf("bob@beta.io")
		if id, _ := d.orgOf("cat@beta.io"); id != beta {
			t.Errorf("between=%v: cat links to organization %d, want Beta (%d)", between, id, beta)
		}
	}
}
