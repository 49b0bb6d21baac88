package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Counts in JSON: each counter is a member of the counts' own object, after their other
// fields, so that clients read a prospects import's "organizations_created" where they always
// have. A type that embeds Counts gets Counts' MarshalJSON and UnmarshalJSON promoted, which
// would encode the counts alone: it defines its own, that call MarshalWithCounts and
// UnmarshalWithCounts.

// MarshalJSON encodes the counts as one object, each counter a member of it.
func (c Counts) MarshalJSON() ([]byte, error) { return MarshalWithCounts(c) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (c *Counts) UnmarshalJSON(data []byte) error { return UnmarshalWithCounts(data, c) }

// MarshalWithCounts encodes v, a struct that embeds Counts (or Counts), as encoding/json encodes
// a struct, with the members of the embedded Counts and its counters (by name) in its place.
func MarshalWithCounts(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	write := func(name string, value any) error {
		b, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("json member %q: %w", name, err)
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(name) // a string always encodes
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(b)
		return nil
	}
	for _, m := range jsonMembers(reflect.ValueOf(v)) {
		if m.counters {
			counters := m.v.Interface().(map[string]int)
			names := make([]string, 0, len(counters))
			for name := range counters {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if err := write(name, counters[name]); err != nil {
					return nil, err
				}
			}
			continue
		}
		if m.omitEmpty && isEmptyJSON(m.v) {
			continue
		}
		if err := write(m.name, m.v.Interface()); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalWithCounts decodes into v, a pointer to a struct that embeds Counts (or to
// Counts), what MarshalWithCounts encodes: a member that names no field and holds an integer is
// a counter; other unknown members are ignored, as encoding/json ignores them.
func UnmarshalWithCounts(data []byte, v any) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return err
	}
	var counters reflect.Value
	for _, m := range jsonMembers(reflect.ValueOf(v).Elem()) {
		if m.counters {
			counters = m.v
			continue
		}
		if raw, ok := members[m.name]; ok {
			if err := json.Unmarshal(raw, m.v.Addr().Interface()); err != nil {
				return fmt.Errorf("json member %q: %w", m.name, err)
			}
			delete(members, m.name)
		}
	}
	found := map[string]int{}
	for name, raw := range members {
		var n int
		if json.Unmarshal(raw, &n) == nil {
			found[name] = n
		}
	}
	if len(found) > 0 {
		counters.Set(reflect.ValueOf(found))
	}
	return nil
}

// jsonMember is a member of a struct's JSON object: a field, or a Counts' counters.
type jsonMember struct {
	name      string
	omitEmpty bool
	counters  bool
	v         reflect.Value
}

var countsType = reflect.TypeFor[Counts]()

// jsonMembers lists the members of the JSON object of struct v in order, as encoding/json
// names them (the fields of embedded structs in their place), with a Counts' counters after
// its fields.
func jsonMembers(v reflect.Value) []jsonMember {
	var out []jsonMember
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonMembers(v.Field(i))...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonMember{name: name, omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty"), v: v.Field(i)})
	}
	if t == countsType {
		out = append(out, jsonMember{counters: true, v: v.FieldByName("Counters")})
	}
	return out
}

// isEmptyJSON is true of the values that encoding/json's omitempty leaves out.
func isEmptyJSON(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
