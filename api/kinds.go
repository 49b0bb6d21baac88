package api

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"path"
	"strings"

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

// templateTypes are the content types of the template files, by extension.
var templateTypes = map[string]string{
	".csv":  "text/csv; charset=utf-8",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

// getTemplate answers the template of a kind (importer.NewTemplate) as KIND.csv or KIND.xlsx.
func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, acct store.Account) error {
	file := r.PathValue("file")
	ext := path.Ext(file)
	contentType, ok := templateTypes[ext]
	name := strings.TrimSuffix(file, ext)
	if !ok || name == "" {
		return &httpError{status: http.StatusNotFound, msg: "not found", detail: "ask for KIND.csv or KIND.xlsx, KIND one of GET /v1/kinds"}
	}
	t, err := importer.NewTemplate(r.Context(), s.Pool, acct, name)
	if errors.Is(err, importer.ErrUnknownKind) {
		return &httpError{status: http.StatusNotFound, msg: "unknown kind", detail: err.Error()}
	}
	if err != nil {
		return err
	}
	var body bytes.Buffer // whole before the status is sent: a failure is then answered as one
	if ext == ".csv" {
		err = t.WriteCSV(&body)
	} else {
		err = t.WriteXLSX(&body)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": t.Kind + "-template" + ext}))
	_, err = w.Write(body.Bytes())
	return err
}
