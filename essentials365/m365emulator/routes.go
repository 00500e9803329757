package m365emulator

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// route is the outcome of routing one request.
type route struct {
	// name is the route template, e.g. "GET /users/{id}", used by Stats.
	name string
	// family groups routes for error mapping: "users", "domains", ...
	family string
	// key is the object named in the URL ("" for collections).
	key string
	// write is set for POST, PATCH, PUT and DELETE.
	write bool
	// batch is set for POST /$batch.
	batch bool
	// ru is the base cost in resource units (before query modifiers).
	ru int
	fn func(ctx context.Context, req *request) *response
	// err is the answer when no route matched (fn is nil).
	err *response
}

// handler serves one route; key is the object named by the route's {id}
// segment ("" for collections).
type handler func(s *Server, ctx context.Context, req *request, key string) *response

// routeSpec is one row of the route table.
type routeSpec struct {
	method string
	// template is the path under /v1.0. A segment {id} matches any
	// segment, and the key syntax users('...'); a literal segment may list
	// spellings separated by '|', the first naming the route in Stats.
	template string
	// family groups routes for error mapping: "users", "domains", ...
	family string
	// ru is the base cost in resource units of a read; 0 means 1. Writes
	// cost 1.
	ru int
	fn handler
}

// routeTable lists every route the emulator serves, literal paths before
// the {id} paths they would shadow. Adding an endpoint is one line here
// and its handler. (A function, not a variable: the handlers reach the
// router through $batch.) Sources: the Graph v1.0 API reference page of each
// endpoint (https://learn.microsoft.com/graph/api/<name>), cited on the
// handlers.
func routeTable() []routeSpec {
	return []routeSpec{
		{http.MethodPost, "/$batch", "batch", 1, (*Server).batch},

		{http.MethodGet, "/users", "users", 2, (*Server).listUsers},
		{http.MethodPost, "/users", "users", 1, (*Server).createUser},
		{http.MethodGet, "/users/delta|delta()|microsoft.graph.delta|microsoft.graph.delta()", "users", 2, (*Server).usersDelta},
		{http.MethodGet, "/users/{id}", "users", 1, (*Server).getUser},
		{http.MethodPatch, "/users/{id}", "users", 1, (*Server).updateUser},
		{http.MethodDelete, "/users/{id}", "users", 1, (*Server).deleteUser},
		{http.MethodPost, "/users/{id}/assignLicense", "users", 1, (*Server).assignLicense},
		{http.MethodGet, "/directory/deletedItems/microsoft.graph.user|graph.user", "users", 1, (*Server).listDeletedUsers},
		{http.MethodPost, "/directory/deletedItems/{id}/restore", "users", 1, (*Server).restoreUser},

		{http.MethodGet, "/subscribedSkus", "skus", 3, (*Server).listSKUs},
		{http.MethodGet, "/subscribedSkus/{id}", "skus", 3, (*Server).getSKU},
		{http.MethodGet, "/organization", "organization", 1, (*Server).listOrganization},
		{http.MethodGet, "/organization/{id}", "organization", 1, (*Server).getOrganization},

		{http.MethodGet, "/domains", "domains", 1, (*Server).listDomains},
		{http.MethodPost, "/domains", "domains", 1, (*Server).addDomain},
		{http.MethodGet, "/domains/{id}", "domains", 1, (*Server).getDomain},
		{http.MethodDelete, "/domains/{id}", "domains", 1, (*Server).deleteDomain},
		{http.MethodPatch, "/domains/{id}", "domains", 1, (*Server).updateDomain},
		{http.MethodPost, "/domains/{id}/forceDelete", "domains", 1, (*Server).forceDeleteDomain},
		{http.MethodGet, "/domains/{id}/domainNameReferences", "domains", 1, (*Server).domainNameReferences},
		{http.MethodGet, "/domains/{id}/verificationDnsRecords", "domains", 1, (*Server).verificationRecords},
		{http.MethodGet, "/domains/{id}/serviceConfigurationRecords", "domains", 1, (*Server).serviceConfigurationRecords},
		{http.MethodPost, "/domains/{id}/verify", "domains", 1, (*Server).verifyDomain},
	}
}

// match reports whether seg matches the template's segments, and the key
// its {id} segment took.
func (rs routeSpec) match(seg []string) (key string, ok bool) {
	tpl := strings.Split(strings.Trim(rs.template, "/"), "/")
	if len(tpl) != len(seg) {
		return "", false
	}
	for i, t := range tpl {
		if t == "{id}" {
			key = keyOfSegment(seg[i])
			continue
		}
		if isKeySegment(seg[i]) || !slices.Contains(strings.Split(t, "|"), seg[i]) {
			return "", false
		}
	}
	return key, true
}

// name is the route's name in Stats, e.g. "GET /users/{id}".
func (rs routeSpec) name() string {
	parts := strings.Split(rs.template, "/")
	for i, p := range parts {
		parts[i], _, _ = strings.Cut(p, "|")
	}
	return rs.method + " " + strings.Join(parts, "/")
}

// route matches req against the route table.
func (s *Server) route(req *request) route {
	p := strings.Trim(req.path, "/")
	var seg []string
	if p != "" {
		seg = splitPath(p)
	}
	m := req.method
	write := m == http.MethodPost || m == http.MethodPatch || m == http.MethodPut || m == http.MethodDelete
	rt := route{write: write, ru: 1}
	if len(seg) >= 2 && seg[0] == "users" && strings.HasPrefix(seg[1], "$") {
		// /users/$x@contoso.com: Graph reads '$' as a system segment; a
		// userPrincipalName starting with '$' must be written
		// /users('$x@contoso.com') (https://learn.microsoft.com/graph/api/user-get).
		rt.name = "unmatched"
		rt.err = s.fail(req, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", seg[1]), nil)
		return rt
	}
	if art, ok := s.applicationRoute(req, seg); ok { // auth_graph.go
		return art
	}
	var pathMatched *routeSpec
	for i := range s.table {
		rs := &s.table[i]
		key, ok := rs.match(seg)
		if !ok {
			continue
		}
		if pathMatched == nil {
			pathMatched = rs
		}
		if rs.method != m {
			continue
		}
		rt.name, rt.family, rt.key, rt.batch = rs.name(), rs.family, key, rs.family == "batch"
		rt.ru = max(rs.ru, 1)
		fn := rs.fn
		rt.fn = func(ctx context.Context, r *request) *response { return fn(s, ctx, r, key) }
		return rt
	}
	if pathMatched != nil {
		rt.name = m + " " + strings.SplitN(pathMatched.name(), " ", 2)[1]
		rt.family = pathMatched.family
		rt.err = s.fail(req, http.StatusMethodNotAllowed, "Request_BadRequest",
			fmt.Sprintf("The HTTP method '%s' is not allowed on the resource '%s'.", m, req.path), nil)
		return rt
	}
	rt.name = "unmatched"
	last := req.path
	if len(seg) > 0 {
		last = keyOfSegment(seg[len(seg)-1])
	}
	rt.err = s.fail(req, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", last), nil)
	return rt
}

// query returns the decoded query parameters of req, with the names of
// OData system query options ("$...") in lower case, so that handlers
// reading "$skiptoken" also read "$skipToken". Graph's documents spell
// them both ways (https://learn.microsoft.com/graph/query-parameters lists
// "$skipToken" with the example "/users?$skiptoken=..."; the Graph SDKs'
// request builders write "$skipToken"), and OData 4.01 makes the names
// case-insensitive (OData Version 4.01 Part 2: URL Conventions, section
// 5, "System Query Options"). Without folding, a "$skipToken" passed
// firstUnsupported's case-insensitive check but was never read: the first
// page came back again, and a client paging that way never ended.
func (req *request) query() url.Values {
	v, err := url.ParseQuery(req.rawQuery)
	if err != nil {
		return url.Values{}
	}
	for k, vals := range v {
		if lk := strings.ToLower(k); lk != k && strings.HasPrefix(k, "$") {
			delete(v, k)
			v[lk] = append(v[lk], vals...)
		}
	}
	return v
}

// cost is the resource-unit cost of a request, following Graph's
// identity-service table: the route's base cost, −1 with $select, +1 with
// $expand, −1 with a $top under 20; never below 1.
func cost(rt route, req *request) int {
	ru := rt.ru
	if rt.write {
		ru = 1
	}
	q := req.query()
	if q.Has("$select") {
		ru--
	}
	if q.Has("$expand") {
		ru++
	}
	if top := q.Get("$top"); top != "" {
		var n int
		if _, err := fmt.Sscanf(top, "%d", &n); err == nil && n < 20 {
			ru--
		}
	}
	return max(ru, 1)
}

// splitPath splits a path under /v1.0 into segments, turning the key
// syntax users('key') (single quotes doubled inside, OData's literal form)
// into the segments users and key, marked so that isKeySegment knows it
// was quoted.
func splitPath(p string) []string {
	seg := strings.Split(p, "/")
	if name, rest, ok := strings.Cut(seg[0], "("); ok && strings.HasSuffix(rest, ")") {
		lit := strings.TrimSuffix(rest, ")")
		if len(lit) >= 2 && lit[0] == '\'' && lit[len(lit)-1] == '\'' {
			key := strings.ReplaceAll(lit[1:len(lit)-1], "''", "'")
			return append([]string{name, quotedKey + key}, seg[1:]...)
		}
	}
	return seg
}

// quotedKey marks a key segment written in parentheses; handlers strip
// it with keyOfSegment.
const quotedKey = "\x00quoted:"

func isKeySegment(s string) bool { return strings.HasPrefix(s, quotedKey) }

func keyOfSegment(s string) string { return strings.TrimPrefix(s, quotedKey) }
