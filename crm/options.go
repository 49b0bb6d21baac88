package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Policy says how an imported value meets an existing record's value (SPEC §5).
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
	// SavedMapping names a saved mapping of the import's kind in its account, whose options the
	// importer puts under these (see Over); an import records the options so resolved, still
	// naming it.
	SavedMapping string `json:"saved_mapping,omitempty"`
	// Kinds holds, for a workbook (a file of several kinds' sheets), the options of each kind's
	// sheet by kind name, over the options above (see ForKind). Other imports may not have it.
	Kinds map[string]Options `json:"kinds,omitempty"`
}

// ForKind returns the options of a workbook's sheet of the kind named kind: the workbook's
// options, each member of o.Kinds[kind] replacing the member of that name, without Kinds.
func (o Options) ForKind(kind string) (Options, error) {
	own, ok := o.Kinds[kind]
	o.Kinds = nil
	if !ok {
		return o, nil
	}
	return overMembers(o, own)
}

// Over returns base with each member o sets replacing base's, except the mapping, which is
// merged column by column, o's entry for a column winning. A member o leaves at its default
// (absent, false, empty) keeps base's.
func (o Options) Over(base Options) (Options, error) {
	out, err := overMembers(base, o)
	if err != nil {
		return Options{}, err
	}
	if len(base.Mapping) > 0 && len(o.Mapping) > 0 {
		out.Mapping = make(map[string]string, len(base.Mapping)+len(o.Mapping))
		maps.Copy(out.Mapping, base.Mapping)
		maps.Copy(out.Mapping, o.Mapping)
	}
	return out, nil
}

// overMembers returns the options whose JSON members are those of each part in turn, a later
// part's member replacing an earlier one's.
func overMembers(parts ...Options) (Options, error) {
	merged := map[string]json.RawMessage{}
	for _, part := range parts {
		b, err := json.Marshal(part)
		if err != nil {
			return Options{}, err
		}
		if err := json.Unmarshal(b, &merged); err != nil {
			return Options{}, err
		}
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return Options{}, err
	}
	var out Options
	if err := json.Unmarshal(b, &out); err != nil {
		return Options{}, err
	}
	return out, nil
}

// ErrInvalidOptions wraps every problem found in import options.
var ErrInvalidOptions = errors.New("invalid import options")

// Caps on import options, the same for every source (API, watched directories, Kafka requests,
// the command line): every import writes a membership row per data row for its list, each of
// its tags and its campaign, so the number of tags bounds what one file can write.
const (
	// MaxOptionsBytes bounds an options document (JSON).
	MaxOptionsBytes = 64 << 10
	// MaxTags bounds the tags of one import: a row joins at most 1 list + 20 tags + 1 campaign.
	MaxTags = 20
	// MaxNameChars bounds a list, tag, campaign, lead source, owner or sheet name.
	MaxNameChars = 200
)

// ParseOptions decodes an options document strictly (DecodeOptions) and checks it against the
// caps (CheckLimits); empty input gives the default options.
func ParseOptions(b []byte) (Options, error) {
	if len(b) > MaxOptionsBytes {
		return Options{}, fmt.Errorf("%w: the options are %d bytes, more than the limit of %d KiB", ErrInvalidOptions, len(b), MaxOptionsBytes>>10)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return Options{}, nil
	}
	o, err := DecodeOptions(bytes.NewReader(b))
	if err != nil {
		return Options{}, err
	}
	if err := o.CheckLimits(); err != nil {
		return Options{}, err
	}
	return o, nil
}

// StoredOptions decodes the options of an import as leadpipe stored them, checked against the
// caps (CheckLimits) but not against MaxOptionsBytes: that cap is on the document a client
// sent, and its stored form is longer (jsonb writes a space after every colon and comma), so a
// document accepted at the door would otherwise fail when its import runs.
func StoredOptions(b []byte) (Options, error) {
	o, err := DecodeOptions(bytes.NewReader(b))
	if err != nil {
		return Options{}, err
	}
	if err := o.CheckLimits(); err != nil {
		return Options{}, err
	}
	return o, nil
}

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

// AllowCreate reports whether rows may create records.
func (o Options) AllowCreate() bool { return o.CreateNew == nil || *o.CreateNew }

// AllowUpdate reports whether rows may update existing records.
func (o Options) AllowUpdate() bool { return o.UpdateExisting == nil || *o.UpdateExisting }

// PolicyFor returns the policy of a field key (overwrite unless set).
func (o Options) PolicyFor(key string) Policy {
	if p, ok := o.FieldPolicies[key]; ok {
		return p
	}
	return Overwrite
}

// CheckLimits checks what needs no account: the caps above, and that every string is valid
// UTF-8 without NUL (Postgres stores neither) and every name without control characters. It
// returns every problem found, each naming the option, joined into one error wrapping
// ErrInvalidOptions.
func (o Options) CheckLimits() error {
	return joinProblems(o.limitProblems())
}

// optionValue is a string of the options and the option that holds it.
type optionValue struct{ option, value string }

func (o Options) limitProblems() []string {
	var problems []string
	if len(o.Tags) > MaxTags {
		problems = append(problems, fmt.Sprintf("tags: %d tags, more than the limit of %d", len(o.Tags), MaxTags))
	}
	names := []optionValue{
		{"list", o.List}, {"owner", o.Owner}, {"campaign", o.Campaign}, {"lead_source", o.LeadSource}, {"sheet", o.Sheet},
		{"saved_mapping", o.SavedMapping},
	}
	for _, t := range o.Tags {
		names = append(names, optionValue{"tags", t})
	}
	for _, n := range names {
		if p := NameProblem(n.value); p != "" {
			problems = append(problems, fmt.Sprintf("%s: %q %s", n.option, shorten(n.value), p))
		}
	}
	texts := []optionValue{{"unique_identifier", o.UniqueIdentifier}}
	for header, key := range o.Mapping {
		texts = append(texts, optionValue{"mapping", header}, optionValue{"mapping", key})
	}
	for key, p := range o.FieldPolicies {
		texts = append(texts, optionValue{"field_policies", key}, optionValue{"field_policies", string(p)})
	}
	for _, t := range texts {
		if p := TextProblem(t.value); p != "" {
			problems = append(problems, fmt.Sprintf("%s: %q %s", t.option, shorten(t.value), p))
		}
	}
	for kind, ko := range o.Kinds {
		if p := NameProblem(kind); p != "" {
			problems = append(problems, fmt.Sprintf("kinds: %q %s", shorten(kind), p))
		}
		for _, p := range ko.limitProblems() {
			problems = append(problems, fmt.Sprintf("kinds: %s: %s", kind, p))
		}
	}
	return problems
}

// TextProblem says what is wrong with a string Postgres must store, or "".
func TextProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.ContainsRune(s, 0):
		return "contains a NUL character"
	}
	return ""
}

// NameProblem says what is wrong with a list, tag, campaign, lead source, owner, sheet or saved
// mapping name, or "".
func NameProblem(s string) string {
	if p := TextProblem(s); p != "" {
		return p
	}
	if n := utf8.RuneCountInString(s); n > MaxNameChars {
		return fmt.Sprintf("is %d characters long, more than the limit of %d", n, MaxNameChars)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "contains a control character"
	}
	return ""
}

// shorten keeps the first 40 characters of a value an error message shows.
func shorten(s string) string {
	n := 0
	for i := range s {
		if n == 40 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// maxProblems bounds the problems one error lists.
const maxProblems = 10

// joinProblems joins problems into one error wrapping ErrInvalidOptions; none gives nil.
func joinProblems(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	if n := len(problems); n > maxProblems {
		problems = append(problems[:maxProblems:maxProblems], fmt.Sprintf("and %d more", n-maxProblems))
	}
	return fmt.Errorf("%w: %s", ErrInvalidOptions, strings.Join(problems, "; "))
}

// Check validates the options against the caps (CheckLimits) and an account's catalog of the
// import's kind, and returns every problem found, each naming the option, with the problems the
// kind found (more), joined into one error wrapping ErrInvalidOptions.
func (o Options) Check(c *Catalog, more ...string) error {
	problems := append(o.limitProblems(), more...)
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
			problems = append(problems, fmt.Sprintf("unique_identifier: field %q cannot identify %s", k, WithArticle(c.Noun)))
		}
	}
	for _, t := range o.Tags {
		if strings.TrimSpace(t) == "" {
			problems = append(problems, "tags: a tag name is empty")
		}
	}
	if len(o.Kinds) > 0 {
		problems = append(problems, "kinds: options by kind apply to a workbook only (kind workbook)")
	}
	return joinProblems(problems)
}

// withArticle puts "a" or "an" before a noun: "a prospect", "an organization".
func WithArticle(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// CanIdentify reports whether a field may serve as the unique identifier: any single-valued
// field that holds the record's own data (not email, which always matches first, nor links).
func CanIdentify(f Field) bool {
	switch f.Type {
	case Email, User, Organization, MultiPicklist:
		return false
	}
	return f.Key != FieldFullName
}

// fieldKey keeps keys short enough to name a lookup index after (63 bytes at most).
var fieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// CheckCustomField validates the definition of a new custom field of a kind with the standard
// fields standard.
func CheckCustomField(f Field, standard []Field) error {
	if !fieldKey.MatchString(f.Key) {
		return fmt.Errorf("field key %q: use lowercase letters, digits and '_', starting with a letter", f.Key)
	}
	for _, s := range standard {
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
