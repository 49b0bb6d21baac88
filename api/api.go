// Package api is leadpipe's HTTP API (/v1, described in api/openapi.yaml): previews, imports
// and their history, original files, skipped-row reports, prospects by import (SPEC §11), the
// account's deal stages, and what a client builds an import from: the kinds with their fields
// and options, the users, and a template file of each kind.
// Every request carries a bearer token that belongs to one account, or the cookie of a session
// signed in with one (the web page's; session.go); nothing of another account is visible
// through it — another account's ids answer 404, as ids that do not exist do.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// Server serves the API.
type Server struct {
	Pool     *pgxpool.Pool
	Importer *importer.Importer
	Files    *Files
	Log      *slog.Logger
	// SessionTTL is how long a session of the web page lasts (the session_ttl setting).
	SessionTTL time.Duration
}

// Register adds the API's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	routes := map[string]func(http.ResponseWriter, *http.Request, store.Account) error{
		"POST /v1/previews":                s.createPreview,
		"POST /v1/imports":                 s.createImport,
		"GET /v1/imports":                  s.listImports,
		"GET /v1/imports/{id}":             s.getImport,
		"GET /v1/imports/{id}/file":        s.getImportFile,
		"GET /v1/imports/{id}/skipped.csv": s.getSkipped,
		"GET /v1/imports/{id}/records":     s.getRecords,
		"POST /v1/imports/{id}/cancel":     s.cancelImport,
		"POST /v1/imports/{id}/undo":       s.undoImport,
		"GET /v1/prospects":                s.listProspects,
		"GET /v1/deal-stages":              s.getDealStages,
		"PUT /v1/deal-stages":              s.putDealStages,
		"GET /v1/kinds":                    s.listKinds,
		"GET /v1/users":                    s.listUsers,
		"GET /v1/templates/{file}":         s.getTemplate,
	}
	maps.Copy(routes, map[string]func(http.ResponseWriter, *http.Request, store.Account) error{ // saved mappings (mappings.go)
		"GET /v1/mappings":                  s.listMappings,
		"PUT /v1/mappings/{kind}/{name}":    s.putMapping,
		"DELETE /v1/mappings/{kind}/{name}": s.deleteMapping,
	})
	for pattern, h := range routes {
		mux.Handle(pattern, s.authed(h))
	}
	mux.HandleFunc("POST /v1/session", s.createSession)
	mux.Handle("GET /v1/session", s.withSession(s.getSession))
	mux.Handle("DELETE /v1/session", s.withSession(s.deleteSession))
	// Any other /v1 path is an API route that does not exist, answered as the API answers
	// errors (the page's handler, at "GET /", would answer it in plain text).
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		mux.HandleFunc(method+" /v1/", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "not found", fmt.Sprintf("no API route %s %s; the routes are in api/openapi.yaml", r.Method, r.URL.Path))
		})
	}
}

// authed resolves the request's account and runs h, turning h's error into a JSON error
// response. The account is the bearer token's; a request without an Authorization header may
// instead carry a session cookie, checked as Server.session checks it.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, store.Account) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var acct store.Account
		ok := false
		if _, bearer := r.Header["Authorization"]; !bearer && hasCookie(r, sessionCookie) {
			var sess store.Session
			sess, _, ok = s.session(w, r)
			acct = sess.Account
		} else {
			acct, ok = s.bearer(w, r)
		}
		if !ok {
			return
		}
		if err := checkQueryText(r); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := h(w, r, acct); err != nil {
			s.fail(w, r, err)
		}
	})
}

// bearer returns the account of the request's bearer token; without one it answers 401 and
// ok is false.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) (acct store.Account, ok bool) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="leadpipe"`)
		writeError(w, http.StatusUnauthorized, "missing bearer token", "send Authorization: Bearer <token> (leadpipe token create --account NAME)")
		return store.Account{}, false
	}
	acct, err := store.AccountByToken(r.Context(), s.Pool, strings.TrimSpace(token))
	if errors.Is(err, store.ErrNotFound) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="leadpipe", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "invalid bearer token", nil)
		return store.Account{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return store.Account{}, false
	}
	return acct, true
}

func hasCookie(r *http.Request, name string) bool {
	_, err := r.Cookie(name)
	return err == nil
}

// httpError is an error with the status and detail a client gets.
type httpError struct {
	status int
	msg    string
	detail any
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string, detail any) error {
	return &httpError{status: http.StatusBadRequest, msg: msg, detail: detail}
}

// fail answers an error: its status from what went wrong; server faults are logged and their
// details kept from the client.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var tooBig *http.MaxBytesError
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads an answer.
	case errors.As(err, &pathErr):
		// The server's own files (a full files_dir, an unreadable spooled upload): the client
		// is told nothing of them, least of all their paths.
		s.internalError(w, r, err)
	case errors.As(err, &he):
		writeError(w, he.status, he.msg, he.detail)
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "upload too large",
			map[string]int64{"max_upload_bytes": tooBig.Limit})
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found", nil)
	case errors.Is(err, store.ErrFinished):
		writeError(w, http.StatusConflict, "the import has already ended", nil)
	case errors.Is(err, store.ErrNotUndoable):
		writeError(w, http.StatusConflict, "the import cannot be undone now", err.Error())
	case errors.Is(err, importer.ErrBadFile):
		writeError(w, http.StatusUnprocessableEntity, "the file cannot be imported", err.Error())
	case errors.Is(err, crm.ErrInvalidOptions):
		writeError(w, http.StatusBadRequest, "invalid import options", err.Error())
	default:
		s.internalError(w, r, err)
	}
}

// internalError logs a server fault and answers 500 without its details.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.Log.Error("api", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, "internal error", nil)
}

// writeError writes the JSON error body every failed request gets.
func writeError(w http.ResponseWriter, status int, msg string, detail any) {
	writeJSON(w, status, map[string]any{"error": msg, "detail": detail})
}

// readJSON decodes a request body of at most limit bytes holding one JSON value of v's shape
// (no unknown members) into v; what is wrong with it is a 400 error msg whose detail shows
// shape.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any, msg, shape string) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return badRequest(msg, fmt.Sprintf("the body is over %d KiB", tooBig.Limit>>10))
	case errors.Is(err, io.EOF):
		return badRequest(msg, "send "+shape)
	case err != nil:
		return badRequest(msg, fmt.Sprintf("the body is not %s: %v", shape, err))
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errchkjson // the status is sent; a write error has no one to tell
}
