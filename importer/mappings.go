package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/stages/validate"
	"github.com/leadpipe/leadpipe/store"
)

// MaxMappingColumns bounds the columns a saved mapping keeps of the file it was saved from.
const MaxMappingColumns = 1000

// savedOptions returns the options of the saved mapping of kind k named name in the account
// (none when name is ""). An unknown name is an error wrapping crm.ErrInvalidOptions that names
// the saved mappings of the kind there are.
func savedOptions(ctx context.Context, q store.Querier, acct store.Account, k kind.Kind, name string) (crm.Options, error) {
	if name == "" {
		return crm.Options{}, nil
	}
	m, err := store.GetSavedMapping(ctx, q, acct.ID, k.Name(), name)
	if errors.Is(err, store.ErrNotFound) {
		list, err := store.SavedMappings(ctx, q, acct.ID, k.Name())
		if err != nil {
			return crm.Options{}, err
		}
		saved := "none saved yet"
		if len(list) > 0 {
			names := make([]string, len(list))
			for i, m := range list {
				names[i] = m.Name
			}
			saved = "saved: " + strings.Join(names, ", ")
		}
		return crm.Options{}, fmt.Errorf("%w: saved_mapping: no saved mapping %q for %s; %s", crm.ErrInvalidOptions, name, k.Name(), saved)
	}
	if err != nil {
		return crm.Options{}, err
	}
	return crm.StoredOptions(m.Options)
}

// withSaved returns a request's options o for a file with header, the saved mapping's options
// saved under them (crm.Options.Over): o's members win, and o's mapping wins column by column.
// The saved mapping's entries apply to the file's columns whose headers fold to theirs as
// auto-mapping folds them (crm.NormalizeHeader), spelled as the file spells them, an entry
// spelled as the column winning over one that only folds to it; those of columns the file
// lacks, or that o maps itself, or to a field o maps another column to (o moves the field),
// are left out.
func withSaved(o, saved crm.Options, header []string) (crm.Options, error) {
	if o.SavedMapping == "" {
		return o, nil
	}
	taken := map[string]bool{}
	fields := map[string]bool{} // the fields o maps a column to
	for h, key := range o.Mapping {
		taken[strings.TrimSpace(h)] = true
		if key != "" {
			fields[key] = true
		}
	}
	var mapping map[string]string
	for _, exact := range []bool{true, false} {
		for _, h := range slices.Sorted(maps.Keys(saved.Mapping)) {
			col, ok := columnOf(header, h, exact)
			if !ok || taken[strings.TrimSpace(col)] || fields[saved.Mapping[h]] {
				continue
			}
			if mapping == nil {
				mapping = map[string]string{}
			}
			mapping[col], taken[strings.TrimSpace(col)] = saved.Mapping[h], true
		}
	}
	saved.Mapping = mapping
	return o.Over(saved)
}

// columnOf returns the header of the file's column that a saved mapping's column h names: with
// exact, the column spelled as h; else the first whose header folds to h's.
func columnOf(header []string, h string, exact bool) (string, bool) {
	h = strings.TrimSpace(h)
	folded := crm.NormalizeHeader(h)
	for _, c := range header {
		if exact && strings.TrimSpace(c) == h || !exact && folded != "" && crm.NormalizeHeader(c) == folded {
			return c, true
		}
	}
	return "", false
}

// MappingToSave is a saved mapping as a client sends it: the columns of the file it was made
// for and the options (JSON, as an import's).
type MappingToSave struct {
	Account string
	Kind    string // "" is the default kind
	Name    string
	Columns []string
	Options []byte
}

// SaveMapping checks a mapping to save and saves it, creating it or replacing the one of that
// kind and name. Its options are checked as an import's are, against the kind's catalog in the
// account (the fields they map to, the policies, the unique identifier, the owner), and may not
// name a saved mapping or give options by kind. Every problem is an error wrapping
// crm.ErrInvalidOptions, an unknown kind one wrapping ErrUnknownKind too.
func (im *Importer) SaveMapping(ctx context.Context, m MappingToSave) (store.SavedMapping, error) {
	acct, err := store.AccountByName(ctx, im.Pool, m.Account)
	if err != nil {
		return store.SavedMapping{}, err
	}
	k, err := kinds.Lookup(ctx, im.Pool, acct.ID, m.Kind)
	if err != nil {
		return store.SavedMapping{}, err
	}
	if err := checkMappingName(m.Name); err != nil {
		return store.SavedMapping{}, err
	}
	if err := checkMappingColumns(m.Columns); err != nil {
		return store.SavedMapping{}, err
	}
	o, err := crm.ParseOptions(m.Options)
	if err != nil {
		return store.SavedMapping{}, err
	}
	switch {
	case o.SavedMapping != "":
		return store.SavedMapping{}, fmt.Errorf("%w: saved_mapping: a saved mapping cannot name another; save its options instead", crm.ErrInvalidOptions)
	case len(o.Kinds) > 0:
		return store.SavedMapping{}, fmt.Errorf("%w: kinds: a saved mapping is of one kind (%s); save one per kind", crm.ErrInvalidOptions, k.Name())
	}
	kp, err := checkedKindPlan(ctx, im.Pool, acct, k, o)
	if err != nil {
		return store.SavedMapping{}, err
	}
	if _, err := validate.New(kp.Catalog, kp.Users, o, nil); err != nil { // the owner names a user
		return store.SavedMapping{}, err
	}
	stored, err := json.Marshal(o)
	if err != nil {
		return store.SavedMapping{}, err
	}
	return store.SaveMapping(ctx, im.Pool, acct.ID, store.SavedMapping{Kind: k.Name(), Name: m.Name, Columns: m.Columns, Options: stored})
}

// checkMappingName checks the name of a saved mapping: 1 to crm.MaxNameChars characters of
// UTF-8 without control characters, not only spaces.
func checkMappingName(name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: name: give the saved mapping a name", crm.ErrInvalidOptions)
	}
	if p := crm.NameProblem(name); p != "" {
		return fmt.Errorf("%w: name: %q %s", crm.ErrInvalidOptions, strings.ToValidUTF8(name, "\ufffd"), p)
	}
	return nil
}

// checkMappingColumns checks the columns a saved mapping keeps: at most MaxMappingColumns, each
// valid UTF-8 without NUL.
func checkMappingColumns(columns []string) error {
	if len(columns) > MaxMappingColumns {
		return fmt.Errorf("%w: columns: %d columns, more than the limit of %d", crm.ErrInvalidOptions, len(columns), MaxMappingColumns)
	}
	for _, c := range columns {
		if p := crm.TextProblem(c); p != "" {
			return fmt.Errorf("%w: columns: %q %s", crm.ErrInvalidOptions, strings.ToValidUTF8(c, "\ufffd"), p)
		}
	}
	return nil
}

// Suggestion is the saved mapping a preview suggests for its file: the one of the request's
// kind whose columns share the most with the file's header.
type Suggestion struct {
	Name string `json:"name"`
	// MatchedColumns is how many of the file's columns the saved mapping's columns name, as
	// auto-mapping folds headers (crm.NormalizeHeader).
	MatchedColumns int `json:"matched_columns"`
	// Columns are the columns of the file the mapping was saved from.
	Columns []string `json:"columns"`
}

// suggest returns the saved mapping of kind k in the account whose columns share the most with
// header (at least one), the most recently updated among equals; nil when none shares any.
func suggest(ctx context.Context, q store.Querier, acct store.Account, k kind.Kind, header []string) (*Suggestion, error) {
	list, err := store.SavedMappings(ctx, q, acct.ID, k.Name())
	if err != nil {
		return nil, err
	}
	file := map[string]bool{}
	for _, h := range header {
		if n := crm.NormalizeHeader(h); n != "" {
			file[n] = true
		}
	}
	var best *Suggestion
	var bestAt store.SavedMapping
	for _, m := range list {
		shared := map[string]bool{}
		for _, c := range m.Columns {
			if n := crm.NormalizeHeader(c); file[n] {
				shared[n] = true
			}
		}
		n := len(shared)
		if n == 0 {
			continue
		}
		if best == nil || n > best.MatchedColumns || (n == best.MatchedColumns && m.UpdatedAt.After(bestAt.UpdatedAt)) {
			best, bestAt = &Suggestion{Name: m.Name, MatchedColumns: n, Columns: m.Columns}, m
		}
	}
	return best, nil
}
