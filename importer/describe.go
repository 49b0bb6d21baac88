package importer

import (
	"context"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/store"
)

// KindInfo is what a client needs to import a kind into an account: its names, its catalog in
// the account and the import options that apply to it (GET /v1/kinds).
type KindInfo struct {
	Name string `json:"name"`
	Noun string `json:"noun"`
	// Fields are the kind's catalog in the account: its standard fields, then the account's
	// custom fields of the kind.
	Fields []FieldInfo `json:"fields"`
	// Options are the JSON names of the crm.Options members that apply to the kind.
	Options []string `json:"options"`
}

// FieldInfo is a field of a kind's catalog as a client sees it.
type FieldInfo struct {
	Key   string        `json:"key"`
	Label string        `json:"label"`
	Type  crm.FieldType `json:"type"`
	// Options are a picklist's values in their canonical spelling; empty for other types.
	Options []string `json:"options"`
	// MaxLength is in characters; 0 is no limit.
	MaxLength int  `json:"max_length"`
	Custom    bool `json:"custom"`
	// Aliases are the header spellings besides the key and label that auto-map to the field.
	Aliases []string `json:"aliases"`
}

// Describe returns every kind the account's imports may be of — the built-in kinds, then the
// account's object types — each with its catalog in the account.
func Describe(ctx context.Context, q store.Querier, acct store.Account) ([]KindInfo, error) {
	all, err := kinds.Kinds(ctx, q, acct.ID)
	if err != nil {
		return nil, err
	}
	out := make([]KindInfo, len(all))
	for i, k := range all {
		c, err := kind.Catalog(ctx, q, k, acct.ID)
		if err != nil {
			return nil, err
		}
		out[i] = KindInfo{Name: k.Name(), Noun: k.Noun(), Fields: fieldInfos(c), Options: k.OptionNames()}
	}
	return out, nil
}

// fieldInfos returns the fields of a catalog as clients see them.
func fieldInfos(c *crm.Catalog) []FieldInfo {
	out := make([]FieldInfo, len(c.Fields))
	for i, f := range c.Fields {
		out[i] = FieldInfo{Key: f.Key, Label: f.Label, Type: f.Type, Options: nonNil(f.Options), MaxLength: f.MaxLength,
			Custom: f.Custom, Aliases: nonNil(f.Aliases)}
	}
	return out
}

// nonNil returns s, or an empty list for nil: a list a client reads is never null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
