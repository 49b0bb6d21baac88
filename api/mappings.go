package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// MappingList is an account's saved mappings, by name.
type MappingList struct {
	Mappings []store.SavedMapping `json:"mappings"`
}

// mappingBody is the body of PUT /v1/mappings/{kind}/{name}.
type mappingBody struct {
	Columns []string        `json:"columns"`
	Options json.RawMessage `json:"options"`
}

// maxMappingBody bounds the body of PUT /v1/mappings/{kind}/{name}: options of up to 64 KiB
// (crm.MaxOptionsBytes) and the columns of a wide file.
const maxMappingBody = 256 << 10

// Mappings returns the account's saved mappings of a kind ("": of every kind), by name, as
// GET /v1/mappings answers them; an unknown kind is an error wrapping importer.ErrUnknownKind.
func Mappings(ctx context.Context, q store.Querier, acct store.Account, kind string) (MappingList, error) {
	if kind != "" {
		k, err := importer.KindOf(ctx, q, acct.ID, kind)
		if err != nil {
			return MappingList{}, err
		}
		kind = k.Name()
	}
	list, err := store.SavedMappings(ctx, q, acct.ID, kind)
	return MappingList{Mappings: list}, err
}

// listMappings answers the account's saved mappings of ?kind (of every kind without it).
func (s *Server) listMappings(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	list, err := Mappings(r.Context(), s.Pool, acct, r.URL.Query().Get("kind"))
	if err != nil {
		return kindParam(err)
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// putMapping creates or replaces the account's saved mapping of the path's kind and name and
// answers it as stored; its options are checked as an import's (importer.SaveMapping).
func (s *Server) putMapping(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	var body mappingBody
	if err := readJSON(w, r, maxMappingBody, &body, "invalid saved mapping", `{"columns": ["…", …], "options": {…}}`); err != nil {
		return err
	}
	m, err := s.Importer.SaveMapping(r.Context(), importer.MappingToSave{Account: acct.Name, Kind: r.PathValue("kind"),
		Name: r.PathValue("name"), Columns: body.Columns, Options: body.Options})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// deleteMapping deletes the account's saved mapping of the path's kind and name: 204, or 404
// when the account has none such.
func (s *Server) deleteMapping(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	if err := store.DeleteSavedMapping(r.Context(), s.Pool, acct.ID, r.PathValue("kind"), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
