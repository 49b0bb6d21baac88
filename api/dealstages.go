package api

import (
	"errors"
	"net/http"

	"github.com/leadpipe/leadpipe/store"
)

// DealStages is an account's deal stages, in order: the options of a deals import's stage
// picklist.
type DealStages struct {
	Stages []string `json:"stages"`
}

// maxDealStagesBody bounds the body of PUT /v1/deal-stages.
const maxDealStagesBody = 64 << 10

func (s *Server) getDealStages(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	stages, err := store.DealStages(r.Context(), s.Pool, acct.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, DealStages{Stages: stages})
	return nil
}

// putDealStages replaces the account's deal stages by the body's and answers them as stored.
func (s *Server) putDealStages(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	var body DealStages
	if err := readJSON(w, r, maxDealStagesBody, &body, "invalid deal stages", `{"stages": ["…", …]}`); err != nil {
		return err
	}
	err := store.SetDealStages(r.Context(), s.Pool, acct.ID, body.Stages)
	if errors.Is(err, store.ErrInvalidDealStages) {
		return badRequest("invalid deal stages", err.Error())
	}
	if err != nil {
		return err
	}
	return s.getDealStages(w, r, acct)
}
