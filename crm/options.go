package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Policy says how an imported value meets an existing prospect's value (SPEC §5).
type Policy string

// The field policies.
const (
	Overwrite     Policy = "overwrite"
	UpdateIfEmpty Policy = "update_if_empty"
	Ignore        Policy = "ignore"
	Merge         Policy = "merge"
)

// Options are the options of one import (SPEC §8), in the JSON form of an options file.
type Options struct {
	// Mapping maps a header (as written in the file) to a field key, overriding auto-mapping;
	// an empty key leaves the column unmapped.
	Mapping          map[string]string `json:"mapping,omitempty"`
	UniqueIdentifier string            `json:"unique_identifier,omitempty"`
	FieldPolicies    map[string]Policy `json:"field_policies,omitempty"`
	List             string            `json:"list,omitempty"`
	Tags             []string          `json:"tags,omitempty"`
	Owner            string            `json:"owner,omitempty"`
	Campaign         string            `json:"campaign,omitempty"`
	LeadSource       string            `json:"lead_source,omitempty"`
	MatchByName      bool              `json:"match_by_name,omitempty"`
	// CreateNew and UpdateExisting default to true.
	CreateNew      *bool  `json:"create_new,omitempty"`
	UpdateExisting *bool  `json:"update_existing,omitempty"`
	SplitFullName  bool   `json:"split_full_name,omitempty"`
	Sheet          string `json:"sheet,omitempty"`
}

// ErrInvalidOptions wraps every problem found in import options.
var ErrInvalidOptions = errors.New("invalid import options")

// DecodeOptions reads options JSON strictly: unknown keys and trailing data are errors.
func DecodeOptions(r io.Reader) (Options, error) {
	var o Options
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		if errors.Is(err, io.EOF) {
			return Options{}, nil
		}
		return Options{}, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
	}
	if dec.More() {
		return Options{}, fmt.Errorf("%w: more than one JSON value", ErrInvalidOptions)
	}
	return o, nil
}

// ParseOptions decodes options from bytes; empty input gives the default options.
func ParseOptions(b []byte) (Options, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return Options{}, nil
	}
	return DecodeOptions(bytes.NewReader(b))
}

// AllowCreate reports whether rows may create prospects.
func (o Options) AllowCreate() bool { return o.CreateNew == nil || *o.CreateNew }

// AllowUpdate reports whether rows may update existing prospects.
func (o Options) AllowUpdate() bool { return o.UpdateExisting == nil || *o.UpdateExisting }

// PolicyFor returns the policy of a field key (overwrite unless set).
func (o Options) PolicyFor(key string) Policy {
	if p, ok := o.FieldPolicies[key]; ok {
		return p
	}
	return Overwrite
}

// Check validates the options against an account's catalog and returns every problem found,
// each naming the option, joined into one error wrapping ErrInvalidOptions.
func (o Options) Check(c *Catalog) error {
	var problems []string
	for header, key := range o.Mapping {
		if key != "" && c.Index(key) < 0 {
			problems = append(problems, fmt.Sprintf("mapping: column %q maps to unknown field %q", header, key))
		}
	}
	for key, p := range o.FieldPolicies {
		i := c.Index(key)
		switch {
		case i < 0:
			problems = append(problems, fmt.Sprintf("field_policies: unknown field %q", key))
		case p != Overwrite && p != UpdateIfEmpty && p != Ignore && p != Merge:
			problems = append(problems, fmt.Sprintf("field_policies: %q: unknown policy %q (want overwrite, update_if_empty, ignore or merge)", key, p))
		case p == Merge && c.Fields[i].Type != MultiPicklist:
			problems = append(problems, fmt.Sprintf("field_policies: %q: merge applies only to multi-picklist fields", key))
		}
	}
	if k := o.UniqueIdentifier; k != "" {
		i := c.Index(k)
		if i < 0 {
			problems = append(problems, fmt.Sprintf("unique_identifier: unknown field %q", k))
		} else if !CanIdentify(c.Fields[i]) {
			problems = append(problems, fmt.Sprintf("unique_identifier: field %q cannot identify a prospect", k))
		}
	}
	for _, t := range o.Tags {
		if strings.TrimSpace(t) == "" {
			problems = append(problems, "tags: a tag name is empty")
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidOptions, strings.Join(problems, "; "))
}

// CanIdentify reports whether a field may serve as the unique identifier: any single-valued
// field that holds the prospect's own data (not email, which always matches first, nor links).
func CanIdentify(f Field) bool {
	switch f.Type {
	case Email, User, Organization, MultiPicklist:
		return false
	}
	return f.Key != FieldFullName
}

// fieldKey keeps keys short enough to name a lookup index after (63 bytes at most).
var fieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// CheckCustomField validates the definition of a new custom field.
func CheckCustomField(f Field) error {
	if !fieldKey.MatchString(f.Key) {
		return fmt.Errorf("field key %q: use lowercase letters, digits and '_', starting with a letter", f.Key)
	}
	for _, s := range StandardFields() {
		if s.Key == f.Key {
			return fmt.Errorf("field key %q is a standard field", f.Key)
		}
	}
	if strings.TrimSpace(f.Label) == "" {
		return fmt.Errorf("field %q: label is empty", f.Key)
	}
	if !ValidFieldType(f.Type) {
		return fmt.Errorf("field %q: unknown type %q (want text, email, phone, number, date, boolean, picklist or multipicklist)", f.Key, f.Type)
	}
	isPick := f.Type == Picklist || f.Type == MultiPicklist
	if isPick && len(f.Options) == 0 {
		return fmt.Errorf("field %q: a %s needs options", f.Key, f.Type)
	}
	if !isPick && len(f.Options) > 0 {
		return fmt.Errorf("field %q: only picklists take options", f.Key)
	}
	for _, opt := range f.Options {
		if strings.TrimSpace(opt) == "" || strings.Contains(opt, ";") {
			return fmt.Errorf("field %q: option %q is empty or contains ';'", f.Key, opt)
		}
	}
	if f.MaxLength < 0 {
		return fmt.Errorf("field %q: max length is negative", f.Key)
	}
	return nil
}
