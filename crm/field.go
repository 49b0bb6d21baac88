// Package crm holds the prospect data model the import rules speak of: field definitions with
// their types and aliases, the standard field set, and the value rules of SPEC §4 and §7.
package crm

import (
	"strings"
	"unicode"
)

// FieldType is the type of a prospect field; it decides which value rule applies.
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

// Field describes one prospect field. Standard fields are columns of the prospects table;
// custom fields live in its custom JSON object under their key.
type Field struct {
	Key       string
	Label     string
	Type      FieldType
	MaxLength int      // in characters; 0 = no limit
	Options   []string // allowed values of a picklist or multi-picklist, canonical spelling
	Aliases   []string // extra header spellings that auto-map to the field
	Custom    bool
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

// StandardFields returns the standard field set, in the order of the prospects table's columns.
func StandardFields() []Field {
	return []Field{
		{Key: "email", Label: "Email", Type: Email, MaxLength: 254, Aliases: []string{"E-mail", "E-mail Address", "Email Address", "Mail", "Business Email", "Work Email"}},
		{Key: "first_name", Label: "First Name", Type: Text, MaxLength: 100, Aliases: []string{"First", "Firstname", "Given Name", "Forename"}},
		{Key: "last_name", Label: "Last Name", Type: Text, MaxLength: 100, Aliases: []string{"Last", "Lastname", "Surname", "Family Name"}},
		{Key: "title", Label: "Title", Type: Text, MaxLength: 128, Aliases: []string{"Job Title", "Position", "Role"}},
		{Key: "phone", Label: "Phone", Type: Phone, MaxLength: 40, Aliases: []string{"Phone Number", "Telephone", "Tel", "Work Phone", "Business Phone"}},
		{Key: "mobile", Label: "Mobile", Type: Phone, MaxLength: 40, Aliases: []string{"Mobile Phone", "Mobile Number", "Cell", "Cell Phone"}},
		{Key: "website", Label: "Website", Type: Text, MaxLength: 255, Aliases: []string{"Web Site", "URL", "Web", "Company Website"}},
		{Key: "street", Label: "Street", Type: Text, MaxLength: 255, Aliases: []string{"Address", "Street Address", "Address 1", "Address Line 1"}},
		{Key: "city", Label: "City", Type: Text, MaxLength: 100, Aliases: []string{"Town"}},
		{Key: "state", Label: "State", Type: Text, MaxLength: 100, Aliases: []string{"Province", "Region", "State/Province"}},
		{Key: "postal_code", Label: "Postal Code", Type: Text, MaxLength: 20, Aliases: []string{"Zip", "Zip Code", "Postcode", "Post Code", "ZIP/Postal Code"}},
		{Key: "country", Label: "Country", Type: Text, MaxLength: 100},
		{Key: "lead_source", Label: "Lead Source", Type: Text, MaxLength: 100, Aliases: []string{"Source"}},
		{Key: "lead_owner", Label: "Lead Owner", Type: User, Aliases: []string{"Owner", "Prospect Owner", "Assigned To"}},
		{Key: "email_opt_in", Label: "Email Opt In", Type: Boolean, Aliases: []string{"Opt In", "Email Opt-In", "Opted In", "Subscribed"}},
		{Key: "organization", Label: "Organization", Type: Organization, MaxLength: 255, Aliases: []string{"Company", "Company Name", "Organisation", "Organization Name", "Account", "Account Name", "Employer"}},
		{Key: "full_name", Label: "Full Name", Type: Text, MaxLength: 201, Aliases: []string{"Name", "Contact Name", "Contact"}},
	}
}

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

// Catalog is the set of fields of one account: the standard fields followed by its custom
// fields. A field's position in Fields is its index in a row's values.
type Catalog struct {
	Fields  []Field
	byKey   map[string]int
	byName  map[string]int // normalised key and label → index
	byAlias map[string]int // normalised alias → index
}

// NewCatalog builds the catalog of an account from its custom fields.
func NewCatalog(custom []Field) *Catalog { return NewCatalogOf(StandardFields(), custom) }

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

// HasCustom reports whether the account has custom fields.
func (c *Catalog) HasCustom() bool { return c.Fields[len(c.Fields)-1].Custom }

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
