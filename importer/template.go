package importer

import (
	"context"
	"encoding/csv"
	"io"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/stages/mapping"
	"github.com/leadpipe/leadpipe/store"
)

// Template is a file to fill in for an import of a kind into an account: a header that maps
// every column with the default options, and one example row that imports.
type Template struct {
	// Kind is the kind's name.
	Kind string
	// Header names each field a column may feed, by label (by key when an earlier field claims
	// its label), standard fields then custom ones.
	Header []string
	// Example is a value for each column that the value rules take as it is.
	Example []string
}

// NewTemplate returns the template of the kind named name ("" is the default kind) in an
// account. A field no column feeds with the default options (the prospect link, full name)
// and a field whose label and key both auto-map to an earlier field are left out.
func NewTemplate(ctx context.Context, q store.Querier, acct store.Account, name string) (Template, error) {
	k, err := kinds.Lookup(ctx, q, acct.ID, name)
	if err != nil {
		return Template{}, err
	}
	c, err := kind.Catalog(ctx, q, k, acct.ID)
	if err != nil {
		return Template{}, err
	}
	users, err := store.Users(ctx, q, acct.ID)
	if err != nil {
		return Template{}, err
	}
	t := Template{Kind: k.Name()}
	for i, f := range c.Fields {
		if mapping.Unfed(f, crm.Options{}) != "" {
			continue
		}
		header := f.Label
		if c.AutoMap(header) != i {
			header = f.Key
		}
		if c.AutoMap(header) != i {
			continue
		}
		t.Header = append(t.Header, header)
		t.Example = append(t.Example, example(f, users))
	}
	return t, nil
}

// Examples of the values of a type, for the fields that give none of their own.
const (
	exampleEmail        = "jane.doe@example.com"
	examplePhone        = "+1 415 555 0100"
	exampleNumber       = "100"
	exampleDate         = "2026-01-31"
	exampleBoolean      = "yes"
	exampleOrganization = "Example Inc"
)

// example returns a value of field f that its value rule takes as it is: the field's own
// example, else one by its type (a picklist's first option, the account's oldest user), text
// cut to the field's length.
func example(f crm.Field, users []store.User) string {
	if f.Example != "" {
		return f.Example
	}
	switch f.Type {
	case crm.Email:
		return exampleEmail
	case crm.Phone:
		return examplePhone
	case crm.Number:
		return exampleNumber
	case crm.Date:
		return exampleDate
	case crm.Boolean:
		return exampleBoolean
	case crm.Picklist, crm.MultiPicklist:
		if len(f.Options) > 0 {
			return f.Options[0]
		}
	case crm.User:
		if len(users) > 0 {
			return users[0].Username
		}
	case crm.Organization:
		return exampleOrganization
	default:
		text := []rune("Example " + strings.ToLower(f.Label))
		if f.MaxLength > 0 && len(text) > f.MaxLength {
			text = text[:f.MaxLength]
		}
		return string(text)
	}
	return ""
}

// WriteCSV writes the template as a CSV file (UTF-8).
func (t Template) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll([][]string{t.Header, t.Example}); err != nil {
		return err
	}
	return cw.Error()
}

// WriteXLSX writes the template as an XLSX workbook of one sheet named for the kind (its first
// 31 characters, the most a sheet's name may have), every cell text, so that a workbook request
// (kind workbook) takes it too.
//
// It is written by hand (writeTextSheet), not with excelize: excelize's writer links in code
// that its reader does not need, and made the leadpipe binary 55 MB instead of 40 (its
// machine code 17.9 MB instead of 12.6), which every process of it — each daemon, each
// command, each child process parsing a sheet — maps, for five small XML parts.
func (t Template) WriteXLSX(w io.Writer) error {
	sheet := t.Kind
	if len(sheet) > maxSheetName {
		sheet = sheet[:maxSheetName]
	}
	return writeTextSheet(w, sheet, [][]string{t.Header, t.Example})
}
