package crm

import (
	"fmt"
	"strings"
)

// The record kinds besides prospects (issue 11): organizations, deals and the records of an
// account's custom object types. Their standard fields are the columns of their tables; the
// organization fields are the organizations kind's (kinds/organizations), and the keys the
// import rules and the store name are here.

// Standard field keys of organizations and deals used by the import rules and the store (the
// deal fields themselves are the deals kind's, kinds/deals).
const (
	FieldName      = "name"
	FieldDomain    = "domain"
	FieldAmount    = "amount"
	FieldStage     = "stage"
	FieldCloseDate = "close_date"
	FieldOwner     = "owner"
	// FieldProspect is a deal's or an object record's link to a prospect: it holds the
	// prospect's id, which the writer resolves from FieldProspectEmail, else (deals) from
	// FieldProspectFirstName and FieldProspectLastName. Those three are not stored.
	FieldProspect          = "prospect"
	FieldProspectEmail     = "prospect_email"
	FieldProspectFirstName = "prospect_first_name"
	FieldProspectLastName  = "prospect_last_name"
)

// Prospect is the type of a link to a prospect (FieldProspect).
const Prospect FieldType = "prospect"

// DefaultDealStages are the deal stages of an account that has not set its own.
func DefaultDealStages() []string {
	return []string{"Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"}
}

// DealNameKey folds a deal name for matching within its organization: lowercase, trimmed,
// runs of whitespace read as one space. Unlike organization names, punctuation and suffixes
// count: "Renewal 2026" and "Renewal-2026" are two deals.
func DealNameKey(name string) string {
	return strings.Join(strings.Fields(strings.ToLower(name)), " ")
}

// BuiltinKinds are the kind names an object type's key may not take (workbook is the kind of a
// file whose sheets are several kinds).
var BuiltinKinds = []string{"prospects", "organizations", "deals", "workbook"}

// CheckObjectType checks the definition of a custom object type: a key like a field key that
// is no built-in kind, a label (which names its sheet in a workbook, so it is no built-in
// kind's name either), and the key of the field that identifies a record.
func CheckObjectType(key, label, identifier string) error {
	if !fieldKey.MatchString(key) {
		return fmt.Errorf("object key %q: use lowercase letters, digits and '_', starting with a letter, at most 40 characters", key)
	}
	for _, k := range BuiltinKinds {
		if key == k {
			return fmt.Errorf("object key %q is a built-in kind: choose another key", key)
		}
		if strings.EqualFold(strings.TrimSpace(label), k) {
			return fmt.Errorf("object %q: label %q is the name of a built-in kind: choose another label", key, label)
		}
	}
	if strings.TrimSpace(label) == "" {
		return fmt.Errorf("object %q: label is empty", key)
	}
	if !fieldKey.MatchString(identifier) {
		return fmt.Errorf("object %q: identifier %q is not a field key: use lowercase letters, digits and '_', starting with a letter", key, identifier)
	}
	if identifier == FieldProspect || identifier == FieldProspectEmail {
		return fmt.Errorf("object %q: identifier %q is the prospect link, not a field of the object", key, identifier)
	}
	return nil
}
