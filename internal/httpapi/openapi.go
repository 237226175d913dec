package httpapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
)

// Doc describes a route for the OpenAPI document at /api/v1/openapi.json. Pass it as
// the last argument of handle, or call describe for routes registered on the mux
// directly. Every route needs one (a test fails otherwise); configuration resources
// registered with register get theirs from their Go type.
type Doc struct {
	Summary     string
	Description string
	Tags        []string
	// Params describe path parameters (each {name} of the pattern is documented even
	// when left out here); Query lists query parameters.
	Params []Param
	Query  []Param
	// Request and Response are values of the JSON body types (nil: no body); their
	// schemas come from the types' json tags. Wrap an item type with listOf for the
	// {"total", "items"} answer of list routes. RequestType overrides the request
	// media type (default application/json).
	Request     any
	RequestType string
	Response    any
	// ResponseType overrides the response media type (default application/json).
	ResponseType string
	// Status is the success status (default 200; 204 without Response).
	Status int
}

// Param is a path or query parameter.
type Param struct {
	Name        string
	In          string // "query" (default) or "path"
	Description string
	Type        string // JSON Schema type (default "string")
	Required    bool
	Array       bool // repeated: ?tag=a&tag=b
}

var pageParams = []Param{
	{Name: "limit", Type: "integer", Description: "page size, 1 to 1000 (default 50)"},
	{Name: "offset", Type: "integer", Description: "items to skip"},
}

// listOf marks a list answer {"total": n, "items": [item…]}.
type listSchema struct {
	item     reflect.Type
	relation bool // a search's list: total_relation says whether total is exact
}

func listOf(item any) listSchema { return listSchema{item: reflect.TypeOf(item)} }

// searchListOf documents the {"total", "total_relation", "items"} of writeSearchList.
func searchListOf(item any) listSchema { return listSchema{item: reflect.TypeOf(item), relation: true} }

// routeMeta records every pattern registered on the mux, in order, and the Doc of each.
type routeMeta struct {
	mu       sync.Mutex
	patterns []string
	docs     map[string]Doc
	once     sync.Once
	doc      []byte
	err      error
}

func (m *routeMeta) add(pattern string, d []Doc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.patterns = append(m.patterns, pattern)
	if len(d) > 0 {
		m.setDoc(pattern, d[0])
	}
}

func (m *routeMeta) setDoc(pattern string, d Doc) {
	if m.docs == nil {
		m.docs = map[string]Doc{}
	}
	m.docs[pattern] = d
}

// describe documents a route registered on the mux directly.
func (s *Server) describe(pattern string, d Doc) {
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	s.meta.setDoc(pattern, d)
}

// docOf returns the Doc of pattern: the one given at registration, else one of the
// built-in routes below.
func (s *Server) docOf(pattern string) (Doc, bool) {
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	if d, ok := s.meta.docs[pattern]; ok {
		return d, true
	}
	d, ok := builtinDocs[pattern]
	return d, ok
}

// recorder is the mux as routes() sees it: it registers and records.
type recorder struct{ s *Server }

func (s *Server) recorder() recorder { return recorder{s} }

func (m recorder) Handle(pattern string, h http.Handler) {
	m.s.meta.add(pattern, nil)
	m.s.mux.Handle(pattern, h)
}

func (m recorder) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.s.meta.add(pattern, nil)
	m.s.mux.HandleFunc(pattern, h)
}

// AllRoutes lists every pattern registered on this server: collector, ops, GUI API.
func (s *Server) AllRoutes() []string {
	s.meta.mu.Lock()
	defer s.meta.mu.Unlock()
	return slices.Clone(s.meta.patterns)
}

// undocumented reports patterns that are not API operations: the GUI API's catch-all
// 404 and the profiler.
func undocumented(pattern string) bool {
	return pattern == "/api/v1/" || strings.HasPrefix(pattern, "/debug/pprof/")
}

type installBody struct {
	Username string `json:"username"`
	Password string `json:"password" openapi:"writeonly"`
	Token    string `json:"token" openapi:"writeonly"`
}

type credentials struct {
	Username  string `json:"username"`
	Password  string `json:"password" openapi:"writeonly"`
	GrantType string `json:"grant_type,omitempty"`
}

type installState struct {
	Installed bool `json:"installed"`
}

type statusAnswer struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// anyJSON documents a body of any JSON object.
type anyJSON map[string]any

var (
	idParam     = []Param{{Name: "id", In: "path"}}
	collectPath = []Param{{Name: "event_type", In: "path", Description: "type of the event to record"},
		{Name: "source_id", In: "path", Description: "id of an enabled event source"}}
)

// builtinDocs documents the routes that server.go registers on the mux directly.
var builtinDocs = map[string]Doc{
	"GET /healthz": {Summary: "The process is alive", Tags: []string{"ops"}, Response: statusAnswer{}},
	"GET /readyz":  {Summary: "The process can serve: its storage is reachable (503 otherwise)", Tags: []string{"ops"}, Response: statusAnswer{}},
	"GET /metrics": {Summary: "Prometheus metrics", Tags: []string{"ops"}, Response: "", ResponseType: "text/plain"},
	"POST /track": {Summary: "Collect events", Tags: []string{"collector"},
		Description: "Records a batch of events of one source for a profile and session, creating them when missing. " +
			"Fields the collector does not know are ignored and named in the answer's warnings; a field of the wrong type " +
			"is a 400 naming it with its index (events[2].time.create). See docs/tracking.md.",
		Query:   []Param{{Name: "profile_less", Description: "true: store the events without a profile or session (as the body's profile_less)"}},
		Request: collector.TrackRequest{}, Response: collector.TrackResponse{}},
	"OPTIONS /track": {Summary: "CORS preflight for /track", Tags: []string{"collector"}},
	"GET /collect/{event_type}/{source_id}": {Summary: "Collect one event from query parameters", Tags: []string{"collector"},
		Params: collectPath, Query: []Param{{Name: "profile_id"}, {Name: "session_id"}}, Response: collector.TrackResponse{}},
	"POST /collect/{event_type}/{source_id}": {Summary: "Collect one event whose properties are the body (JSON or form)", Tags: []string{"collector"},
		Params: collectPath, Query: []Param{{Name: "profile_id"}, {Name: "session_id"}}, Request: anyJSON{}, Response: collector.TrackResponse{}},
	"OPTIONS /collect/{event_type}/{source_id}": {Summary: "CORS preflight for /collect", Tags: []string{"collector"}, Params: collectPath},
	"GET /api/v1/install":                       {Summary: "Whether the first admin exists", Tags: []string{"auth"}, Response: installState{}},
	"POST /api/v1/install": {Summary: "Create the first admin", Tags: []string{"auth"},
		Description: "Needs the installation token (INSTALLATION_TOKEN, or the one printed at start-up). Works once.",
		Request:     installBody{}, Response: userView{}, Status: http.StatusCreated},
	"POST /api/v1/auth/token": {Summary: "Exchange username and password for a bearer token", Tags: []string{"auth"},
		Description: "Also accepts an OAuth2 password-grant form. Repeated failures from one client or for one username " +
			"are answered more and more slowly, then with 429 and Retry-After.",
		Request: credentials{}, Response: auth.Token{}},
	"POST /api/v1/auth/logout": {Summary: "Revoke the token of this request", Tags: []string{"auth"}},
	"GET /api/v1/me":           {Summary: "The signed-in user, its permissions and when its token expires", Tags: []string{"auth"}, Response: meView{}},
	"GET /api/v1/profiles/{id}": {Summary: "Get a profile (a merged-away id answers the surviving profile)", Tags: []string{"data"},
		Params: idParam, Response: domain.Profile{}},
	"GET /api/v1/profiles/{id}/events": {Summary: "List a profile's events, newest first", Tags: []string{"data"},
		Params: idParam, Query: pageParams, Response: listOf(domain.Event{})},
	"GET /api/v1/sessions/{id}": {Summary: "Get a session", Tags: []string{"data"}, Params: idParam, Response: domain.Session{}},
	"GET /api/v1/events/{id}":   {Summary: "Get an event", Tags: []string{"data"}, Params: idParam, Response: domain.Event{}},
}

// resourceDocs documents the five routes of a configuration resource from its type.
func resourceDocs(base string, item any) map[string]Doc {
	plural := strings.ReplaceAll(base[strings.LastIndexByte(base, '/')+1:], "-", " ")
	single := strings.TrimSuffix(plural, "s")
	tag := []string{plural}
	idp := []Param{{Name: "id", In: "path", Description: "id of the " + single}}
	return map[string]Doc{
		"GET " + base: {Summary: "List " + plural, Tags: tag, Response: listOf(item),
			Query: append([]Param{{Name: "q", Description: "text in id, name or description"},
				{Name: "tag", Array: true, Description: "only items with every given tag"}}, pageParams...)},
		"POST " + base: {Summary: "Create a " + single, Tags: tag, Request: item, Response: item, Status: http.StatusCreated,
			Description: "Without id, one is generated. Secret fields are stored encrypted and answered as " + secrets.Mask + "."},
		"GET " + base + "/{id}": {Summary: "Get a " + single, Tags: tag, Params: idp, Response: item},
		"PUT " + base + "/{id}": {Summary: "Replace a " + single, Tags: tag, Params: idp, Request: item, Response: item,
			Description: "With version, a stale update answers 409. A secret field sent as " + secrets.Mask + " keeps its stored value."},
		"DELETE " + base + "/{id}": {Summary: "Delete a " + single, Tags: tag, Params: idp, Status: http.StatusNoContent},
	}
}

func (s *Server) openAPIRoutes() {
	s.handle("GET /api/v1/openapi.json", permAny, s.serveOpenAPI, Doc{Summary: "This document (OpenAPI 3.1)", Tags: []string{"auth"},
		Response: anyJSON{}})
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	s.meta.once.Do(func() {
		doc, err := s.OpenAPI()
		if err == nil {
			s.meta.doc, err = json.Marshal(doc)
		}
		s.meta.err = err
	})
	if s.meta.err != nil {
		s.fail(w, r, s.meta.err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.meta.doc)
}

var pathParam = regexp.MustCompile(`\{([A-Za-z0-9_]+)(\.\.\.)?\}`)

// OpenAPI builds the OpenAPI 3.1 document of every route registered on this server. It
// fails when a route has no Doc.
func (s *Server) OpenAPI() (map[string]any, error) {
	perms := map[string]perm{}
	for _, rt := range s.Routes() {
		perms[rt.Pattern] = rt.Perm
	}
	g := &schemaGen{schemas: map[string]any{}, names: map[string]reflect.Type{}}
	paths := map[string]map[string]any{}
	var missing []string
	opIDs := map[string]bool{}
	for _, pattern := range s.AllRoutes() {
		if undocumented(pattern) {
			continue
		}
		d, ok := s.docOf(pattern)
		method, path, hasMethod := strings.Cut(pattern, " ")
		if !ok || d.Summary == "" || !hasMethod {
			missing = append(missing, pattern)
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		path = pathParam.ReplaceAllString(path, "{$1}")
		p, authed := perms[pattern]
		op := g.operation(method, path, d, p, authed)
		id := operationID(method, path)
		for opIDs[id] {
			id += "_"
		}
		opIDs[id] = true
		op["operationId"] = id
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = op
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("routes without a Doc (pass one to handle, or describe them): %s", strings.Join(missing, ", "))
	}
	g.schemas["Error"] = map[string]any{"type": "object", "properties": map[string]any{
		"status": map[string]any{"type": "integer"},
		"error":  map[string]any{"type": "string", "description": "what went wrong"},
		"field":  map[string]any{"type": "string", "description": "the request field at fault, for 400 answers"},
	}, "required": []string{"status", "error"}}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "ThamesThrive",
			"version": "v1",
			"description": "The collector (/track, /collect), the ops routes and the GUI API (/api/v1/). " +
				"GUI API routes need a bearer token from POST /api/v1/auth/token; x-roles lists the roles that may use each.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas":         g.schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}, nil
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		seg = strings.Trim(seg, "{}")
		if seg == "" || seg == "api" || seg == "v1" {
			continue
		}
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

var errorRef = map[string]any{"$ref": "#/components/schemas/Error"}

func errResponse(desc string) map[string]any {
	return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": errorRef}}}
}

func (g *schemaGen) operation(method, path string, d Doc, p perm, authed bool) map[string]any {
	op := map[string]any{"summary": d.Summary}
	if d.Description != "" {
		op["description"] = d.Description
	}
	if len(d.Tags) > 0 {
		op["tags"] = d.Tags
	}
	var params []any
	described := map[string]Param{}
	for _, pp := range d.Params {
		described[pp.Name] = pp
	}
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		pp := described[m[1]]
		pp.Name, pp.In, pp.Required = m[1], "path", true
		params = append(params, paramSchema(pp))
	}
	for _, q := range d.Query {
		q.In = "query"
		params = append(params, paramSchema(q))
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if d.Request != nil {
		ct := d.RequestType
		if ct == "" {
			ct = "application/json"
		}
		content := map[string]any{}
		for _, t := range strings.Split(ct, ",") { // several media types: comma-separated
			content[t] = map[string]any{"schema": g.of(d.Request)}
		}
		op["requestBody"] = map[string]any{"required": true, "content": content}
	}
	status := d.Status
	if status == 0 {
		status = http.StatusOK
		if d.Response == nil {
			status = http.StatusNoContent
		}
	}
	ok := map[string]any{"description": http.StatusText(status)}
	if d.Response != nil {
		ct := d.ResponseType
		if ct == "" {
			ct = "application/json"
		}
		ok["content"] = map[string]any{ct: map[string]any{"schema": g.of(d.Response)}}
	}
	responses := map[string]any{fmt.Sprint(status): ok}
	if d.Request != nil || len(d.Query) > 0 {
		responses["400"] = errResponse("invalid request; field names the culprit")
	}
	if len(d.Params) > 0 || strings.Contains(path, "{") {
		responses["404"] = errResponse("not found")
	}
	if method == http.MethodPut || method == http.MethodPost && d.Status == http.StatusCreated {
		responses["409"] = errResponse("conflict: the id exists already, or the version is stale")
	}
	if authed {
		responses["401"] = errResponse("missing, expired or revoked token")
		responses["403"] = errResponse("your roles may not use this route, or your network may not reach the GUI API")
		op["security"] = []any{map[string]any{"bearer": []string{}}}
		op["x-permission"] = string(p)
		roles := slices.Clone(permRoles[p])
		if !slices.Contains(roles, domain.RoleAdmin) {
			roles = append([]string{domain.RoleAdmin}, roles...)
		}
		op["x-roles"] = roles
	} else {
		op["security"] = []any{}
	}
	if strings.HasPrefix(path, "/api/v1/auth/token") {
		responses["429"] = errResponse("too many failed logins; retry after Retry-After seconds")
	}
	if path == "/track" || strings.HasPrefix(path, "/collect/") {
		responses["429"] = errResponse("too many requests from this address; retry after Retry-After seconds")
		if method != http.MethodOptions {
			responses["401"] = errResponse("the source is unknown, disabled, or of another type")
			responses["403"] = errResponse("the Origin is not allowed for the source")
			responses["413"] = errResponse("the body is larger than TRACK_MAX_BODY_BYTES")
		}
	}
	for code, desc := range extraResponses[method+" "+path] {
		responses[code] = errResponse(desc)
	}
	if strings.Contains(path, "{version}") {
		responses["400"] = errResponse("the version is not a positive whole number")
	}
	// Any route may find storage unavailable, and any request may meet the process's
	// connection or in-flight body bound (docs/reliability.md).
	responses["503"] = errResponse("storage unavailable or the server busy; retry after Retry-After seconds")
	op["responses"] = responses
	return op
}

// extraResponses are error statuses of single routes that the rules in operation do
// not derive.
var extraResponses = map[string]map[string]string{
	"POST /api/v1/auth/token":              {"401": "wrong username or password"},
	"POST /api/v1/install":                 {"403": "wrong installation token"},
	"POST /api/v1/conditions/check":        {"404": "a profile or event named in the request does not exist"},
	"DELETE /api/v1/users/{id}":            {"409": "the last enabled admin cannot be deleted"},
	"GET /v1/projects/{writeKey}/settings": {"401": "the write key names no enabled event source"},
	"POST /v1/{kind}": {"401": "no write key, or one that names no enabled event source",
		"413": "a message over 32 KB or a batch over 500 KB", "415": "not JSON or text/plain, or an encoding other than gzip"},
}

func paramSchema(p Param) map[string]any {
	typ := p.Type
	if typ == "" {
		typ = "string"
	}
	schema := map[string]any{"type": typ}
	if p.Array {
		schema = map[string]any{"type": "array", "items": schema}
	}
	out := map[string]any{"name": p.Name, "in": p.In, "schema": schema}
	if p.In == "" {
		out["in"] = "query"
	}
	if p.Required {
		out["required"] = true
	}
	if p.Description != "" {
		out["description"] = p.Description
	}
	return out
}

// schemaGen turns Go types into JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses),
// named struct types becoming components referenced by $ref.
type schemaGen struct {
	schemas map[string]any
	names   map[string]reflect.Type
}

// SchemaProvider lets a type give its own schema.
type SchemaProvider interface{ OpenAPISchema() map[string]any }

var (
	timeType     = reflect.TypeFor[time.Time]()
	domainTime   = reflect.TypeFor[domain.Time]()
	rawJSON      = reflect.TypeFor[json.RawMessage]()
	providerType = reflect.TypeFor[SchemaProvider]()
	marshaler    = reflect.TypeFor[json.Marshaler]()
)

func (g *schemaGen) of(v any) map[string]any {
	switch x := v.(type) {
	case listSchema:
		props := map[string]any{
			"total": map[string]any{"type": "integer"},
			"items": map[string]any{"type": "array", "items": g.schema(x.item)},
		}
		required := []string{"total", "items"}
		if x.relation {
			props["total_relation"] = map[string]any{"type": "string", "enum": []string{"eq", "gte"},
				"description": `"eq": total is exact; "gte": at least total match (counting stopped there)`}
			required = append(required, "total_relation")
		}
		return map[string]any{"type": "object", "properties": props, "required": required}
	case map[string]any:
		return x
	}
	return g.schema(reflect.TypeOf(v))
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType, domainTime:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawJSON:
		return map[string]any{}
	}
	if t.Implements(providerType) {
		return reflect.Zero(t).Interface().(SchemaProvider).OpenAPISchema()
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(providerType) {
		return reflect.New(t).Interface().(SchemaProvider).OpenAPISchema()
	}
	if t.Implements(marshaler) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(marshaler)) {
		return map[string]any{} // marshals itself: shape unknown here
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name := g.name(t)
		if _, done := g.schemas[name]; !done {
			g.schemas[name] = map[string]any{} // placeholder: recursive types end here
			g.schemas[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	default: // interfaces and the rest: any JSON value
		return map[string]any{}
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// name gives t a component name: the type name for the data model (domain) and this
// package, qualified by the package for the others (auth.Session, not Session, which
// is domain's), and qualified anyway should two types still meet under one name.
func (g *schemaGen) name(t reflect.Type) string {
	pkgPath := t.PkgPath()
	pkg := pkgPath[strings.LastIndexByte(pkgPath, '/')+1:]
	name := unsafeName.ReplaceAllString(t.Name(), "_")
	if pkg != "domain" && pkg != "httpapi" && pkg != "" {
		name = pkg + "." + name
	}
	if other, ok := g.names[name]; ok && other != t {
		name = unsafeName.ReplaceAllString(strings.ReplaceAll(pkgPath, "/", "."), "_") + "." + name
	}
	g.names[name] = t
	return name
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	g.fields(t, props, map[string]int{}, 0)
	return map[string]any{"type": "object", "properties": props}
}

// fields adds the properties of struct t, flattening embedded structs the way
// encoding/json does (a shallower field wins).
func (g *schemaGen) fields(t reflect.Type, props map[string]any, depth map[string]int, level int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props, depth, level+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if d, ok := depth[name]; ok && d <= level {
			continue
		}
		depth[name] = level
		sch := g.schema(ft)
		if strings.Contains(opts, "string") && (ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Float64) {
			sch = map[string]any{"type": "string"}
		}
		if !strings.Contains(opts, "omitempty") && encodesNull(ft) {
			sch = orNull(sch)
		}
		extra := map[string]any{}
		if d := f.Tag.Get("doc"); d != "" {
			extra["description"] = d
		}
		if f.Tag.Get(secrets.Tag) == "true" {
			extra["format"] = "password"
			extra["description"] = "secret: stored encrypted, answered as " + secrets.Mask + "; send " + secrets.Mask + " back to keep it"
		}
		for _, o := range strings.Split(f.Tag.Get("openapi"), ",") {
			switch o {
			case "readonly":
				extra["readOnly"] = true
			case "writeonly":
				extra["writeOnly"] = true
			}
		}
		if len(extra) > 0 {
			if _, isRef := sch["$ref"]; isRef {
				sch = map[string]any{"allOf": []any{sch}}
			} else {
				sch = maps.Clone(sch)
			}
			for k, v := range extra {
				sch[k] = v
			}
		}
		props[name] = sch
	}
}

// encodesNull reports whether a field of type t is written as JSON null when it is
// unset: nil maps, slices and pointers, and zero domain.Time (an unset time, such as the
// last visit of a first-time visitor). The document says so rather than promising an
// object or a string that the answer does not always hold.
func encodesNull(t reflect.Type) bool {
	switch t {
	case domainTime:
		return true
	case rawJSON, timeType:
		return false
	}
	switch t.Kind() {
	case reflect.Map, reflect.Pointer:
		return true
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8
	}
	return false
}

// orNull widens a schema to also allow null (JSON Schema 2020-12, as OpenAPI 3.1 uses).
func orNull(sch map[string]any) map[string]any {
	if typ, ok := sch["type"].(string); ok {
		out := maps.Clone(sch)
		out["type"] = []any{typ, "null"}
		return out
	}
	if len(sch) == 0 {
		return sch // any value, null included
	}
	return map[string]any{"anyOf": []any{sch, map[string]any{"type": "null"}}}
}

// sortedKeys is used by tests and docs to walk the document in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
