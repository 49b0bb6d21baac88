package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/leadpipe/leadpipe/store"
)

// ProspectList is a page of prospects.
type ProspectList struct {
	Prospects []store.ProspectRecord `json:"prospects"`
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string `json:"next_cursor,omitempty"`
}

// Prospects returns a page of the account's prospects filtered by import (SPEC §11). An
// import id that is not the account's is not found.
func Prospects(ctx context.Context, q store.Querier, acct store.Account, f store.ProspectFilter) (ProspectList, error) {
	if f.ImportID != 0 {
		if _, err := store.GetImport(ctx, q, acct.ID, f.ImportID); err != nil {
			return ProspectList{}, err
		}
	}
	list, err := store.ListProspects(ctx, q, acct.ID, f)
	if err != nil {
		return ProspectList{}, err
	}
	out := ProspectList{Prospects: list}
	if out.Prospects == nil {
		out.Prospects = []store.ProspectRecord{}
	}
	if len(list) == f.Limit && f.Limit > 0 {
		out.NextCursor = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return out, nil
}

func (s *Server) listProspects(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	p := &params{r: r}
	f := store.ProspectFilter{
		ImportID:   p.int("import_id", 0, 1, 0),
		ImportFile: r.URL.Query().Get("import_file"),
		From:       p.time("imported_from"),
		To:         p.time("imported_to"),
		After:      p.int("cursor", 0, 0, 0),
		Limit:      int(p.int("limit", DefaultLimit, 1, MaxLimit)),
	}
	if err := p.err(); err != nil {
		return err
	}
	list, err := Prospects(r.Context(), s.Pool, acct, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}
