// Package api is leadpipe's HTTP API (/v1, described in api/openapi.yaml): previews, imports
// and their history, original files, skipped-row reports, prospects by import (SPEC §11) and the
// account's deal stages.
// Every request carries a bearer token that belongs to one account; nothing of another account
// is visible through it — another account's ids answer 404, as ids that do not exist do.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"strings"

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
	}
	maps.Copy(routes, map[string]func(http.ResponseWriter, *http.Request, store.Account) error{ // saved mappings (mappings.go)
		"GET /v1/mappings":                  s.listMappings,
		"PUT /v1/mappings/{kind}/{name}":    s.putMapping,
		"DELETE /v1/mappings/{kind}/{name}": s.deleteMapping,
	})
	for pattern, h := range routes {
		mux.Handle(pattern, s.authed(h))
	}
}

// authed resolves the request's bearer token to its account and runs h, turning h's error
// into a JSON error response.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, store.Account) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="leadpipe"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token", "send Authorization: Bearer <token> (leadpipe token create --account NAME)")
			return
		}
		acct, err := store.AccountByToken(r.Context(), s.Pool, strings.TrimSpace(token))
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="leadpipe", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid bearer token", nil)
			return
		}
		if err != nil {
			s.fail(w, r, err)
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errchkjson // the status is sent; a write error has no one to tell
}
