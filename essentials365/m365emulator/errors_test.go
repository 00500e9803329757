package m365emulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares the tenant and returns the request to send.
		setup      func(f *fixture) (method, path string, body any)
		status     int
		code       string
		message    string // exact, when set
		reason     string // the emulator-extension detail, when set
		conflict   string // the ObjectConflict target, when set
		retryAfter string
		opts       m365emulator.Options
		noDetails  bool // the answer has no error.details
	}{
		{
			name: "not found",
			setup: func(f *fixture) (string, string, any) {
				return http.MethodGet, "/v1.0/users/4a6c8d0e-0000-4000-8000-000000000000", nil
			},
			status:  404,
			code:    "Request_ResourceNotFound",
			message: "Resource '4a6c8d0e-0000-4000-8000-000000000000' does not exist or one of its queried reference-property objects are not present.",
		},
		{
			name: "already exists",
			setup: func(f *fixture) (string, string, any) {
				f.addUser("adele", "Adele Vance")
				return http.MethodPost, "/v1.0/users", newUserBody("adele")
			},
			status:   400,
			code:     "Request_BadRequest",
			message:  "Another object with the same value for property userPrincipalName already exists.",
			conflict: "userPrincipalName",
		},
		{
			name: "already exists, without details",
			setup: func(f *fixture) (string, string, any) {
				f.addUser("adele", "Adele Vance")
				return http.MethodPost, "/v1.0/users", newUserBody("adele")
			},
			opts:      m365emulator.Options{Conflicts: m365emulator.ConflictsWithoutDetails},
			status:    400,
			code:      "Request_BadRequest",
			message:   "A conflicting object with one or more of the specified property values is present in the directory.",
			noDetails: true,
		},
		{
			name: "invalid argument",
			setup: func(f *fixture) (string, string, any) {
				b := newUserBody("x")
				b["userPrincipalName"] = "x@unknown.example"
				return http.MethodPost, "/v1.0/users", b
			},
			status: 400,
			code:   "Request_BadRequest",
			reason: string(backend.ReasonUPNDomainUnknown),
		},
		{
			name: "failed precondition: no usage location",
			setup: func(f *fixture) (string, string, any) {
				u := f.addUser("nolo", "No Location")
				return http.MethodPost, "/v1.0/users/" + u.ID + "/assignLicense",
					map[string]any{"addLicenses": []any{map[string]any{"skuId": e3SKUID}}, "removeLicenses": []string{}}
			},
			status: 400,
			code:   "Request_BadRequest",
			reason: string(backend.ReasonUsageLocationRequired),
		},
		{
			name: "permission denied",
			setup: func(f *fixture) (string, string, any) {
				f.tenant.FailNext("SubscribedSKUs", 1, backend.Errorf(backend.PermissionDenied, "", "", ""))
				return http.MethodGet, "/v1.0/subscribedSkus", nil
			},
			status: 403,
			code:   "Authorization_RequestDenied",
		},
		{
			name: "throttled",
			setup: func(f *fixture) (string, string, any) {
				f.tenant.FailNext("Domains", 1, &backend.Error{Kind: backend.Throttled, RetryAfter: 2500 * time.Millisecond})
				return http.MethodGet, "/v1.0/domains", nil
			},
			status:     429,
			code:       "TooManyRequests",
			retryAfter: "3",
		},
		{
			name: "unavailable",
			setup: func(f *fixture) (string, string, any) {
				f.tenant.FailNext("ListUsers", 1, backend.Errorf(backend.Unavailable, "", "", "backend down"))
				return http.MethodGet, "/v1.0/users", nil
			},
			status: 503,
			code:   "serviceNotAvailable",
		},
		{
			name: "unknown",
			setup: func(f *fixture) (string, string, any) {
				f.tenant.FailNext("Organization", 1, assert.AnError)
				return http.MethodGet, "/v1.0/organization", nil
			},
			status: 500,
			code:   "InternalServerError",
		},
		{
			name: "missing required property",
			setup: func(f *fixture) (string, string, any) {
				return http.MethodPost, "/v1.0/users", map[string]any{"displayName": "x"}
			},
			status: 400, code: "Request_BadRequest",
		},
		{
			name:   "invalid json",
			setup:  func(f *fixture) (string, string, any) { return http.MethodPatch, "/v1.0/users/x", []byte("{") },
			status: 400, code: "Request_BadRequest",
			message: "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
		},
		{
			name:   "unknown segment",
			setup:  func(f *fixture) (string, string, any) { return http.MethodGet, "/v1.0/groups", nil },
			status: 400, code: "BadRequest", message: "Resource not found for the segment 'groups'.",
		},
		{
			name:   "method not allowed",
			setup:  func(f *fixture) (string, string, any) { return http.MethodPut, "/v1.0/users", nil },
			status: 405, code: "Request_BadRequest",
		},
		{
			name:   "invalid version",
			setup:  func(f *fixture) (string, string, any) { return http.MethodGet, "/beta/users", nil },
			status: 400, code: "BadRequest", message: "Invalid version: beta",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.reason != "" {
				// Off by default: the answer is Graph's, without the
				// emulator-only detail.
				f := newFixture(t, &tc.opts)
				method, path, body := tc.setup(f)
				r := f.do(method, path, body)
				require.Equal(t, tc.status, r.Status, "%s", r.Raw)
				assert.NotContains(t, details(r), m365emulator.ReasonTarget)
				tc.opts.ReasonDetail = true
			}
			f := newFixture(t, &tc.opts)
			method, path, body := tc.setup(f)
			r := f.do(method, path, body, "client-request-id", "c1d2e3f4-0000-4000-8000-000000000001")
			require.Equal(t, tc.status, r.Status, "%s", r.Raw)
			code, msg := graphError(t, r)
			assert.Equal(t, tc.code, code)
			if tc.message != "" {
				assert.Equal(t, tc.message, msg)
			}
			d := details(r)
			if tc.noDetails {
				assert.NotContains(t, r.JSON["error"], "details")
			}
			if tc.reason != "" {
				assert.Equal(t, tc.reason, d[m365emulator.ReasonTarget])
			}
			if tc.conflict != "" {
				assert.Equal(t, "ObjectConflict", d[tc.conflict])
			}
			if tc.retryAfter != "" {
				assert.Equal(t, tc.retryAfter, r.Header.Get("Retry-After"))
			}
			inner := r.JSON["error"].(map[string]any)["innerError"].(map[string]any)
			assert.Equal(t, "2025-03-14T09:26:53Z", inner["date"])
			assert.Equal(t, "c1d2e3f4-0000-4000-8000-000000000001", inner["client-request-id"])
			assert.Equal(t, r.Header.Get("request-id"), inner["request-id"])
		})
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		opts   m365emulator.Options
		token  string
		status int
	}{
		{"any token by default", m365emulator.Options{}, "", 200},
		{"required and missing", m365emulator.Options{RequireAuth: true}, "", 401},
		{"required and present", m365emulator.Options{RequireAuth: true}, "anything", 200},
		{"fixed token, wrong", m365emulator.Options{Token: "s3cret"}, "other", 401},
		{"fixed token, missing", m365emulator.Options{Token: "s3cret"}, "", 401},
		{"fixed token, right", m365emulator.Options{Token: "s3cret"}, "s3cret", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, &tc.opts)
			f.token = tc.token
			r := f.do(http.MethodGet, "/v1.0/organization", nil)
			require.Equal(t, tc.status, r.Status, "%s", r.Raw)
			if tc.status == 401 {
				code, _ := graphError(t, r)
				assert.Equal(t, "InvalidAuthenticationToken", code)
			}
		})
	}
}
