package api_test

// api/openapi.yaml must not drift from the code: every route Server.Register adds is documented
// with its method and path parameters, nothing else is, and the JSON schemas have exactly the
// fields (and required fields) of the Go types the handlers encode.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/leadpipe/leadpipe/api"
	"github.com/leadpipe/leadpipe/crm"
	"github.com/leadpipe/leadpipe/importer"
	"github.com/leadpipe/leadpipe/kind"
	"github.com/leadpipe/leadpipe/kinds/deals"
	"github.com/leadpipe/leadpipe/kinds/organizations"
	"github.com/leadpipe/leadpipe/kinds/prospects"
	"github.com/leadpipe/leadpipe/pipeline"
	"github.com/leadpipe/leadpipe/stages/mapping"
	"github.com/leadpipe/leadpipe/stages/read"
	"github.com/leadpipe/leadpipe/store"
)

type openAPIDoc map[string]any

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any // not openAPIDoc: yaml.v3 would give nested maps that type too
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return openAPIDoc(doc)
}

// node walks the document along keys; nil when a key is missing.
func (d openAPIDoc) node(keys ...string) any {
	var n any = map[string]any(d)
	for _, k := range keys {
		m, ok := n.(map[string]any)
		if !ok {
			return nil
		}
		n = m[k]
	}
	return n
}

// resolve follows a local $ref.
func (d openAPIDoc) resolve(t *testing.T, n any) map[string]any {
	t.Helper()
	m, _ := n.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	target, _ := d.node(strings.Split(strings.TrimPrefix(ref, "#/"), "/")...).(map[string]any)
	if !strings.HasPrefix(ref, "#/") || target == nil {
		t.Errorf("$ref %q does not resolve", ref)
		return nil
	}
	return d.resolve(t, target)
}

// registeredRoutes reads the route patterns out of Server.Register's source (the keys of its
// routes map), so that a route added there is seen here.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	pattern := regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) /`)
	var routes []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "Register" || fn.Recv == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && pattern.MatchString(s) {
						routes = append(routes, s)
					}
				}
				return true
			})
		}
	}
	sort.Strings(routes)
	return routes
}

func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	if v := doc.node("openapi"); v != "3.0.3" {
		t.Errorf("openapi %v, want 3.0.3", v)
	}

	routes := registeredRoutes(t)
	want := []string{ // what the API is: a route added or removed must be added or removed here too
		"DELETE /v1/mappings/{kind}/{name}", "DELETE /v1/session", "GET /v1/deal-stages", "GET /v1/imports", "GET /v1/imports/{id}",
		"GET /v1/imports/{id}/file", "GET /v1/imports/{id}/records", "GET /v1/imports/{id}/skipped.csv", "GET /v1/kinds",
		"GET /v1/mappings", "GET /v1/prospects", "GET /v1/session", "GET /v1/templates/{file}", "GET /v1/users", "POST /v1/imports",
		"POST /v1/imports/{id}/cancel", "POST /v1/imports/{id}/undo", "POST /v1/previews", "POST /v1/session", "PUT /v1/deal-stages",
		"PUT /v1/mappings/{kind}/{name}",
	}
	if !reflect.DeepEqual(routes, want) {
		t.Errorf("Server.Register's routes %q, want %q", routes, want)
	}

	// Each is what the mux really serves.
	mux := http.NewServeMux()
	(&api.Server{}).Register(mux)
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		req := httptest.NewRequest(method, strings.ReplaceAll(path, "{id}", "1"), nil)
		if _, got := mux.Handler(req); got != route {
			t.Errorf("%s %s is served by %q, want %q", method, req.URL.Path, got, route)
		}
	}

	// The document has exactly these operations.
	paths, _ := doc.node("paths").(map[string]any)
	var documented []string
	methods := []string{"get", "head", "post", "put", "patch", "delete", "options", "trace"}
	for path, item := range paths {
		for key, op := range item.(map[string]any) {
			if !slices.Contains(methods, key) {
				continue
			}
			route := strings.ToUpper(key) + " " + path
			documented = append(documented, route)
			checkOperation(t, doc, route, item.(map[string]any), op.(map[string]any))
		}
	}
	sort.Strings(documented)
	if !reflect.DeepEqual(documented, routes) {
		t.Errorf("openapi.yaml documents %q, Server.Register has %q", documented, routes)
	}

	// A bearer token or the session cookie for all of it; signing in needs neither.
	sec, _ := doc.node("security").([]any)
	if len(sec) != 2 || doc.node("components", "securitySchemes", "bearerAuth", "scheme") != "bearer" ||
		sec[0].(map[string]any)["bearerAuth"] == nil || sec[1].(map[string]any)["sessionCookie"] == nil {
		t.Errorf("security %v, want bearerAuth (http bearer) or sessionCookie for every operation", doc.node("security"))
	}
	if in, name := doc.node("components", "securitySchemes", "sessionCookie", "in"), doc.node("components", "securitySchemes", "sessionCookie", "name"); in != "cookie" || name != "leadpipe_session" {
		t.Errorf("sessionCookie is in %v named %v, want the cookie leadpipe_session", in, name)
	}
	if sec, ok := doc.node("paths", "/v1/session", "post", "security").([]any); !ok || len(sec) != 0 {
		t.Errorf("POST /v1/session security %v, want none ([])", sec)
	}
	checkRefs(t, doc, map[string]any(doc))
}

// checkOperation checks that an operation declares its path parameters and answers 401, a JSON
// Error for every 4xx and 5xx, and some 2xx.
func checkOperation(t *testing.T, doc openAPIDoc, route string, item, op map[string]any) {
	t.Helper()
	declared := map[string]bool{}
	for _, list := range []any{item["parameters"], op["parameters"]} {
		ps, _ := list.([]any)
		for _, p := range ps {
			p := doc.resolve(t, p)
			if p["in"] == "path" {
				declared[p["name"].(string)] = p["required"] == true
			}
		}
	}
	for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(route, -1) {
		if !declared[m[1]] {
			t.Errorf("%s: path parameter %s is not declared (required)", route, m[1])
		}
		delete(declared, m[1])
	}
	for name := range declared {
		t.Errorf("%s: declares path parameter %s, which its path does not have", route, name)
	}
	responses, _ := op["responses"].(map[string]any)
	ok2xx := false
	for code, r := range responses {
		r := doc.resolve(t, r)
		switch {
		case strings.HasPrefix(code, "2"):
			ok2xx = true
		case code >= "400" && code != "416":
			schema := doc.node("components", "schemas", "Error")
			content, _ := r["content"].(map[string]any)
			js, _ := content["application/json"].(map[string]any)
			if js == nil || !reflect.DeepEqual(doc.resolve(t, js["schema"]), schema) {
				t.Errorf("%s: response %s is not application/json Error", route, code)
			}
		}
	}
	if !ok2xx {
		t.Errorf("%s: no 2xx response", route)
	}
	for _, code := range []string{"401", "500"} {
		if responses[code] == nil {
			t.Errorf("%s: no %s response", route, code)
		}
	}
	if strings.Contains(route, "{id}") && responses["404"] == nil {
		t.Errorf("%s: no 404 response", route)
	}
}

// checkRefs checks that every $ref resolves.
func checkRefs(t *testing.T, doc openAPIDoc, n any) {
	t.Helper()
	switch n := n.(type) {
	case map[string]any:
		if _, ok := n["$ref"]; ok {
			doc.resolve(t, n)
		}
		for _, v := range n {
			checkRefs(t, doc, v)
		}
	case []any:
		for _, v := range n {
			checkRefs(t, doc, v)
		}
	}
}

// builtinKinds are the kinds every account's imports may be of (importer.Kinds, checked by
// TestOpenAPISchemas); an account's custom object types report no counters.
var builtinKinds = []kind.Kind{prospects.Kind{}, organizations.Kind{}, deals.Kind{}}

// kindsCounting returns, for each counter some kind reports, the names of the kinds that do.
func kindsCounting() map[string][]string {
	out := map[string][]string{}
	for _, k := range builtinKinds {
		for _, counter := range k.Counters() {
			out[counter] = append(out[counter], k.Name())
		}
	}
	return out
}

// jsonFields returns the JSON names of a struct type's fields, embedded structs flattened, and
// which of them are always present (no omitempty). Counts' counters are members of their own,
// present only in the imports of the kinds that report them, and in undos.
func jsonFields(typ reflect.Type) (all, required []string) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			a, r := jsonFields(f.Type)
			all, required = append(all, a...), append(required, r...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") {
			required = append(required, name)
		}
	}
	if typ == reflect.TypeFor[store.Counts]() { // and the counters of every kind, each present in some kinds only
		for counter := range kindsCounting() {
			all = append(all, counter)
		}
		all = append(all, pipeline.UndoCounters()...)
	}
	sort.Strings(all)
	sort.Strings(required)
	return all, required
}

// schemaFields returns a schema's properties and required ones, allOf parts merged.
func schemaFields(t *testing.T, doc openAPIDoc, s map[string]any) (all, required []string) {
	t.Helper()
	if parts, ok := s["allOf"].([]any); ok {
		for _, p := range parts {
			a, r := schemaFields(t, doc, doc.resolve(t, p))
			all, required = append(all, a...), append(required, r...)
		}
	}
	props, _ := s["properties"].(map[string]any)
	for name := range props {
		all = append(all, name)
	}
	req, _ := s["required"].([]any)
	for _, r := range req {
		required = append(required, r.(string))
	}
	sort.Strings(all)
	sort.Strings(required)
	return all, required
}

func TestOpenAPISchemas(t *testing.T) {
	doc := loadOpenAPI(t)
	for name, v := range map[string]any{
		"ImportView":     api.ImportView{},
		"ImportList":     api.ImportList{},
		"ImportHolder":   api.ImportHolder{},
		"Counts":         store.Counts{},
		"Preview":        importer.Preview{},
		"RowResult":      importer.RowResult{},
		"MappingColumn":  mapping.Column{},
		"Warning":        pipeline.Warning{},
		"ImportSummary":  importer.Summary{},
		"ProspectList":   api.ProspectList{},
		"DealStages":     api.DealStages{},
		"Session":        api.SessionView{},
		"RecordPage":     importer.RecordPage{},
		"RecordView":     importer.RecordView{},
		"ProspectRecord": store.ProspectRecord{},
		"ImportOptions":  crm.Options{},
		"Sheet":          read.Sheet{},
		"UndoView":       api.UndoView{},
		"UndoSummary":    importer.UndoSummary{},
		"UndoRowResult":  importer.UndoRowResult{},
		"Progress":       api.Progress{},
		"KindList":       api.KindList{},
		"KindInfo":       importer.KindInfo{},
		"FieldInfo":      importer.FieldInfo{},
		"UserList":       api.UserList{},
		"User":           api.User{},
		"SavedMapping":   store.SavedMapping{},
		"MappingList":    api.MappingList{},
		"Suggestion":     importer.Suggestion{},
	} {
		s, _ := doc.node("components", "schemas", name).(map[string]any)
		if s == nil {
			t.Errorf("schema %s is missing", name)
			continue
		}
		goAll, goReq := jsonFields(reflect.TypeOf(v))
		docAll, docReq := schemaFields(t, doc, s)
		if !reflect.DeepEqual(goAll, docAll) {
			t.Errorf("schema %s has properties %q; %T encodes %q", name, docAll, v, goAll)
		}
		if !reflect.DeepEqual(goReq, docReq) {
			t.Errorf("schema %s requires %q; %T always encodes %q", name, docReq, v, goReq)
		}
	}
	// The error body every handler writes.
	all, req := schemaFields(t, doc, doc.node("components", "schemas", "Error").(map[string]any))
	if want := []string{"detail", "error"}; !reflect.DeepEqual(all, want) || !reflect.DeepEqual(req, want) {
		t.Errorf("schema Error: properties %q, required %q; want both %q", all, req, want)
	}
	// The skip reasons and statuses the code knows.
	reasons := []any{pipeline.ReasonMalformedRow, pipeline.ReasonInvalidEmail, pipeline.ReasonMissingIdentifier,
		pipeline.ReasonNewNotAllowed, pipeline.ReasonExistingNotUpdated, pipeline.ReasonOverLimit}
	if got := doc.node("components", "schemas", "SkipReason", "enum"); !reflect.DeepEqual(got, reasons) {
		t.Errorf("SkipReason enum %v, want %v", got, reasons)
	}
	statuses := []any{}
	for _, s := range store.Statuses {
		statuses = append(statuses, s)
	}
	if got := doc.node("components", "schemas", "ImportStatus", "enum"); !reflect.DeepEqual(got, statuses) {
		t.Errorf("ImportStatus enum %v, want %v", got, statuses)
	}
	states := []any{store.StatusQueued, store.StatusRunning, api.StateInterrupted, store.StatusCompleted, store.StatusFailed, store.StatusCancelled,
		store.StatusUndone}
	parts, _ := doc.node("components", "schemas", "ImportView", "allOf").([]any)
	var view openAPIDoc
	if len(parts) == 2 {
		view, _ = parts[1].(map[string]any)
	}
	if got := view.node("properties", "state", "enum"); !reflect.DeepEqual(got, states) {
		t.Errorf("ImportView state enum %v, want %v", got, states)
	}
	undos := []any{}
	for _, u := range store.UndosFilters {
		undos = append(undos, u)
	}
	if got := undosParameter(doc)["enum"]; !reflect.DeepEqual(got, undos) {
		t.Errorf("GET /v1/imports undos enum %v, want %v", got, undos)
	}
	outcomes := []any{string(pipeline.Deleted), string(pipeline.Restored), string(pipeline.KeptChangedSince), string(pipeline.Unchanged)}
	if got := doc.node("components", "schemas", "UndoRowResult", "properties", "outcome", "enum"); !reflect.DeepEqual(got, outcomes) {
		t.Errorf("UndoRowResult outcome enum %v, want %v", got, outcomes)
	}
	reasons = []any{pipeline.ReasonChangedSince, pipeline.ReasonFieldChangedSince}
	if got := doc.node("components", "schemas", "UndoRowResult", "properties", "reason", "enum"); !reflect.DeepEqual(got, reasons) {
		t.Errorf("UndoRowResult reason enum %v, want %v", got, reasons)
	}
	kinds := []any{store.HolderServe, store.HolderCLI}
	if got := doc.node("components", "schemas", "ImportHolder", "properties", "kind", "enum"); !reflect.DeepEqual(got, kinds) {
		t.Errorf("ImportHolder kind enum %v, want %v", got, kinds)
	}
	checkImportKind(t, doc)
	types := []any{}
	for _, ft := range []crm.FieldType{crm.Text, crm.Email, crm.Phone, crm.Number, crm.Date, crm.Boolean, crm.Picklist, crm.MultiPicklist,
		crm.User, crm.Organization, crm.Prospect} {
		types = append(types, string(ft))
	}
	if got := doc.node("components", "schemas", "FieldInfo", "properties", "type", "enum"); !reflect.DeepEqual(got, types) {
		t.Errorf("FieldInfo type enum %v, want %v", got, types)
	}
	// A counter's description names the kinds that report it.
	for counter, kinds := range kindsCounting() {
		desc, _ := doc.node("components", "schemas", "Counts", "properties", counter, "description").(string)
		for _, k := range kinds {
			if !strings.Contains(desc, "`"+k+"`") {
				t.Errorf("Counts.%s: description %q does not name `%s`, which reports it", counter, desc, k)
			}
		}
	}
	// The field warnings the code gives: the value rules' and the kinds' own.
	warnings := []any{pipeline.WarnInvalidBoolean, pipeline.WarnInvalidPicklist, pipeline.WarnInvalidDate, pipeline.WarnInvalidNumber,
		pipeline.WarnValueTooLong, pipeline.WarnOwnerNotFound, pipeline.WarnInvalidEmail,
		deals.WarnProspectNotFound, organizations.WarnInvalidName, organizations.WarnInvalidDomain}
	if got := doc.node("components", "schemas", "Warning", "properties", "kind", "enum"); !reflect.DeepEqual(got, warnings) {
		t.Errorf("Warning kind enum %v, want %v", got, warnings)
	}
}

// checkImportKind checks that ImportKind is a string of the object type key's pattern, which
// the built-in kinds match and its description names, and which accepts exactly the keys an
// object type may have (crm.CheckObjectType).
func checkImportKind(t *testing.T, doc openAPIDoc) {
	t.Helper()
	var names []string
	for _, k := range builtinKinds {
		names = append(names, k.Name())
	}
	if got := importer.Kinds(); !sameSet(names, got) {
		t.Errorf("builtinKinds %q, want one of each of importer.Kinds() %q", names, got)
	}
	s, _ := doc.node("components", "schemas", "ImportKind").(map[string]any)
	if s["type"] != "string" || s["enum"] != nil {
		t.Errorf("ImportKind: type %v, enum %v; want a string of a pattern, no enum (object type keys are kinds too)", s["type"], s["enum"])
	}
	pattern, _ := s["pattern"].(string)
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("ImportKind pattern %q: %v", pattern, err)
	}
	desc, _ := s["description"].(string)
	for _, k := range names {
		if !re.MatchString(k) || !strings.Contains(desc, "`"+k+"`") {
			t.Errorf("ImportKind: built-in kind %q does not match the pattern %q, or the description does not name it", k, pattern)
		}
	}
	for _, key := range []string{"subscription", "a", "car_2", strings.Repeat("k", 40), strings.Repeat("k", 41), "Car", "2cars", "_car", "car-park", "car park", ""} {
		if valid := crm.CheckObjectType(key, "Label", "id") == nil; re.MatchString(key) != valid {
			t.Errorf("ImportKind pattern %q matches %q: %v; crm.CheckObjectType takes it as an object type's key: %v", pattern, key, !valid, valid)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// undosParameter is the schema of GET /v1/imports' undos parameter.
func undosParameter(doc openAPIDoc) map[string]any {
	ps, _ := doc.node("paths", "/v1/imports", "get", "parameters").([]any)
	for _, p := range ps {
		if p, _ := p.(map[string]any); p["name"] == "undos" {
			s, _ := p["schema"].(map[string]any)
			return s
		}
	}
	return nil
}
