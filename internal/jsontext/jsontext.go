// Package jsontext appends JSON values to a byte slice by hand, byte for byte as encoding/json
// writes them, for the encoders on an import's hot path: encoding/json's reflection and its
// allocation per value cost more there than the rest of the work on a row.
package jsontext

import "encoding/json"

// AppendString appends s as a JSON string, escaped as encoding/json escapes it (HTML
// characters and invalid UTF-8 included).
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}
