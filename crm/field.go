// Package crm holds the data model the import rules speak of, for every kind of record: field
// definitions with their types and aliases, an account's catalog of fields for one kind, import
// options, and the value rules of SPEC §4 and §7. Which fields a kind has is the kind's own
// business (package kinds/…); the standard field keys the rules name are here.
package crm

import (
	"strings"
	"unicode"
)

// FieldType is the type of a field; it decides which value rule applies.
type FieldType string

// The field types of SPEC §1.
const (
	Text          FieldType = "text"
	Email         FieldType = "email"
	Phone         FieldType = "phone"
	Number        FieldType = "number"
	Date          FieldType = "date"
	Boolean       FieldType = "boolean"
	Picklist      FieldType = "picklist"
	MultiPicklist FieldType = "multipicklist"
	// User is the type of lead_owner: a value that resolves to a user of the account.
	User FieldType = "user"
	// Organization is the type of the organization field: a value that links to an organization.
	Organization FieldType = "organization"
)

// ValidFieldType reports whether t may be given to a custom field.
func ValidFieldType(t FieldType) bool {
	switch t {
	case Text, Email, Phone, Number, Date, Boolean, Picklist, MultiPicklist:
		return true
	}
	return false
}

// Field describes one field of a kind of record. Standard fields are columns of the kind's
// table; custom fields live in its custom JSON object under their key.
type Field struct {
	Key       string
	Label     string
	Type      FieldType
	MaxLength int      // in characters; 0 = no limit
	Options   []string // allowed values of a picklist or multi-picklist, canonical spelling
	Aliases   []string // extra header spellings that auto-map to the field
	Custom    bool
	// Example is a value an import template shows for the field; "" for one by its type.
	Example string
}

// Standard field keys used by the import rules.
const (
	FieldEmail        = "email"
	FieldFirstName    = "first_name"
	FieldLastName     = "last_name"
	FieldLeadSource   = "lead_source"
	FieldLeadOwner    = "lead_owner"
	FieldOrganization = "organization"
	FieldWebsite      = "website"
	// FieldFullName is not stored: with the split_full_name option its value fills first and
	// last name.
	FieldFullName = "full_name"
)

// NormalizeHeader folds a header or field name for auto-mapping: case, spaces, '_', '-' and
// punctuation are ignored, so "E-mail Address", "email_address" and "EMAIL ADDRESS" are equal.
func NormalizeHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Catalog is the set of fields of one kind of record in one account: the kind's standard fields
// followed by the account's custom fields of that kind. A field's position in Fields is its
// index in a row's values.
type Catalog struct {
	// Noun names one record of the kind, for messages: "prospect", "organization".
	Noun    string
	Fields  []Field
	byKey   map[string]int
	byName  map[string]int // normalised key and label → index
	byAlias map[string]int // normalised alias → index
}

// NewCatalog builds the catalog of a kind whose records noun names, from the kind's standard
// fields and an account's custom fields of the kind.
func NewCatalog(noun string, standard, custom []Field) *Catalog {
	c := &Catalog{Noun: noun, byKey: map[string]int{}, byName: map[string]int{}, byAlias: map[string]int{}}
	for _, f := range standard {
		c.add(f)
	}
	for _, f := range custom {
		f.Custom = true
		c.add(f)
	}
	return c
}

func (c *Catalog) add(f Field) {
	i := len(c.Fields)
	c.Fields = append(c.Fields, f)
	c.byKey[f.Key] = i
	// Earlier fields win over later ones; AutoMap lets any key or label win over any alias.
	for _, name := range []string{f.Key, f.Label} {
		claim(c.byName, NormalizeHeader(name), i)
	}
	for _, a := range f.Aliases {
		claim(c.byAlias, NormalizeHeader(a), i)
	}
}

func claim(m map[string]int, name string, i int) {
	if _, taken := m[name]; name != "" && !taken {
		m[name] = i
	}
}

// HasCustom reports whether the account has custom fields of the kind.
func (c *Catalog) HasCustom() bool { return len(c.Fields) > 0 && c.Fields[len(c.Fields)-1].Custom }

// Index returns the index of the field with key, or -1.
func (c *Catalog) Index(key string) int {
	if i, ok := c.byKey[key]; ok {
		return i
	}
	return -1
}

// MustIndex returns the index of a standard field; it panics for an unknown key, which is a
// programming error.
func (c *Catalog) MustIndex(key string) int {
	i := c.Index(key)
	if i < 0 {
		panic("crm: no field " + key)
	}
	return i
}

// AutoMap returns the index of the field a header auto-maps to, or -1.
func (c *Catalog) AutoMap(header string) int {
	n := NormalizeHeader(header)
	if i, ok := c.byName[n]; ok {
		return i
	}
	if i, ok := c.byAlias[n]; ok {
		return i
	}
	return -1
}
