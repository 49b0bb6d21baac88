package requests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/leadpipe/leadpipe/crm"
)

// Version is the request message format this package reads.
const Version = 1

// maxRequestID bounds a request_id, which becomes part of a Postgres key.
const maxRequestID = 200

// Message is an import request as producers write it on the requests topic (docs/requests.md).
type Message struct {
	// Version is the format's version: 1.
	Version int `json:"version"`
	// Account is the name of the account to import into.
	Account string `json:"account"`
	// File is a path under file_root (relative to it, or absolute), or an http(s) URL whose
	// host is on url_allow_list.
	File string `json:"file"`
	// FileName is the name the import shows; the last element of File when empty.
	FileName string `json:"file_name,omitempty"`
	// RequestID, when set, makes the request idempotent: a later message of the account with
	// the same request_id queues nothing.
	RequestID string `json:"request_id,omitempty"`
	// Kind is the kind of record the file holds (importer.Kinds); the default kind, prospects,
	// when empty.
	Kind string `json:"kind,omitempty"`
	// Options are the import options, as in the CLI's options file.
	Options json.RawMessage `json:"options,omitempty"`
}

// Rejection is why a request message cannot be queued: the message's fault, so it goes to the
// dead-letter topic instead of being retried.
type Rejection struct {
	// Reason is a short code (one of the Reason constants) for programs.
	Reason string
	// Detail says what is wrong and how to fix it, for people.
	Detail string
}

func (r *Rejection) Error() string { return r.Reason + ": " + r.Detail }

// The reasons a request is dead-lettered.
const (
	ReasonBadMessage     = "bad_message"         // not JSON, an unknown or missing field
	ReasonBadVersion     = "unsupported_version" // a version other than 1
	ReasonUnknownAccount = "unknown_account"     // no account of that name
	ReasonUnknownKind    = "unknown_kind"        // "kind" names no kind of record leadpipe imports
	ReasonForbiddenFile  = "forbidden_file"      // outside file_root, not a regular file, a URL not allowed
	ReasonMissingFile    = "missing_file"        // no such file under file_root
	ReasonUnreadableFile = "unreadable_file"     // the file exists but cannot be read
	ReasonFetchFailed    = "fetch_failed"        // the URL answered an error, or did not answer in time
	ReasonTooLarge       = "too_large"           // the URL's body is larger than max_fetch_bytes
	ReasonBadOptions     = "bad_options"         // options that do not decode or do not fit the account
	ReasonBadFile        = "bad_file"            // a file that cannot be imported (importer.Check)
	ReasonRefused        = "refused_by_postgres" // Postgres refused a value of the request (refusedByPostgres)
	ReasonFailed         = "retries_exhausted"   // an unexpected error, kafka_request_max_attempts times
)

// reject returns a Rejection with a formatted detail.
func reject(reason, format string, args ...any) error {
	return &Rejection{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// decode reads a request message strictly: unknown fields, trailing data, a missing account or
// file, a kind that is none of the kinds and options that do not decode are rejected, and so is any version but 1 — checked
// first, so that a newer producer is told about the version rather than about a field.
func decode(value []byte) (Message, crm.Options, error) {
	if !utf8.Valid(value) {
		return Message{}, crm.Options{}, reject(ReasonBadMessage, "the message is not valid UTF-8 (a bad byte at offset %d); send UTF-8",
			invalidUTF8At(value))
	}
	var v struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(value, &v); err != nil {
		return Message{}, crm.Options{}, reject(ReasonBadMessage, "the message is not a JSON object: %v", err)
	}
	var version int
	switch {
	case v.Version == nil:
		return Message{}, crm.Options{}, reject(ReasonBadMessage, `the message has no "version"; set "version": %d`, Version)
	case json.Unmarshal(v.Version, &version) != nil:
		return Message{}, crm.Options{}, reject(ReasonBadMessage, `"version" is %s; set "version": %d`, v.Version, Version)
	case version != Version:
		return Message{}, crm.Options{}, reject(ReasonBadVersion, "version %d is not supported; this leadpipe reads version %d", version, Version)
	}
	var m Message
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Message{}, crm.Options{}, reject(ReasonBadMessage, "%v (the fields are version, account, file, file_name, request_id, kind and options)", err)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return Message{}, crm.Options{}, reject(ReasonBadMessage, "more than one JSON value in the message; send one object")
	}
	var tree any
	json.Unmarshal(value, &tree) // it decoded above
	if where := nulAt(tree, ""); where != "" {
		return Message{}, crm.Options{}, reject(ReasonBadMessage, `%q holds a NUL character (\u0000), which cannot be stored; remove it`, where)
	}
	var missing []string
	if strings.TrimSpace(m.Account) == "" {
		missing = append(missing, `"account"`)
	}
	if strings.TrimSpace(m.File) == "" {
		missing = append(missing, `"file"`)
	}
	if len(missing) > 0 {
		return Message{}, crm.Options{}, reject(ReasonBadMessage, "%s missing or empty", strings.Join(missing, " and "))
	}
	if len(m.RequestID) > maxRequestID {
		return Message{}, crm.Options{}, reject(ReasonBadMessage, "request_id is %d bytes, at most %d are allowed", len(m.RequestID), maxRequestID)
	}
	opts, err := crm.ParseOptions(m.Options)
	if err != nil {
		return Message{}, crm.Options{}, reject(ReasonBadOptions, "%v", err)
	}
	return m, opts, nil
}

// invalidUTF8At returns the offset of the first byte of b that is not valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// nulAt returns where in a decoded JSON value (at path) a key or string holds a NUL character,
// as a path like options.tags[1]; "" when none does. Postgres stores no NUL in text or jsonb.
func nulAt(v any, path string) string {
	switch v := v.(type) {
	case string:
		if strings.ContainsRune(v, 0) {
			return path
		}
	case []any:
		for i, e := range v {
			if where := nulAt(e, path+"["+strconv.Itoa(i)+"]"); where != "" {
				return where
			}
		}
	case map[string]any:
		for k, e := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.ContainsRune(k, 0) {
				return p
			}
			if where := nulAt(e, p); where != "" {
				return where
			}
		}
	}
	return ""
}
