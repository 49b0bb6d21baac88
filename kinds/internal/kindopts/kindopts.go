// Package kindopts refuses the import options a kind does not take. Some options mean
// something for some kinds only (the prospects' list, tags, campaign, lead source and name
// rules; the owner of kinds with an owner field): a kind refuses the ones it does not take
// rather than ignore them, which would hide a mistake, each problem with the same wording.
package kindopts

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/leadpipe/leadpipe/crm"
)

// option is one of the options some kinds only take, and whether a set of options sets it.
type option struct {
	name string
	set  func(crm.Options) bool
}

// optional are the options some kinds only take, in the order their problems are reported.
var optional = []option{
	{"list", func(o crm.Options) bool { return o.List != "" }},
	{"tags", func(o crm.Options) bool { return len(o.Tags) > 0 }},
	{"campaign", func(o crm.Options) bool { return o.Campaign != "" }},
	{"lead_source", func(o crm.Options) bool { return o.LeadSource != "" }},
	{"owner", func(o crm.Options) bool { return o.Owner != "" }},
	{"match_by_name", func(o crm.Options) bool { return o.MatchByName }},
	{"split_full_name", func(o crm.Options) bool { return o.SplitFullName }},
}

// Optional lists the options some kinds only take, in the order their problems are reported.
func Optional() []string {
	names := make([]string, len(optional))
	for i, opt := range optional {
		names[i] = opt.name
	}
	return names
}

// Applying returns the JSON names of the import options that apply to a kind that takes, of
// the options some kinds only take, those in takes: every member of crm.Options but kinds (the
// options of a workbook's sheets by kind, which no import of one kind has) and the optional
// ones not taken, in crm.Options' order.
func Applying(takes ...string) []string {
	var names []string
	t := reflect.TypeFor[crm.Options]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		refused := slices.ContainsFunc(optional, func(o option) bool { return o.name == name }) && !slices.Contains(takes, name)
		if name != "kinds" && !refused {
			names = append(names, name)
		}
	}
	return names
}

// Refuse returns a problem for each option among list, tags, campaign, lead_source, owner,
// match_by_name and split_full_name that o sets and the kind named kindName does not take
// (takes names the ones it does), e.g. `list: does not apply to an import of kind "deals"`.
func Refuse(o crm.Options, kindName string, takes ...string) []string {
	var problems []string
	for _, opt := range optional {
		if opt.set(o) && !slices.Contains(takes, opt.name) {
			problems = append(problems, fmt.Sprintf("%s: does not apply to an import of kind %q", opt.name, kindName))
		}
	}
	return problems
}
