package m365emulator

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
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

// route matches req against the routes the emulator serves.
func (s *Server) route(req *request) route {
	p := strings.Trim(req.path, "/")
	var seg []string
	if p != "" {
		seg = strings.Split(p, "/")
	}
	m := req.method
	write := m == http.MethodPost || m == http.MethodPatch || m == http.MethodPut || m == http.MethodDelete
	rt := route{write: write, ru: 1}
	// handlers names the method handlers of one path template.
	match := func(template, family, key string, handlers map[string]func(context.Context, *request, string) *response) route {
		rt.family, rt.key = family, key
		h, ok := handlers[m]
		if !ok {
			rt.name = m + " " + template
			rt.err = s.fail(req, http.StatusMethodNotAllowed, "Request_BadRequest",
				fmt.Sprintf("The HTTP method '%s' is not allowed on the resource '%s'.", m, req.path), nil)
			return rt
		}
		rt.name = m + " " + template
		rt.fn = func(ctx context.Context, r *request) *response { return h(ctx, r, key) }
		return rt
	}
	switch {
	case len(seg) == 1 && seg[0] == "$batch":
		rt.batch = true
		return match("/$batch", "batch", "", map[string]func(context.Context, *request, string) *response{
			http.MethodPost: s.batch,
		})
	case len(seg) == 1 && seg[0] == "users":
		if m == http.MethodGet {
			rt.ru = 2
		}
		return match("/users", "users", "", map[string]func(context.Context, *request, string) *response{
			http.MethodGet:  s.listUsers,
			http.MethodPost: s.createUser,
		})
	case len(seg) == 2 && seg[0] == "users" && (seg[1] == "delta" || seg[1] == "delta()"):
		rt.ru = 2
		return match("/users/delta", "users", "", map[string]func(context.Context, *request, string) *response{
			http.MethodGet: s.usersDelta,
		})
	case len(seg) == 2 && seg[0] == "users":
		return match("/users/{id}", "users", seg[1], map[string]func(context.Context, *request, string) *response{
			http.MethodGet:    s.getUser,
			http.MethodPatch:  s.updateUser,
			http.MethodDelete: s.deleteUser,
		})
	case len(seg) == 3 && seg[0] == "users" && seg[2] == "assignLicense":
		return match("/users/{id}/assignLicense", "users", seg[1], map[string]func(context.Context, *request, string) *response{
			http.MethodPost: s.assignLicense,
		})
	case len(seg) == 1 && seg[0] == "subscribedSkus":
		rt.ru = 3
		return match("/subscribedSkus", "skus", "", map[string]func(context.Context, *request, string) *response{
			http.MethodGet: s.listSKUs,
		})
	case len(seg) == 2 && seg[0] == "subscribedSkus":
		rt.ru = 3
		return match("/subscribedSkus/{id}", "skus", seg[1], map[string]func(context.Context, *request, string) *response{
			http.MethodGet: s.getSKU,
		})
	case len(seg) == 1 && seg[0] == "organization":
		return match("/organization", "organization", "", map[string]func(context.Context, *request, string) *response{
			http.MethodGet: s.listOrganization,
		})
	case len(seg) == 1 && seg[0] == "domains":
		return match("/domains", "domains", "", map[string]func(context.Context, *request, string) *response{
			http.MethodGet:  s.listDomains,
			http.MethodPost: s.addDomain,
		})
	case len(seg) == 2 && seg[0] == "domains":
		return match("/domains/{id}", "domains", seg[1], map[string]func(context.Context, *request, string) *response{
			http.MethodGet:    s.getDomain,
			http.MethodDelete: s.deleteDomain,
			http.MethodPatch:  s.updateDomain,
		})
	case len(seg) == 3 && seg[0] == "domains" && seg[2] == "forceDelete":
		return match("/domains/{id}/forceDelete", "domains", seg[1], map[string]func(context.Context, *request, string) *response{
			http.MethodPost: s.forceDeleteDomain,
		})
	case len(seg) == 3 && seg[0] == "domains" && seg[2] == "domainNameReferences":
		return match("/domains/{id}/domainNameReferences", "domains", seg[1], map[string]func(context.Context, *request, string) *response{
			http.MethodGet: s.domainNameReferences,
		})
	case len(seg) == 3 && seg[0] == "domains" && seg[2] == "verificationDnsRecords":
		return match("/domains/{id}/verificationDnsRecords", "domains", seg[1], map[string]func(context.Context, *request, string) *response{
			http.MethodGet: s.verificationRecords,
		})
	case len(seg) == 3 && seg[0] == "domains" && seg[2] == "serviceConfigurationRecords":
		return match("/domains/{id}/serviceConfigurationRecords", "domains", seg[1], map[string]func(context.Context, *request, string) *response{
			http.MethodGet: s.serviceConfigurationRecords,
		})
	case len(seg) == 3 && seg[0] == "domains" && seg[2] == "verify":
		return match("/domains/{id}/verify", "domains", seg[1], map[string]func(context.Context, *request, string) *response{
			http.MethodPost: s.verifyDomain,
		})
	case len(seg) == 3 && seg[0] == "directory" && seg[1] == "deletedItems" && (seg[2] == "microsoft.graph.user" || seg[2] == "graph.user"):
		return match("/directory/deletedItems/microsoft.graph.user", "users", "", map[string]func(context.Context, *request, string) *response{
			http.MethodGet: s.listDeletedUsers,
		})
	case len(seg) == 4 && seg[0] == "directory" && seg[1] == "deletedItems" && seg[3] == "restore":
		return match("/directory/deletedItems/{id}/restore", "users", seg[2], map[string]func(context.Context, *request, string) *response{
			http.MethodPost: s.restoreUser,
		})
	}
	rt.name = "unmatched"
	last := req.path
	if len(seg) > 0 {
		last = seg[len(seg)-1]
	}
	rt.err = s.fail(req, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", last), nil)
	return rt
}

// query returns the decoded query parameters of req.
func (req *request) query() url.Values {
	v, err := url.ParseQuery(req.rawQuery)
	if err != nil {
		return url.Values{}
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
