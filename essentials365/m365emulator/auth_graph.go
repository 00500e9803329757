package m365emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// This file connects an [Authority] to the Graph [Server]: token
// validation, the application permission each route needs, the
// application's own secrets (addPassword, removePassword) and the
// organization's directory-sync state.

// authorize validates the bearer token when Options.Authority is set.
func (s *Server) authorize(req *request, token string, hasToken bool) *response {
	a := s.opts.Authority
	if a == nil {
		return nil
	}
	if !hasToken {
		return s.fail(req, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.", nil)
	}
	c, msg := a.validate(token)
	if msg != "" {
		return s.fail(req, http.StatusUnauthorized, "InvalidAuthenticationToken", msg, nil)
	}
	req.appID = c.AppID
	return nil
}

// Permissions accepted per kind of request, least privileged first.
var (
	permUsersRead    = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUsersWrite   = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	permPassword     = []string{"User-PasswordProfile.ReadWrite.All"}
	permLicenseWrite = []string{"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
	permSKUsRead     = []string{"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", "Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permOrgRead      = []string{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permDomainsRead  = []string{"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permDomainsWrite = []string{"Domain.ReadWrite.All", "Directory.ReadWrite.All"}
	permApplications = []string{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"}
)

// needs returns the permissions a request needs: each inner list is one
// need that any of its permissions satisfies.
func needs(req *request, rt route) [][]string {
	switch rt.family {
	case "users":
		switch {
		case strings.HasSuffix(rt.name, "/assignLicense"):
			return [][]string{permLicenseWrite}
		case !rt.write:
			return [][]string{permUsersRead}
		case req.method == http.MethodPatch:
			var body map[string]json.RawMessage
			_ = json.Unmarshal(req.body, &body)
			var out [][]string
			if _, ok := body["passwordProfile"]; ok {
				out = append(out, permPassword)
				delete(body, "passwordProfile")
			}
			if len(body) > 0 || len(out) == 0 {
				out = append(out, permUsersWrite)
			}
			return out
		}
		return [][]string{permUsersWrite}
	case "skus":
		return [][]string{permSKUsRead}
	case "organization":
		return [][]string{permOrgRead}
	case "domains":
		if rt.write {
			return [][]string{permDomainsWrite}
		}
		return [][]string{permDomainsRead}
	case "applications":
		return [][]string{permApplications}
	}
	return nil
}

// authorizeRoute refuses a request whose permission is not granted to the
// calling application (403 Authorization_RequestDenied), when
// Options.Authority is set.
func (s *Server) authorizeRoute(req *request, rt route) *response {
	a := s.opts.Authority
	if a == nil || rt.fn == nil || rt.batch {
		return nil
	}
	roles := a.rolesOf(req.appID)
	for _, need := range needs(req, rt) {
		if !slices.ContainsFunc(need, func(p string) bool {
			return slices.ContainsFunc(roles, func(r string) bool { return strings.EqualFold(r, p) })
		}) {
			return s.fail(req, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", nil)
		}
	}
	return nil
}

// applicationRoute matches the application routes:
//
//	POST /applications/{id}/addPassword, /applications(appId='{appId}')/addPassword
//	POST /applications/{id}/removePassword, /applications(appId='{appId}')/removePassword
func (s *Server) applicationRoute(req *request, seg []string) (route, bool) {
	var key, action string
	switch {
	case len(seg) == 2 && strings.HasPrefix(seg[0], "applications(appId="):
		key = strings.Trim(strings.TrimSuffix(strings.TrimPrefix(seg[0], "applications(appId="), ")"), "'")
		action = seg[1]
	case len(seg) == 3 && seg[0] == "applications":
		key, action = seg[1], seg[2]
	default:
		return route{}, false
	}
	if action != "addPassword" && action != "removePassword" {
		return route{}, false
	}
	rt := route{name: req.method + " /applications/{id}/" + action, family: "applications", key: key, write: true, ru: 1}
	if req.method != http.MethodPost {
		rt.err = s.fail(req, http.StatusMethodNotAllowed, "Request_BadRequest", "The HTTP method '"+req.method+"' is not allowed on the resource '"+req.path+"'.", nil)
		return rt, true
	}
	if action == "addPassword" {
		rt.fn = func(ctx context.Context, r *request) *response { return s.addPassword(r, key) }
	} else {
		rt.fn = func(ctx context.Context, r *request) *response { return s.removePassword(r, key) }
	}
	return rt, true
}

// application finds the application named by key (client id or object id)
// and checks that the caller may change it.
func (s *Server) application(req *request, key string) (*authApp, *response) {
	a := s.opts.Authority
	if a == nil {
		return nil, s.fail(req, http.StatusNotImplemented, "NotImplemented", "This emulator serves applications only with an Authority (Options.Authority).", nil)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, app := range a.apps {
		if strings.EqualFold(app.clientID, key) || strings.EqualFold(app.objectID, key) {
			if !strings.EqualFold(app.clientID, req.appID) && !slices.ContainsFunc(app.roles, func(r string) bool { return strings.EqualFold(r, "Application.ReadWrite.All") }) {
				return nil, s.fail(req, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", nil)
			}
			return app, nil
		}
	}
	return nil, s.fail(req, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+key+"' does not exist or one of its queried reference-property objects are not present.", nil)
}

func (s *Server) addPassword(req *request, key string) *response {
	var body struct {
		PasswordCredential struct {
			DisplayName string    `json:"displayName"`
			EndDateTime time.Time `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	if len(req.body) > 0 {
		if err := json.Unmarshal(req.body, &body); err != nil {
			return s.fail(req, http.StatusBadRequest, "Request_BadRequest", "Invalid JSON in the request body: "+err.Error(), nil)
		}
	}
	app, resp := s.application(req, key)
	if resp != nil {
		return resp
	}
	a := s.opts.Authority
	a.mu.Lock()
	sec := a.addSecretLocked(app, body.PasswordCredential.DisplayName, body.PasswordCredential.EndDateTime)
	a.mu.Unlock()
	return &response{status: http.StatusOK, body: map[string]any{
		"@odata.context":      req.base + "/$metadata#microsoft.graph.passwordCredential",
		"customKeyIdentifier": nil, "displayName": sec.DisplayName, "hint": sec.Hint, "keyId": sec.KeyID,
		"secretText": sec.Text, "startDateTime": sec.Start.Format(time.RFC3339), "endDateTime": sec.End.Format(time.RFC3339),
	}}
}

func (s *Server) removePassword(req *request, key string) *response {
	var body struct {
		KeyID string `json:"keyId"`
	}
	if err := decodeJSON(req.body, &body); err != nil || body.KeyID == "" {
		return s.fail(req, http.StatusBadRequest, "Request_BadRequest", "The keyId of the password credential to remove is required.", nil)
	}
	app, resp := s.application(req, key)
	if resp != nil {
		return resp
	}
	if err := s.opts.Authority.RemoveClientSecret(app.clientID, body.KeyID); err != nil {
		return s.fail(req, http.StatusBadRequest, "Request_BadRequest", "No password credential found with keyId '"+body.KeyID+"'.", nil)
	}
	return &response{status: http.StatusNoContent}
}

// organizationSync fills organization.onPremisesSyncEnabled and
// onPremisesLastSyncDateTime from a tenant that reports them
// (backend.TenantRequirements); Graph sends null when the tenant was never
// synchronized.
func (s *Server) organizationSync(ctx context.Context, w *wireOrganization) {
	tr, ok := s.tenant.(backend.TenantRequirements)
	if !ok {
		return
	}
	f, err := tr.RequirementFacts(ctx)
	if err != nil {
		return
	}
	if f.OnPremisesSyncEnabled {
		w.OnPremisesSyncEnabled = &f.OnPremisesSyncEnabled
	}
	if !f.OnPremisesLastSync.IsZero() {
		t := f.OnPremisesLastSync.UTC().Format(time.RFC3339)
		w.OnPremisesLastSyncDateTime = &t
	}
}
