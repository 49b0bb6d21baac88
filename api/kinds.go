package api

import (
	"net/http"

	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/store"
)

// KindList is every kind the account may import, with its catalog and options (GET /v1/kinds).
type KindList struct {
	Kinds []importer.KindInfo `json:"kinds"`
}

// User is a user of the account, as the owner option and owner fields may name them.
type User struct {
	Username string `json:"username"`
	FullName string `json:"full_name"`
	Email    string `json:"email"`
}

// UserList is the account's users, oldest first (GET /v1/users).
type UserList struct {
	Users []User `json:"users"`
}

func (s *Server) listKinds(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	kinds, err := importer.Describe(r.Context(), s.Pool, acct)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, KindList{Kinds: kinds})
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	users, err := store.Users(r.Context(), s.Pool, acct.ID)
	if err != nil {
		return err
	}
	out := UserList{Users: make([]User, len(users))}
	for i, u := range users {
		out.Users[i] = User{Username: u.Username, FullName: u.FullName, Email: u.Email}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
