// Package web is leadpipe's page: the files of the web page people import lists with (sign in,
// the import wizard, progress, history, undo), embedded in the binary and served by `leadpipe
// serve` at the root of http_addr. The page is a client of the /v1 API like any other: it has
// no route of its own into the engine or the database (docs/page.md).
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// asset is one embedded file as it is served.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the page: GET / answers index.html, GET /assets/NAME the page's scripts,
// styles and images. Each answer carries an ETag and Cache-Control: no-cache, so a browser
// revalidates and a new binary's page is seen at once. Any other path answers 404.
func Handler() http.Handler {
	assets := map[string]asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		name := p[len("static/"):]
		route := "/assets/" + name
		if name == "index.html" {
			route = "/"
		}
		assets[route] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("web: the embedded page cannot be read: " + err.Error()) // a build defect, not a runtime condition
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}
