package m365emulator_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenCase is one pinned exchange.
type goldenCase struct {
	name         string
	method, path string
	body         any
	// doc is the Microsoft document the answer's shape follows; it is
	// written into the golden file.
	doc string
}

// goldenRun seeds a tenant, sends every golden case in order and returns
// the normalized answers by name.
func goldenRun(t *testing.T) map[string]any {
	t.Helper()
	f := newFixture(t, nil)
	imm := backend.GUID{0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}.ImmutableID()
	adele := f.addUser("adele", "Adele Vance", func(nu *backend.NewOnlineUser) {
		nu.UsageLocation = "US"
		nu.ImmutableID = imm
	})
	alex := f.addUser("alex", "Alex Wilber")
	gone := f.addUser("gone", "Gone User")
	_, err := f.tenant.AssignLicenses(t.Context(), adele.ID, []backend.LicenseAssignment{{SKUID: e3SKUID}}, nil)
	require.NoError(t, err)
	_, err = f.tenant.AddDomain(t.Context(), "fabrikam.com")
	require.NoError(t, err)
	require.NoError(t, f.tenant.DeleteUser(t.Context(), gone.ID))

	ids := map[string]string{adele.ID: "<id:adele>", alex.ID: "<id:alex>", gone.ID: "<id:gone>"}
	lic := map[string]any{"addLicenses": []any{map[string]any{"skuId": e3SKUID, "disabledPlans": []string{e3PlanSPO}}}, "removeLicenses": []string{}}
	cases := []goldenCase{
		{"users_list", "GET", "/v1.0/users?$top=1", nil, "https://learn.microsoft.com/graph/api/user-list"},
		{"users_list_select", "GET", "/v1.0/users?$select=id,userPrincipalName,accountEnabled,usageLocation,assignedLicenses,onPremisesImmutableId&$filter=" +
			url.QueryEscape("onPremisesImmutableId eq '"+imm+"'"), nil, "https://learn.microsoft.com/graph/api/user-list"},
		{"users_get", "GET", "/v1.0/users/adele@contoso.com", nil, "https://learn.microsoft.com/graph/api/user-get"},
		{"users_create", "POST", "/v1.0/users", newUserBody("nestor"), "https://learn.microsoft.com/graph/api/user-post-users"},
		{"users_update", "PATCH", "/v1.0/users/alex@contoso.com", map[string]any{"usageLocation": "GB"}, "https://learn.microsoft.com/graph/api/user-update"},
		{"users_assign_license", "POST", "/v1.0/users/alex@contoso.com/assignLicense", lic, "https://learn.microsoft.com/graph/api/user-assignlicense"},
		{"users_delta", "GET", "/v1.0/users/delta()?$select=displayName,accountEnabled", nil, "https://learn.microsoft.com/graph/api/user-delta"},
		{"deleted_users", "GET", "/v1.0/directory/deletedItems/microsoft.graph.user", nil, "https://learn.microsoft.com/graph/api/directory-deleteditems-list"},
		{"subscribed_skus", "GET", "/v1.0/subscribedSkus", nil, "https://learn.microsoft.com/graph/api/subscribedsku-list"},
		{"organization", "GET", "/v1.0/organization", nil, "https://learn.microsoft.com/graph/api/organization-list"},
		{"domains_list", "GET", "/v1.0/domains", nil, "https://learn.microsoft.com/graph/api/domain-list"},
		{"domains_get", "GET", "/v1.0/domains/contoso.com", nil, "https://learn.microsoft.com/graph/api/domain-get"},
		{"domains_add", "POST", "/v1.0/domains", map[string]any{"id": "northwind.com"}, "https://learn.microsoft.com/graph/api/domain-post-domains"},
		{"domains_verification_dns_records", "GET", "/v1.0/domains/fabrikam.com/verificationDnsRecords", nil, "https://learn.microsoft.com/graph/api/domain-list-verificationdnsrecords"},
		{"domains_service_configuration_records", "GET", "/v1.0/domains/contoso.com/serviceConfigurationRecords", nil, "https://learn.microsoft.com/graph/api/domain-list-serviceconfigurationrecords"},
		{"batch", "POST", "/v1.0/$batch", map[string]any{"requests": []any{
			batchReq("1", "GET", "/users/alex@contoso.com?$select=id,usageLocation", nil),
			batchReq("2", "POST", "/users", newUserBody("adele")),
			batchReq("3", "PATCH", "/users/alex@contoso.com", map[string]any{"displayName": "Alex W."}),
		}}, "https://learn.microsoft.com/graph/json-batching"},
		{"batch_sequential", "POST", "/v1.0/$batch", map[string]any{"requests": []any{
			batchReq("1", "PATCH", "/users/alex@contoso.com", map[string]any{"displayName": "Alex Wilber"}),
			batchReq("2", "GET", "/users/alex@contoso.com?$select=id,displayName", nil, "1"),
			batchReq("3", "POST", "/users", newUserBody("adele"), "2"),
			batchReq("4", "DELETE", "/users/alex@contoso.com", nil, "3"),
		}}, "https://learn.microsoft.com/graph/json-batching"},
		{"error_mixed_batch", "POST", "/v1.0/$batch", map[string]any{"requests": []any{
			batchReq("1", "POST", "/users", newUserBody("nora")),
			batchReq("2", "GET", "/users/nora@contoso.com", nil, "1"),
			batchReq("3", "GET", "/organization", nil),
		}}, "https://learn.microsoft.com/graph/json-batching (400 \"Batch should be either fully sequential or fully parallel\": microsoft-graph-docs issue 16280)"},
		{"users_delta_next", "GET", "<deltaLink>", nil, "https://learn.microsoft.com/graph/delta-query-users"},
		{"error_not_found", "GET", "/v1.0/users/nobody@contoso.com", nil, "https://learn.microsoft.com/graph/errors"},
		{"error_conflict", "POST", "/v1.0/users", newUserBody("adele"), "https://learn.microsoft.com/graph/errors (ObjectConflict detail: microsoft-graph-docs issue 1508)"},
		{"error_invalid_argument", "PATCH", "/v1.0/users/adele@contoso.com", map[string]any{"usageLocation": "XYZ"}, "https://learn.microsoft.com/graph/errors"},
		{"error_no_usage_location", "POST", "/v1.0/users/nestor@contoso.com/assignLicense", lic, "https://learn.microsoft.com/graph/api/user-assignlicense"},
		{"error_unsupported_filter", "GET", "/v1.0/users?$filter=" + url.QueryEscape("jobTitle eq 'CEO'"), nil, "https://learn.microsoft.com/graph/aad-advanced-queries"},
		{"error_verify_missing_record", "POST", "/v1.0/domains/fabrikam.com/verify", nil, "https://learn.microsoft.com/graph/api/domain-verify"},
		{"error_throttled", "GET", "/v1.0/organization", nil, "https://learn.microsoft.com/graph/throttling"},
		{"restore", "POST", "/v1.0/directory/deletedItems/" + gone.ID + "/restore", nil, "https://learn.microsoft.com/graph/api/directory-deleteditems-restore"},
	}
	out := map[string]any{}
	var deltaLink string
	for _, c := range cases {
		if c.path == "<deltaLink>" {
			c.path = deltaLink
		}
		if c.name == "error_throttled" {
			f.emu.Script(m365emulator.ScriptedFault{Method: "GET", PathPrefix: "/organization", Kind: m365emulator.FaultThrottle})
		}
		r := f.do(c.method, c.path, c.body)
		if c.name == "users_delta" {
			deltaLink = r.JSON["@odata.deltaLink"].(string)
		}
		if c.name == "users_create" {
			ids[r.JSON["id"].(string)] = "<id:nestor>"
		}
		var body any
		if len(r.Raw) > 0 {
			require.NoError(t, json.Unmarshal(r.Raw, &body))
		}
		out[c.name] = normalize(map[string]any{"doc": c.doc, "status": r.Status, "body": body}, f.hs.URL, ids)
	}
	for name, ex := range goldenVariants(t) {
		out[name] = ex
	}
	return out
}

// normalize replaces what changes from run to run: the server's address,
// random user ids and request ids.
func normalize(v any, base string, ids map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "request-id" || k == "client-request-id" {
				x[k] = "<request-id>"
				continue
			}
			x[k] = normalize(e, base, ids)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e, base, ids)
		}
	case string:
		s := strings.ReplaceAll(x, base, "http://emulator.test")
		for id, name := range ids {
			s = strings.ReplaceAll(s, id, name)
		}
		return s
	}
	return v
}

func TestGolden(t *testing.T) {
	got := goldenRun(t)
	dir := filepath.Join("testdata", "golden")
	for name, v := range got {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(v))
			b := buf.Bytes()
			path := filepath.Join(dir, name+".json")
			if *update {
				require.NoError(t, os.MkdirAll(dir, 0o755))
				require.NoError(t, os.WriteFile(path, b, 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestGolden -update to create it")
			assert.Equal(t, string(want), string(b))
		})
	}
}

// TestDocumentedShapes checks that the emulator's answers have the keys,
// with the JSON types, that Microsoft Graph's documented examples show for
// each endpoint. Paths use "." for members (an "@odata.x" annotation is
// one member) and "[]" for every element of
// an array; a type "string|null" accepts either.
func TestDocumentedShapes(t *testing.T) {
	got := goldenRun(t)
	user := []string{"businessPhones:array", "displayName:string", "givenName:string|null", "jobTitle:string|null",
		"mail:string|null", "mobilePhone:string|null", "officeLocation:string|null", "preferredLanguage:string|null",
		"surname:string|null", "userPrincipalName:string", "id:string"}
	prefix := func(p string, keys []string) []string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = p + k
		}
		return out
	}
	record := []string{"@odata.type:string", "id:string", "isOptional:bool", "label:string", "recordType:string",
		"supportedService:string", "ttl:number"}
	errorKeys := []string{"error.code:string", "error.message:string", "error.innerError.request-id:string", "error.innerError.date:string"}
	tests := []struct {
		endpoint string
		status   int
		keys     []string
	}{
		{"users_list", 200, append([]string{"@odata.context:string", "@odata.nextLink:string", "value:array"}, prefix("value[].", user)...)},
		{"users_get", 200, append([]string{"@odata.context:string"}, user...)},
		{"users_create", 201, append([]string{"@odata.context:string"}, user...)},
		{"users_assign_license", 200, append([]string{"@odata.context:string"}, user...)},
		{"users_list_select", 200, []string{"value[].usageLocation:string|null", "value[].accountEnabled:bool",
			"value[].assignedLicenses[].skuId:string", "value[].assignedLicenses[].disabledPlans:array", "value[].onPremisesImmutableId:string|null"}},
		{"subscribed_skus", 200, []string{"@odata.context:string", "value[].accountName:string", "value[].accountId:string",
			"value[].appliesTo:string", "value[].capabilityStatus:string", "value[].consumedUnits:number", "value[].id:string",
			"value[].prepaidUnits.enabled:number", "value[].prepaidUnits.lockedOut:number", "value[].prepaidUnits.suspended:number",
			"value[].prepaidUnits.warning:number", "value[].servicePlans[].servicePlanId:string", "value[].servicePlans[].servicePlanName:string",
			"value[].servicePlans[].provisioningStatus:string", "value[].servicePlans[].appliesTo:string", "value[].skuId:string",
			"value[].skuPartNumber:string", "value[].subscriptionIds:array"}},
		{"domains_list", 200, prefix("value[].", []string{"authenticationType:string", "availabilityStatus:string|null", "id:string",
			"isAdminManaged:bool", "isDefault:bool", "isInitial:bool", "isRoot:bool", "isVerified:bool",
			"passwordNotificationWindowInDays:number|null", "passwordValidityPeriodInDays:number|null", "supportedServices:array", "state:object|null"})},
		{"domains_add", 201, []string{"authenticationType:string", "availabilityStatus:string|null", "id:string", "isAdminManaged:bool",
			"isDefault:bool", "isInitial:bool", "isRoot:bool", "isVerified:bool", "supportedServices:array"}},
		{"domains_verification_dns_records", 200, prefix("value[].", record)},
		{"domains_service_configuration_records", 200, prefix("value[].", record)},
		{"users_delta", 200, []string{"@odata.context:string", "@odata.deltaLink:string", "value[].id:string"}},
		{"users_delta_next", 200, []string{"@odata.context:string", "@odata.deltaLink:string", "value[].id:string"}},
		{"deleted_users", 200, []string{"@odata.context:string", "value[].id:string", "value[].deletedDateTime:string"}},
		{"batch", 200, []string{"responses[].id:string", "responses[].status:number", "responses[].headers:object"}},
		{"error_not_found", 404, errorKeys},
		{"error_conflict", 400, append([]string{"error.details[].code:string", "error.details[].target:string"}, errorKeys...)},
		{"error_invalid_argument", 400, errorKeys},
		{"error_unsupported_filter", 400, errorKeys},
		{"error_throttled", 429, errorKeys},
	}
	for _, tc := range tests {
		t.Run(tc.endpoint, func(t *testing.T) {
			ex, ok := got[tc.endpoint].(map[string]any)
			require.True(t, ok, "no golden exchange %q", tc.endpoint)
			assert.Equal(t, float64(tc.status), toFloat(ex["status"]))
			for _, k := range tc.keys {
				path, typ, _ := strings.Cut(k, ":")
				checkPath(t, ex["body"], path, typ, path)
			}
		})
	}
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	return -1
}

// checkPath asserts that v has a value of type typ at path.
func checkPath(t *testing.T, v any, path, typ, full string) {
	t.Helper()
	if path == "" {
		assert.True(t, typeIs(v, typ), "%s: got %T, want %s", full, v, typ)
		return
	}
	head, rest, _ := strings.Cut(path, ".")
	if head == "@odata" { // annotations hold a dot: "@odata.type"
		var tail string
		tail, rest, _ = strings.Cut(rest, ".")
		head += "." + tail
	}
	name, each := strings.CutSuffix(head, "[]")
	m, ok := v.(map[string]any)
	if !assert.True(t, ok, "%s: not an object at %q", full, head) {
		return
	}
	e, present := m[name]
	if !assert.True(t, present, "%s: missing %q", full, name) {
		return
	}
	if !each {
		checkPath(t, e, rest, typ, full)
		return
	}
	arr, ok := e.([]any)
	if !assert.True(t, ok && len(arr) > 0, "%s: %q is not a non-empty array", full, name) {
		return
	}
	for _, x := range arr {
		checkPath(t, x, rest, typ, full)
	}
}

func typeIs(v any, typ string) bool {
	for alt := range strings.SplitSeq(typ, "|") {
		switch alt {
		case "string":
			if _, ok := v.(string); ok {
				return true
			}
		case "number":
			if _, ok := v.(float64); ok {
				return true
			}
		case "bool":
			if _, ok := v.(bool); ok {
				return true
			}
		case "array":
			if _, ok := v.([]any); ok {
				return true
			}
		case "object":
			if _, ok := v.(map[string]any); ok {
				return true
			}
		case "null":
			if v == nil {
				return true
			}
		}
	}
	return false
}

func TestGoldenStatusesAreGraphs(t *testing.T) {
	got := goldenRun(t)
	want := map[string]int{
		"users_create": http.StatusCreated, "users_update": http.StatusNoContent, "users_assign_license": http.StatusOK,
		"domains_add": http.StatusCreated, "restore": http.StatusOK, "batch": http.StatusOK, "batch_sequential": http.StatusOK, "error_mixed_batch": http.StatusBadRequest,
		"error_no_usage_location": http.StatusBadRequest, "error_verify_missing_record": http.StatusBadRequest,
	}
	for name, status := range want {
		assert.Equal(t, float64(status), toFloat(got[name].(map[string]any)["status"]), name)
	}
}

// TestGoldenFilesCiteTheirDocs: every golden exchange names the Microsoft
// document its shape follows.
func TestGoldenFilesCiteTheirDocs(t *testing.T) {
	for name, ex := range goldenRun(t) {
		doc, _ := ex.(map[string]any)["doc"].(string)
		assert.True(t, strings.HasPrefix(doc, "https://learn.microsoft.com/graph/"), "%s: doc %q", name, doc)
	}
}

// goldenVariants pins the documented variants the emulator can emit on
// option, each on a fresh tenant with a user adele.
func goldenVariants(t *testing.T) map[string]any {
	t.Helper()
	cases := []struct {
		goldenCase
		opts m365emulator.Options
	}{
		{goldenCase{"variant_error_conflict_without_details", "POST", "/v1.0/users", newUserBody("adele"),
			"https://learn.microsoft.com/graph/api/user-post-users (the directory's generic conflict, no details)"},
			m365emulator.Options{Conflicts: m365emulator.ConflictsWithoutDetails}},
		{goldenCase{"variant_users_delta_qualified", "GET", "/v1.0/users/microsoft.graph.delta()?$select=displayName", nil,
			"https://learn.microsoft.com/graph/delta-query-users (links to microsoft.graph.delta())"},
			m365emulator.Options{DeltaLinks: m365emulator.DeltaLinksQualified}},
		{goldenCase{"variant_domains_records_bare_type", "GET", "/v1.0/domains/contoso.com/serviceConfigurationRecords", nil,
			"https://learn.microsoft.com/graph/api/domain-list-serviceconfigurationrecords (@odata.type without '#', as its example)"},
			m365emulator.Options{RecordTypes: m365emulator.ODataTypesBare}},
		{goldenCase{"variant_error_reason_detail", "PATCH", "/v1.0/users/adele@contoso.com", map[string]any{"usageLocation": "XYZ"},
			"https://learn.microsoft.com/graph/errors (with the emulator-only essentials365.reason detail, opt-in)"},
			m365emulator.Options{ReasonDetail: true}},
	}
	out := map[string]any{}
	for _, c := range cases {
		f := newFixture(t, &c.opts)
		adele := f.addUser("adele", "Adele Vance")
		r := f.do(c.method, c.path, c.body)
		var body any
		if len(r.Raw) > 0 {
			require.NoError(t, json.Unmarshal(r.Raw, &body))
		}
		out[c.name] = normalize(map[string]any{"doc": c.doc, "status": r.Status, "body": body}, f.hs.URL, map[string]string{adele.ID: "<id:adele>"})
	}
	return out
}
