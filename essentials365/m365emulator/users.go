package m365emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// badRequest answers 400 Request_BadRequest with msg.
func (s *Server) badRequest(req *request, msg string) *response {
	return s.fail(req, http.StatusBadRequest, "Request_BadRequest", msg, nil)
}

// rejectParams answers 400 when the request uses a query option outside
// allowed.
func (s *Server) rejectParams(req *request, allowed ...string) *response {
	if p := firstUnsupported(req.query(), allowed...); p != "" {
		return s.fail(req, http.StatusBadRequest, "Request_UnsupportedQuery",
			fmt.Sprintf("The query option '%s' is not supported by this emulator.", p), nil)
	}
	return nil
}

func selectContext(base, set, selRaw string) string {
	if selRaw == "" {
		return base + "/$metadata#" + set
	}
	return base + "/$metadata#" + set + "(" + selRaw + ")"
}

// listUsers serves GET /users with $select, $filter, $top, $count and
// $skiptoken.
func (s *Server) listUsers(ctx context.Context, req *request, _ string) *response {
	if r := s.rejectParams(req, "$select", "$filter", "$top", "$skiptoken", "$count"); r != nil {
		return r
	}
	q := req.query()
	counted, bad := s.countOption(req)
	if bad != nil {
		return bad
	}
	selRaw := q.Get("$select")
	sel, err := parseSelect(selRaw)
	if err != nil {
		return s.fail(req, http.StatusBadRequest, "BadRequest", err.Error(), nil)
	}
	top, offset, size, bad := s.paging(req)
	if bad != nil {
		return bad
	}
	match := func(backend.OnlineUser) bool { return true }
	var direct []backend.OnlineUser // set when the filter is a direct lookup
	isDirect := false
	if raw := q.Get("$filter"); raw != "" {
		f, err := parseFilter(raw)
		if err != nil {
			code := "BadRequest"
			if fe, ok := err.(*filterError); ok && fe.unsupported {
				code = "Request_UnsupportedQuery"
			}
			return s.fail(req, http.StatusBadRequest, code, err.Error(), nil)
		}
		if direct, isDirect, err = s.lookupUsers(ctx, f); err != nil {
			return s.errorResponse(req, route{family: "users"}, err)
		}
		if !isDirect {
			match = f.match
		}
	}
	var page []backend.OnlineUser
	more := false
	total := 0 // the users matching, counted for $count
	if isDirect {
		if offset < len(direct) {
			page = direct[offset:]
		}
		total = len(direct)
	} else if page, more, total, err = s.scanUsers(ctx, match, offset, top, counted); err != nil {
		return s.errorResponse(req, route{family: "users"}, err)
	}
	values := make([]map[string]any, 0, len(page))
	for _, u := range page {
		values = append(values, s.userJSON(ctx, u, sel))
	}
	c := collection{Context: selectContext(req.base, "users", selRaw), Value: values}
	if counted {
		c.Count = &total
	}
	if more {
		c.NextLink = link(req.base, "/users",
			"$select", selRaw, "$filter", q.Get("$filter"), "$top", q.Get("$top"), "$count", q.Get("$count"),
			"$skiptoken", pageToken{Offset: offset + len(page), Size: size}.encode())
	}
	resp := &response{status: http.StatusOK, body: c}
	if n := maxPageSize(req.header); n > 0 && q.Get("$top") == "" {
		resp.setHeader("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(n))
	}
	return resp
}

// lookupUsers serves a filter that names one user (userPrincipalName or
// id eq, onPremisesImmutableId eq) with a lookup: it returns the users
// found (none or one) and ok; a filter of another kind returns !ok.
func (s *Server) lookupUsers(ctx context.Context, f userFilter) (users []backend.OnlineUser, ok bool, err error) {
	switch {
	case f.op == "eq" && (f.prop == "userPrincipalName" || f.prop == "id"):
		u, err := s.tenant.GetUser(ctx, f.value)
		if err == nil && (strings.EqualFold(u.UserPrincipalName, f.value) && f.prop == "userPrincipalName" ||
			strings.EqualFold(u.ID, f.value) && f.prop == "id") {
			users = append(users, u)
		} else if err != nil && backend.KindOf(err) != backend.NotFound {
			return nil, true, err
		}
		return users, true, nil
	case f.op == "eq" && f.prop == "onPremisesImmutableId":
		u, err := s.tenant.GetUserByImmutableID(ctx, f.value)
		if err == nil {
			users = append(users, u)
		} else if backend.KindOf(err) != backend.NotFound {
			return nil, true, err
		}
		return users, true, nil
	}
	return nil, false, nil
}

// scanUsers lists the tenant's users that match, skipping offset of them,
// and returns at most top, with more set when others follow; with count
// it reads on to return in total how many match.
func (s *Server) scanUsers(ctx context.Context, match func(backend.OnlineUser) bool, offset, top int, count bool) (page []backend.OnlineUser, more bool, total int, err error) {
	for u, err := range s.tenant.ListUsers(ctx) {
		if err != nil {
			return nil, false, 0, err
		}
		if !match(u) {
			continue
		}
		total++
		if total <= offset {
			continue
		}
		if len(page) == top {
			more = true
			if !count {
				return page, more, total, nil
			}
			continue // read on to count every match
		}
		page = append(page, u)
	}
	return page, more, total, nil
}

func (f userFilter) match(u backend.OnlineUser) bool {
	var v string
	switch f.prop {
	case "userPrincipalName":
		v = u.UserPrincipalName
	case "displayName":
		v = u.DisplayName
	case "mail":
		v = u.Mail
	case "id":
		v = u.ID
	case "onPremisesImmutableId":
		v = u.ImmutableID
	}
	if f.op == "startswith" {
		return len(v) >= len(f.value) && strings.EqualFold(v[:len(f.value)], f.value)
	}
	if f.prop == "onPremisesImmutableId" {
		return v == f.value
	}
	return strings.EqualFold(v, f.value)
}

// entity renders one user answer with its @odata.context.
func (s *Server) entity(ctx context.Context, req *request, u backend.OnlineUser, selRaw string, sel []string) map[string]any {
	m := s.userJSON(ctx, u, sel)
	m["@odata.context"] = selectContext(req.base, "users", selRaw) + "/$entity"
	return m
}

func (s *Server) getUser(ctx context.Context, req *request, key string) *response {
	if r := s.rejectParams(req, "$select"); r != nil {
		return r
	}
	selRaw := req.query().Get("$select")
	sel, err := parseSelect(selRaw)
	if err != nil {
		return s.fail(req, http.StatusBadRequest, "BadRequest", err.Error(), nil)
	}
	u, err := s.tenant.GetUser(ctx, key)
	if err != nil {
		return s.errorResponse(req, route{family: "users", key: key}, err)
	}
	return &response{status: http.StatusOK, body: s.entity(ctx, req, u, selRaw, sel)}
}

// resolveID turns a userPrincipalName in a URL into the object id the
// backend addresses writes with.
func (s *Server) resolveID(ctx context.Context, key string) (string, error) {
	if !strings.Contains(key, "@") {
		return key, nil
	}
	u, err := s.tenant.GetUser(ctx, key)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// userBody is a decoded user object from a POST or PATCH body.
type userBody map[string]json.RawMessage

// decodeUserBody decodes body and checks every property is one the
// emulator can store (allowed); "@odata.type" is always accepted.
func decodeUserBody(body []byte, allowed ...string) (userBody, string) {
	var m userBody
	if err := decodeJSON(body, &m); err != nil || m == nil {
		return nil, msgInvalidJSON
	}
	for k := range m {
		if k == "@odata.type" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return nil, fmt.Sprintf("Property '%s' is not supported by this emulator on type 'microsoft.graph.user'.", k)
		}
	}
	return m, ""
}

// str decodes a string property; null is "".
func (b userBody) str(k string) (string, bool, error) {
	raw, ok := b[k]
	if !ok {
		return "", false, nil
	}
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", true, graphMessage(fmt.Sprintf("Invalid value specified for property '%s' of resource 'User'.", k))
	}
	if v == nil {
		return "", true, nil
	}
	return *v, true, nil
}

func (b userBody) boolean(k string) (bool, bool, error) {
	raw, ok := b[k]
	if !ok {
		return false, false, nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, true, graphMessage(fmt.Sprintf("Invalid value specified for property '%s' of resource 'User'.", k))
	}
	return v, true, nil
}

type wirePasswordProfile struct {
	Password                             *string `json:"password"`
	ForceChangePasswordNextSignIn        bool    `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa bool    `json:"forceChangePasswordNextSignInWithMfa"`
	OdataType                            string  `json:"@odata.type"`
}

func (b userBody) passwordProfile() (*wirePasswordProfile, error) {
	raw, ok := b["passwordProfile"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var p wirePasswordProfile
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, graphMessage("Invalid value specified for property 'passwordProfile' of resource 'User'.")
	}
	return &p, nil
}

// createUser serves POST /users: 201 with the user.
func (s *Server) createUser(ctx context.Context, req *request, _ string) *response {
	b, msg := decodeUserBody(req.body, "accountEnabled", "displayName", "givenName", "surname", "mailNickname", "userPrincipalName",
		"passwordProfile", "usageLocation", "onPremisesImmutableId")
	if msg != "" {
		return s.badRequest(req, msg)
	}
	var nu backend.NewOnlineUser
	var missing string
	need := func(k string, present bool, err error) bool {
		if err != nil {
			missing = err.Error()
			return false
		}
		if !present && missing == "" {
			missing = fmt.Sprintf("Invalid value specified for property '%s' of resource 'User'.", k)
		}
		return present
	}
	enabled, ok, err := b.boolean("accountEnabled")
	need("accountEnabled", ok, err)
	nu.Disabled = !enabled
	nu.DisplayName, ok, err = b.str("displayName")
	need("displayName", ok && nu.DisplayName != "", err)
	nu.MailNickname, ok, err = b.str("mailNickname")
	need("mailNickname", ok && nu.MailNickname != "", err)
	nu.UserPrincipalName, ok, err = b.str("userPrincipalName")
	need("userPrincipalName", ok && nu.UserPrincipalName != "", err)
	pp, err := b.passwordProfile()
	need("passwordProfile", pp != nil && pp.Password != nil, err)
	if pp != nil && pp.Password != nil {
		nu.Password = *pp.Password
		nu.ForceChangePassword = pp.ForceChangePasswordNextSignIn
	}
	nu.GivenName, _, err = b.str("givenName")
	need("givenName", true, err)
	nu.Surname, _, err = b.str("surname")
	need("surname", true, err)
	nu.UsageLocation, _, err = b.str("usageLocation")
	need("usageLocation", true, err)
	nu.ImmutableID, _, err = b.str("onPremisesImmutableId")
	need("onPremisesImmutableId", true, err)
	if missing != "" {
		return s.badRequest(req, missing)
	}
	u, err := s.tenant.CreateUser(ctx, nu)
	if err != nil {
		return s.errorResponse(req, route{family: "users", key: nu.UserPrincipalName}, err)
	}
	return &response{status: http.StatusCreated, body: s.entity(ctx, req, u, "", userDefault)}
}

// updateUser serves PATCH /users/{id}: 204.
func (s *Server) updateUser(ctx context.Context, req *request, key string) *response {
	b, msg := decodeUserBody(req.body, "accountEnabled", "displayName", "usageLocation",
		"onPremisesImmutableId", "passwordProfile")
	if msg != "" {
		return s.badRequest(req, msg)
	}
	var upd backend.OnlineUserUpdate
	if v, ok, err := b.boolean("accountEnabled"); err != nil {
		return s.badRequest(req, err.Error())
	} else if ok {
		upd.AccountEnabled = &v
	}
	for _, f := range []struct {
		prop string
		dst  **string
	}{{"displayName", &upd.DisplayName}, {"usageLocation", &upd.UsageLocation}, {"onPremisesImmutableId", &upd.ImmutableID}} {
		v, ok, err := b.str(f.prop)
		if err != nil {
			return s.badRequest(req, err.Error())
		}
		if ok {
			*f.dst = &v
		}
	}
	pp, err := b.passwordProfile()
	if err != nil {
		return s.badRequest(req, err.Error())
	}
	if pp != nil {
		if pp.Password == nil {
			return s.badRequest(req, "Invalid value specified for property 'passwordProfile.password' of resource 'User'.")
		}
		upd.Password = &backend.PasswordProfile{Password: *pp.Password, ForceChangePassword: pp.ForceChangePasswordNextSignIn}
	}
	rt := route{family: "users", key: key}
	id, err := s.resolveID(ctx, key)
	if err != nil {
		return s.errorResponse(req, rt, err)
	}
	if err := s.tenant.UpdateUser(ctx, id, upd); err != nil {
		return s.errorResponse(req, rt, err)
	}
	return &response{status: http.StatusNoContent}
}

// deleteUser serves DELETE /users/{id}: 204.
func (s *Server) deleteUser(ctx context.Context, req *request, key string) *response {
	rt := route{family: "users", key: key}
	id, err := s.resolveID(ctx, key)
	if err != nil {
		return s.errorResponse(req, rt, err)
	}
	if err := s.tenant.DeleteUser(ctx, id); err != nil {
		return s.errorResponse(req, rt, err)
	}
	return &response{status: http.StatusNoContent}
}

// assignLicense serves POST /users/{id}/assignLicense: 200 with the user.
func (s *Server) assignLicense(ctx context.Context, req *request, key string) *response {
	var body struct {
		AddLicenses []struct {
			SKUID         string   `json:"skuId"`
			DisabledPlans []string `json:"disabledPlans"`
		} `json:"addLicenses"`
		RemoveLicenses []string `json:"removeLicenses"`
	}
	if err := decodeJSON(req.body, &body); err != nil {
		return s.badRequest(req, msgInvalidJSON)
	}
	add := make([]backend.LicenseAssignment, 0, len(body.AddLicenses))
	for _, l := range body.AddLicenses {
		if l.SKUID == "" {
			return s.badRequest(req, "Invalid value specified for property 'skuId' of resource 'AssignedLicense'.")
		}
		add = append(add, backend.LicenseAssignment{SKUID: l.SKUID, DisabledPlans: l.DisabledPlans})
	}
	rt := route{family: "users", key: key}
	id, err := s.resolveID(ctx, key)
	if err != nil {
		return s.errorResponse(req, rt, err)
	}
	u, err := s.tenant.AssignLicenses(ctx, id, add, body.RemoveLicenses)
	if err != nil {
		return s.errorResponse(req, rt, err)
	}
	return &response{status: http.StatusOK, body: s.entity(ctx, req, u, "", userDefault)}
}

// usersDelta serves GET /users/delta() (https://learn.microsoft.com/graph/api/user-delta).
// The $skiptoken and $deltatoken carry the tenant's watermark (see
// [backend.Tenant] Changes), the round's $select and page size. $top is
// accepted and ignored, as Graph ignores it on users/delta; "Prefer:
// odata.maxpagesize=n" bounds the pages when the tenant implements
// [backend.PagedChanges].
func (s *Server) usersDelta(ctx context.Context, req *request, _ string) *response {
	if r := s.rejectParams(req, "$select", "$skiptoken", "$deltatoken", "$top"); r != nil {
		return r
	}
	q := req.query()
	var tok pageToken
	tok.Select = q.Get("$select")
	for _, name := range []string{"$skiptoken", "$deltatoken"} {
		if raw := q.Get(name); raw != "" {
			t, err := decodeToken(raw)
			if err != nil {
				return s.fail(req, http.StatusBadRequest, "Directory_ExpiredPageToken", err.Error(), nil)
			}
			tok = t
		}
	}
	sel, err := parseSelect(tok.Select)
	if err != nil {
		return s.fail(req, http.StatusBadRequest, "BadRequest", err.Error(), nil)
	}
	if !containsStr(sel, "id") {
		sel = append(sel[:len(sel):len(sel)], "id") // delta always returns id
	}
	var applied bool
	if n := maxPageSize(req.header); n > 0 {
		tok.Size, applied = n, true
	}
	var ch backend.TenantChanges
	if pc, ok := s.tenant.(backend.PagedChanges); ok && tok.Size > 0 {
		ch, err = pc.ChangesMax(ctx, tok.Watermark, tok.Size)
	} else {
		applied = false
		ch, err = s.tenant.Changes(ctx, tok.Watermark)
	}
	if err != nil {
		return s.errorResponse(req, route{family: "users"}, err)
	}
	values := make([]map[string]any, 0, len(ch.Changes))
	for _, c := range ch.Changes {
		if c.Type == backend.Deleted {
			reason := "changed"
			if c.Permanent {
				reason = "deleted"
			}
			values = append(values, map[string]any{"id": c.User.ID, "@removed": map[string]any{"reason": reason}})
			continue
		}
		values = append(values, s.userJSON(ctx, c.User, sel))
	}
	next := pageToken{Watermark: ch.Watermark, Select: tok.Select, Size: tok.Size}.encode()
	c := collection{Context: selectContext(req.base, "users", tok.Select), Value: values}
	path := s.opts.DeltaLinks.path()
	if ch.More {
		c.NextLink = link(req.base, path, "$skiptoken", next)
	} else {
		c.DeltaLink = link(req.base, path, "$deltatoken", next)
	}
	resp := &response{status: http.StatusOK, body: c}
	if applied {
		resp.setHeader("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(tok.Size))
	}
	return resp
}

// maxPageSize reads "odata.maxpagesize=n" from the Prefer headers
// (https://learn.microsoft.com/graph/paging); 0 when absent or invalid.
func maxPageSize(h http.Header) int {
	for _, v := range h.Values("Prefer") {
		for _, pref := range strings.Split(v, ",") {
			name, val, ok := strings.Cut(strings.TrimSpace(pref), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "odata.maxpagesize") {
				continue
			}
			if n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`)); err == nil && n > 0 {
				return min(n, 999)
			}
		}
	}
	return 0
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// listDeletedUsers serves GET /directory/deletedItems/microsoft.graph.user.
func (s *Server) listDeletedUsers(ctx context.Context, req *request, _ string) *response {
	if r := s.rejectParams(req, "$select", "$top", "$skiptoken"); r != nil {
		return r
	}
	q := req.query()
	selRaw := q.Get("$select")
	sel, err := parseSelect(selRaw)
	if err != nil {
		return s.fail(req, http.StatusBadRequest, "BadRequest", err.Error(), nil)
	}
	if selRaw == "" {
		sel = append(sel[:len(sel):len(sel)], "deletedDateTime")
	}
	top, offset, size, bad := s.paging(req)
	if bad != nil {
		return bad
	}
	users, err := s.tenant.ListDeletedUsers(ctx)
	if err != nil {
		return s.errorResponse(req, route{family: "users"}, err)
	}
	users = users[min(offset, len(users)):]
	more := len(users) > top
	if more {
		users = users[:top]
	}
	values := make([]map[string]any, 0, len(users))
	for _, u := range users {
		values = append(values, s.userJSON(ctx, u, sel))
	}
	c := collection{Context: req.base + "/$metadata#directoryObjects/microsoft.graph.user", Value: values}
	if more {
		c.NextLink = link(req.base, "/directory/deletedItems/microsoft.graph.user",
			"$select", selRaw, "$top", q.Get("$top"), "$skiptoken", pageToken{Offset: offset + len(users), Size: size}.encode())
	}
	return &response{status: http.StatusOK, body: c}
}

// restoreUser serves POST /directory/deletedItems/{id}/restore: 200 with
// the restored user as a directoryObject.
func (s *Server) restoreUser(ctx context.Context, req *request, key string) *response {
	u, err := s.tenant.RestoreUser(ctx, key)
	if err != nil {
		return s.errorResponse(req, route{family: "users", key: key}, err)
	}
	m := s.userJSON(ctx, u, userDefault)
	m["@odata.context"] = req.base + "/$metadata#directoryObjects/$entity"
	m["@odata.type"] = "#microsoft.graph.user"
	return &response{status: http.StatusOK, body: m}
}

// paging reads $top, $skiptoken and "Prefer: odata.maxpagesize=n"
// (https://learn.microsoft.com/graph/paging): the page size is $top, else
// the size carried by the skiptoken, else the preference, else the
// server's page size. size is what the next link must carry (0 when $top
// does it). bad is the error answer when either is malformed.
func (s *Server) paging(req *request) (top, offset, size int, bad *response) {
	q := req.query()
	top, err := parseTop(q.Get("$top"), s.opts.PageSize)
	if err != nil {
		return 0, 0, 0, s.badRequest(req, err.Error())
	}
	if raw := q.Get("$skiptoken"); raw != "" {
		tok, err := decodeToken(raw)
		if err != nil {
			return 0, 0, 0, s.fail(req, http.StatusBadRequest, "Directory_ExpiredPageToken", err.Error(), nil)
		}
		offset, size = tok.Offset, tok.Size
	}
	if q.Get("$top") != "" {
		return top, offset, 0, nil
	}
	if n := maxPageSize(req.header); n > 0 {
		size = n
	}
	if size > 0 {
		top = size
	}
	return top, offset, size, nil
}

// countOption reads $count on a directory list. "$count=true" with the
// header "ConsistencyLevel: eventual" asks for @odata.count; without the
// header Graph answers as if $count were absent ("Advanced query
// capabilities on Microsoft Entra ID objects",
// https://learn.microsoft.com/graph/aad-advanced-queries: GET
// /users?$count=true alone "fails silently", with no @odata.count).
// Values other than true and false are 400.
func (s *Server) countOption(req *request) (bool, *response) {
	raw := req.query().Get("$count")
	switch {
	case raw == "" || strings.EqualFold(raw, "false"):
		return false, nil
	case strings.EqualFold(raw, "true"):
		return strings.EqualFold(strings.TrimSpace(req.header.Get("ConsistencyLevel")), "eventual"), nil
	}
	return false, s.fail(req, http.StatusBadRequest, "BadRequest",
		fmt.Sprintf("Invalid value '%s' for the query option '$count': use true or false.", raw), nil)
}
