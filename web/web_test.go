package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandler: / is the page, /assets/NAME each embedded file with its type, an ETag that a
// browser revalidates with (304), and no-cache; anything else is 404.
func TestHandler(t *testing.T) {
	h := Handler()
	get := func(path string, header http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for path, ctype := range map[string]string{
		"/":                  "text/html; charset=utf-8",
		"/assets/app.js":     "text/javascript; charset=utf-8",
		"/assets/wizard.js":  "text/javascript; charset=utf-8",
		"/assets/app.css":    "text/css; charset=utf-8",
		"/assets/history.js": "text/javascript; charset=utf-8",
		"/assets/api.js":     "text/javascript; charset=utf-8",
		"/assets/ui.js":      "text/javascript; charset=utf-8",
		"/assets/wizard.css": "text/css; charset=utf-8",
	} {
		rec := get(path, nil)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ctype || rec.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: %d %q %q, want 200 %q no-cache", path, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"), ctype)
			continue
		}
		etag := rec.Header().Get("ETag")
		if again := get(path, http.Header{"If-None-Match": {etag}}); etag == "" || again.Code != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: %d, want 304", path, etag, again.Code)
		}
	}
	if body := get("/", nil).Body.String(); !strings.Contains(body, `<script type="module" src="/assets/app.js">`) {
		t.Errorf("the page does not load its entry module:\n%s", body)
	}
	for _, path := range []string{"/index.html", "/assets/", "/assets/nope.js", "/static/app.js", "/assets/../web.go"} {
		if rec := get(path, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, rec.Code)
		}
	}
}
