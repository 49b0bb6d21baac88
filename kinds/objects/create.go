package objects

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/store"
)

// Create adds an object type to an account (store.CreateObjectType) and, in the same
// transaction, its identifying field — a text field of entity key labelled after its key —
// unless the account already has a field of that key for the type.
func Create(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, accountID int64, key, label, identifier string) (t store.ObjectType, err error) {
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if t, err = store.CreateObjectType(ctx, tx, accountID, key, label, identifier); err != nil {
			return err
		}
		fields, err := store.CustomFields(ctx, tx, accountID, key)
		if err != nil {
			return err
		}
		for _, f := range fields {
			if f.Key == identifier {
				return nil
			}
		}
		f := crm.Field{Key: identifier, Label: labelOf(identifier), Type: crm.Text, MaxLength: 255}
		if err := crm.CheckCustomField(f, StandardFields()); err != nil {
			return err
		}
		return store.AddField(ctx, tx, accountID, key, f)
	})
	return t, err
}

// labelOf makes a label of a field key: "serial_no" is "Serial No".
func labelOf(key string) string {
	words := strings.Split(key, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}
