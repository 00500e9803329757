package m365emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// exoFixture is a memory tenant with Exchange served by the emulator.
type exoFixture struct {
	t   *testing.T
	mem *memory.Tenant
	url string
}

func newExoFixture(t *testing.T, opts *m365emulator.Options, withExchange bool) *exoFixture {
	t.Helper()
	mem := memory.NewTenant(&memory.TenantOptions{TenantID: testTenantID, InitialDomain: "contoso.onmicrosoft.com"})
	require.NoError(t, mem.AddVerifiedDomain("contoso.com", true))
	var o m365emulator.Options
	if opts != nil {
		o = *opts
	}
	if withExchange {
		o.Exchange = mem.Exchange()
	}
	srv := httptest.NewServer(m365emulator.New(mem, &o))
	t.Cleanup(srv.Close)
	return &exoFixture{t: t, mem: mem, url: srv.URL}
}

type exoReply struct {
	status int
	header http.Header
	body   map[string]any
}

// invoke POSTs a cmdlet to target (default the InvokeCommand URL of the
// initial domain).
func (f *exoFixture) invoke(target, cmdlet string, params map[string]any, hdr ...string) exoReply {
	f.t.Helper()
	if target == "" {
		target = f.url + "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand"
	}
	b, err := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}})
	require.NoError(f.t, err)
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(b))
	require.NoError(f.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer t")
	resp, raw := roundTrip(f.t, req, hdr...)
	var body map[string]any
	require.NoError(f.t, json.Unmarshal(raw, &body), string(raw))
	return exoReply{status: resp.StatusCode, header: resp.Header, body: body}
}

func exoDetail(t *testing.T, r exoReply) string {
	t.Helper()
	e, ok := r.body["error"].(map[string]any)
	require.True(t, ok, "an error body: %v", r.body)
	details, _ := e["details"].([]any)
	require.NotEmpty(t, details, "%v", r.body)
	return details[0].(map[string]any)["message"].(string)
}

func exoValues(t *testing.T, r exoReply) []map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "%v", r.body)
	raw, _ := r.body["value"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		out = append(out, v.(map[string]any))
	}
	return out
}

func TestExchangeEnvelopeAndAnnotations(t *testing.T) {
	f := newExoFixture(t, nil, true)
	r := f.invoke("", "New-DistributionGroup", map[string]any{"Name": "Sales", "Alias": "sales", "PrimarySmtpAddress": "sales@contoso.com"})
	created := exoValues(t, r)
	require.Len(t, created, 1)
	assert.Equal(t, true, created[0]["RequireSenderAuthenticationEnabled"], "Exchange's default rejects external senders")

	r = f.invoke("", "get-distributiongroup", map[string]any{"Identity": "Sales"}) // names are case-insensitive
	vals := exoValues(t, r)
	require.Len(t, vals, 1)
	g := vals[0]
	assert.Equal(t, "#Collection(String)", g["EmailAddresses@odata.type"])
	assert.Equal(t, "System.Guid", g["Guid@data.type"])
	assert.Equal(t, []any{"SMTP:sales@contoso.com"}, g["EmailAddresses"])
	assert.Equal(t, "MailUniversalDistributionGroup", g["RecipientTypeDetails"])
	assert.True(t, strings.HasSuffix(r.body["@odata.context"].(string), "/adminapi/beta/contoso.onmicrosoft.com/$metadata#Collection(Exchange.GenericHashTable)"))
	assert.Equal(t, []any{}, r.body["@adminapi.warnings"])
	assert.Equal(t, "4.0", r.header.Get("OData-Version"))
	assert.Equal(t, "30000", r.header.Get("Rate-Limit-Limit"))
	assert.NotEmpty(t, r.header.Get("Rate-Limit-Remaining"))

	r = f.invoke("", "Remove-DistributionGroup", map[string]any{"Identity": "Sales", "BypassSecurityGroupManagerCheck": true})
	assert.Empty(t, exoValues(t, r), "a void cmdlet answers an empty value")
}

func TestExchangeTenantSegment(t *testing.T) {
	f := newExoFixture(t, nil, true)
	for _, tenant := range []string{testTenantID, "contoso.onmicrosoft.com", "contoso.com"} {
		r := f.invoke(f.url+"/adminapi/beta/"+tenant+"/InvokeCommand", "Get-DistributionGroup", map[string]any{"ResultSize": "Unlimited"})
		assert.Equal(t, http.StatusOK, r.status, tenant)
	}
	r := f.invoke(f.url+"/adminapi/beta/fabrikam.com/InvokeCommand", "Get-DistributionGroup", nil)
	assert.Equal(t, http.StatusNotFound, r.status)
	r = newExoFixture(t, nil, false).invoke("", "Get-DistributionGroup", nil)
	assert.Equal(t, http.StatusNotFound, r.status, "no Exchange Online")
	assert.Contains(t, exoDetail(t, r), "Exchange Online")
}

func TestExchangePaging(t *testing.T) {
	f := newExoFixture(t, nil, true)
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		exoValues(t, f.invoke("", "New-DistributionGroup", map[string]any{"Name": n, "Alias": n}))
	}
	var names []string
	target := ""
	pages := 0
	for {
		r := f.invoke(target, "Get-DistributionGroup", map[string]any{"ResultSize": "Unlimited"}, "Prefer", "odata.maxpagesize=2")
		for _, v := range exoValues(t, r) {
			names = append(names, v["Name"].(string))
		}
		pages++
		next, _ := r.body["@odata.nextLink"].(string)
		if next == "" {
			break
		}
		assert.True(t, strings.HasPrefix(next, f.url+"/adminapi/beta/"), "an absolute link back to the server: %s", next)
		target = next
	}
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, names)
	assert.Equal(t, 3, pages)
}

func TestExchangeErrorShapes(t *testing.T) {
	f := newExoFixture(t, nil, true)
	r := f.invoke("", "Get-DistributionGroup", map[string]any{"Identity": "nobody"})
	assert.Equal(t, http.StatusNotFound, r.status)
	e := r.body["error"].(map[string]any)
	assert.Equal(t, "NotFound", e["code"])
	assert.Equal(t, "Error executing cmdlet", e["message"])
	assert.Regexp(t, `^Ex6F9304\|Microsoft\.Exchange\.Configuration\.Tasks\.ManagementObjectNotFoundException\|The operation couldn't be performed because object 'nobody' couldn't be found`, exoDetail(t, r))
	assert.Equal(t, "Microsoft.Exchange.Admin.OData.Core.ODataServiceException", e["innererror"].(map[string]any)["type"])

	r = f.invoke("", "Get-DistributionGroup", map[string]any{"Identiti": "x"})
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Contains(t, exoDetail(t, r), "ParameterBindingException|A parameter cannot be found that matches parameter name 'Identiti'.")

	r = f.invoke("", "Get-Mailbox", map[string]any{"Identity": "x"})
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Contains(t, exoDetail(t, r), "CommandNotFoundException")

	exoValues(t, f.invoke("", "New-DistributionGroup", map[string]any{"Name": "Sales", "Alias": "sales"}))
	r = f.invoke("", "New-DistributionGroup", map[string]any{"Name": "Other", "Alias": "sales"})
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Contains(t, exoDetail(t, r), "ProxyAddressExistsException|The proxy address")

	r = f.invoke("", "New-DistributionGroup", map[string]any{"Name": "Bad", "Alias": "bad", "PrimarySmtpAddress": "bad@nowhere.example"})
	assert.Equal(t, http.StatusBadRequest, r.status)
	details := r.body["error"].(map[string]any)["details"].([]any)
	require.Len(t, details, 2)
	assert.Equal(t, map[string]any{"code": "alias-domain-unverified", "target": m365emulator.ReasonTarget, "message": "emulator extension: the backend rule that failed"}, details[1])
}

func TestExchangeAddressesHashtable(t *testing.T) {
	f := newExoFixture(t, nil, true)
	u, err := f.mem.CreateUser(t.Context(), backend.NewOnlineUser{UserPrincipalName: "ann@contoso.com", DisplayName: "Ann", Password: testPassword})
	require.NoError(t, err)
	r := f.invoke("", "Set-Mailbox", map[string]any{"Identity": u.UserPrincipalName,
		"EmailAddresses": map[string]any{"@odata.type": "#Exchange.GenericHashTable", "add": "smtp:ventes@contoso.com"}})
	exoValues(t, r)
	got := exoValues(t, f.invoke("", "Get-Recipient", map[string]any{"Identity": "ventes@contoso.com"}))
	require.Len(t, got, 1)
	assert.Equal(t, []any{"SMTP:ann@contoso.com", "smtp:ventes@contoso.com"}, got[0]["EmailAddresses"])
	assert.Equal(t, u.ID, got[0]["ExternalDirectoryObjectId"])

	r = f.invoke("", "Set-Mailbox", map[string]any{"Identity": u.UserPrincipalName,
		"EmailAddresses": map[string]any{"@odata.type": "#Exchange.GenericHashTable", "Add": []string{"SMTP:boss@contoso.com"}}})
	assert.Equal(t, http.StatusBadRequest, r.status, "changing the primary address is refused")
	r = f.invoke("", "Set-Mailbox", map[string]any{"Identity": u.UserPrincipalName,
		"EmailAddresses": map[string]any{"@odata.type": "#Exchange.GenericHashTable", "Remove": []string{"smtp:never@contoso.com"}}})
	exoValues(t, r) // removing an absent address is ignored
}

func TestExchangeThrottledAnswer(t *testing.T) {
	f := newExoFixture(t, &m365emulator.Options{}, true)
	f.mem.Exchange().FailNext("ListGroups", 1, &backend.Error{Kind: backend.Throttled, Msg: "slow down", RetryAfter: 3 * time.Second})
	r := f.invoke("", "Get-DistributionGroup", nil)
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "3", r.header.Get("Retry-After"))
	assert.Contains(t, r.body["error"].(map[string]any)["message"], "maximum number of concurrent requests per tenant")
}

func TestExchangeAuth(t *testing.T) {
	f := newExoFixture(t, &m365emulator.Options{Token: "secret"}, true)
	r := f.invoke("", "Get-DistributionGroup", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status, "a wrong token")
	r = f.invoke("", "Get-DistributionGroup", nil, "Authorization", "Bearer secret")
	assert.Equal(t, http.StatusOK, r.status)
}
