package exchangeonline_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/exchangeonline"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/essentials365/sdk/internal/testclock"
)

// recorded is one request a fake service saw.
type recorded struct {
	path, query string
	header      http.Header
	body        map[string]any
}

// fakeService answers each request with the next canned answer and
// records what it received.
type fakeService struct {
	mu      sync.Mutex
	seen    []recorded
	answers []func(w http.ResponseWriter)
	url     string
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.seen = append(f.seen, recorded{path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: body})
	var a func(http.ResponseWriter)
	if len(f.answers) > 0 {
		a, f.answers = f.answers[0], f.answers[1:]
	}
	f.mu.Unlock()
	if a == nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	a(w)
}

// withURL answers body with NEXT replaced by the fake's own URL.
func (f *fakeService) withURL(body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		answer(200, nil, strings.ReplaceAll(body, "NEXT", f.url+"/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand?$skiptoken=1"))(w)
	}
}

func answer(status int, header map[string]string, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func newFake(t *testing.T, opts *exchangeonline.Options, answers ...func(http.ResponseWriter)) (*fakeService, *exchangeonline.Driver) {
	t.Helper()
	f := &fakeService{answers: answers}
	srv := httptest.NewServer(f)
	f.url = srv.URL
	t.Cleanup(srv.Close)
	var o exchangeonline.Options
	if opts != nil {
		o = *opts
	}
	o.BaseURL = srv.URL
	d, err := exchangeonline.New("contoso.onmicrosoft.com", exchangeonline.StaticToken("tok"), &o)
	require.NoError(t, err)
	return f, d
}

// The captured Get-Mailbox answer's envelope, with its annotations.
const groupPage = `{"@odata.context":"https://outlook.office.com/adminapi/beta/contoso.onmicrosoft.com/$metadata#Collection(Exchange.GenericHashTable)",
"adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[],
"value":[{"Guid@data.type":"System.Guid","Guid@odata.type":"#Guid","Guid":"6c1b4f3e-0000-4000-8000-000000000001","Name":"Sales","DisplayName":"Sales team",
"Alias":"sales","PrimarySmtpAddress":"sales@contoso.com","EmailAddresses@odata.type":"#Collection(String)",
"EmailAddresses":["SMTP:sales@contoso.com","smtp:ventes@contoso.com","X500:/o=ExchangeLabs/cn=x","SPO:SPO_1"],
"Description":["Sales","and more"],"RequireSenderAuthenticationEnabled":false,"RecipientTypeDetails":"MailUniversalDistributionGroup"}],
"@odata.nextLink":"NEXT"}`

func TestRequestShapeHeadersAndPaging(t *testing.T) {
	f, d := newFake(t, &exchangeonline.Options{PageSize: 50})
	f.answers = []func(http.ResponseWriter){
		f.withURL(groupPage),
		answer(200, nil, `{"value":[{"Guid":"6c1b4f3e-0000-4000-8000-000000000002","Name":"Support","Description":"Help","RequireSenderAuthenticationEnabled":true}]}`),
	}
	var got []backend.DistributionGroup
	for g, err := range d.ListGroups(t.Context()) {
		require.NoError(t, err)
		got = append(got, g)
	}
	require.Len(t, got, 2, "both pages")
	assert.Equal(t, backend.DistributionGroup{
		ID: "6c1b4f3e-0000-4000-8000-000000000001", Name: "Sales", DisplayName: "Sales team", Alias: "sales",
		PrimaryAddress: "sales@contoso.com", Description: "Sales\nand more", Addresses: []string{"ventes@contoso.com"},
		ExternalSendersAllowed: true,
	}, got[0], "annotations dropped, only smtp: secondaries, Description as lines")
	assert.Equal(t, "Help", got[1].Description, "Description as a string")
	assert.False(t, got[1].ExternalSendersAllowed)

	require.Len(t, f.seen, 2)
	first, second := f.seen[0], f.seen[1]
	assert.Equal(t, "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", first.path)
	assert.Equal(t, "$skiptoken=1", second.query, "the next page is the nextLink")
	assert.Equal(t, first.body, second.body, "paging re-POSTs the same body")
	assert.Equal(t, map[string]any{"CmdletInput": map[string]any{"CmdletName": "Get-DistributionGroup", "Parameters": map[string]any{"ResultSize": "Unlimited"}}}, first.body)
	h := first.header
	assert.Equal(t, "Bearer tok", h.Get("Authorization"))
	assert.Equal(t, "application/json; charset=utf-8", h.Get("Content-Type"))
	assert.Equal(t, "odata.maxpagesize=50", h.Get("Prefer"))
	assert.Equal(t, "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com", h.Get("X-AnchorMailbox"))
	assert.Equal(t, "Get-DistributionGroup", h.Get("X-CmdletName"))
	assert.NotEmpty(t, h.Get("client-request-id"))
	assert.Equal(t, h.Get("connection-id"), second.header.Get("connection-id"), "one connection id per driver")
}

func TestAddressHashtable(t *testing.T) {
	f, d := newFake(t, nil,
		answer(200, nil, `{"value":[{"Guid":"11111111-0000-4000-8000-000000000001","PrimarySmtpAddress":"ann@contoso.com","RecipientTypeDetails":"UserMailbox","EmailAddresses":["SMTP:ann@contoso.com"]}]}`),
		answer(200, nil, `{"value":[]}`),
		answer(200, nil, `{"value":[{"Guid":"22222222-0000-4000-8000-000000000002","PrimarySmtpAddress":"sales@contoso.com","RecipientTypeDetails":"MailUniversalDistributionGroup","EmailAddresses":["SMTP:sales@contoso.com","smtp:old@contoso.com"]}]}`),
		answer(200, nil, ``),
	)
	require.NoError(t, d.AddAlias(t.Context(), "ann@contoso.com", "a2@contoso.com"))
	require.NoError(t, d.RemoveAlias(t.Context(), "sales@contoso.com", "OLD@contoso.com"))
	require.Len(t, f.seen, 4)
	assert.Equal(t, map[string]any{"CmdletName": "Set-Mailbox", "Parameters": map[string]any{
		"Identity":       "11111111-0000-4000-8000-000000000001",
		"EmailAddresses": map[string]any{"@odata.type": "#Exchange.GenericHashTable", "Add": []any{"smtp:a2@contoso.com"}},
	}}, f.seen[1].body["CmdletInput"])
	assert.Equal(t, map[string]any{"CmdletName": "Set-DistributionGroup", "Parameters": map[string]any{
		"Identity":                        "22222222-0000-4000-8000-000000000002",
		"BypassSecurityGroupManagerCheck": true,
		"EmailAddresses":                  map[string]any{"@odata.type": "#Exchange.GenericHashTable", "Remove": []any{"smtp:OLD@contoso.com"}},
	}}, f.seen[3].body["CmdletInput"], "a group's addresses go through Set-DistributionGroup")
}

func TestCreateGroupSendsExternalSendersExplicitly(t *testing.T) {
	f, d := newFake(t, nil, answer(200, nil, `{"value":[{"Guid":"33333333-0000-4000-8000-000000000003","Name":"All","RequireSenderAuthenticationEnabled":false}]}`))
	g, err := d.CreateGroup(t.Context(), backend.NewDistributionGroup{Name: "All", Alias: "all", PrimaryAddress: "all@contoso.com", ExternalSendersAllowed: true})
	require.NoError(t, err)
	assert.True(t, g.ExternalSendersAllowed)
	p := f.seen[0].body["CmdletInput"].(map[string]any)["Parameters"].(map[string]any)
	assert.Equal(t, false, p["RequireSenderAuthenticationEnabled"])
	assert.Equal(t, "Distribution", p["Type"])
	assert.Equal(t, "all@contoso.com", p["PrimarySmtpAddress"])
}

// notFoundBody is the real error body quoted in the reference (a
// Remove-Mailbox of an unknown object, relayed in 2023).
const notFoundBody = `{"error":{"code":"NotFound","message":"Error executing cmdlet","details":[{"code":"Client","target":"","message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found on 'AM0PR01A001DC01.PROD.OUTLOOK.COM'."}],"innererror":{"message":"Error executing cmdlet","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException","stacktrace":"   at Microsoft.Exchange.AdminApi.CommandInvocation..."}}}`

func TestErrorClassification(t *testing.T) {
	clk := testclock.New()
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		kind      backend.Kind
		reason    backend.Reason
		retry     time.Duration
		exception string
	}{
		{"real not-found body", 404, nil, notFoundBody, backend.NotFound, "", 0, "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"},
		{"not found under status 500", 500, nil, strings.Replace(notFoundBody, `"NotFound"`, `"InternalServerError"`, 1), backend.NotFound, "", 0, "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"},
		{"member already there", 400, nil, `{"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"message":"|Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException|The recipient \"ann\" is already a member of the group \"Sales\"."}]}}`, backend.AlreadyExists, "", 0, "Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException"},
		{"proxy address in use (text)", 400, nil, `{"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"message":"ExB0C7A1|Microsoft.Exchange.Data.Directory.SomethingNew|The proxy address \"SMTP:a@contoso.com\" is already being used by the proxy addresses or LegacyExchangeDN of \"ann\". Please choose another proxy address."}]}}`, backend.AlreadyExists, "", 0, ""},
		{"unaccepted domain", 400, nil, `{"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"message":"|Microsoft.Exchange.Configuration.Tasks.RecipientTaskException|The domain nowhere.example isn't an accepted domain for your organization."}]}}`, backend.InvalidArgument, backend.ReasonAliasDomainUnverified, 0, ""},
		{"emulator reason wins", 400, nil, `{"error":{"code":"BadRequest","message":"Error executing cmdlet","details":[{"message":"|Microsoft.Exchange.Configuration.Tasks.RecipientTaskException|whatever"},{"code":"member-type","target":"essentials365.reason"}]}}`, backend.InvalidArgument, backend.ReasonMemberType, 0, ""},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "7"}, `{"error":{"code":"TooManyRequests","message":"slow down"}}`, backend.Throttled, "", 7 * time.Second, ""},
		{"concurrency text under 503", 503, map[string]string{"Retry-After": clk.Now().Add(2 * time.Second).Format(http.TimeFormat)}, `You have reached the maximum number of concurrent requests per tenant. Please wait and try again`, backend.Throttled, "", 2 * time.Second, ""},
		{"503 plain", 503, nil, `<html>Service Unavailable</html>`, backend.Unavailable, "", 0, ""},
		{"401", 401, nil, ``, backend.PermissionDenied, "", 0, ""},
		{"access denied exception", 400, nil, `{"error":{"code":"Forbidden","message":"Error executing cmdlet","details":[{"message":"|Microsoft.Exchange.Configuration.Tasks.CmdletAccessDeniedException|The user isn't assigned to any management roles."}]}}`, backend.PermissionDenied, "", 0, ""},
		{"exception type only in the header", 400, map[string]string{"X-ExceptionType": "ManagementObjectNotFoundException"}, `not json`, backend.NotFound, "", 0, "ManagementObjectNotFoundException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, d := newFake(t, &exchangeonline.Options{Now: clk.Now, Pacing: pacer.Config{Disabled: true}}, answer(tc.status, tc.header, tc.body))
			err := d.DeleteGroup(t.Context(), "x")
			require.Error(t, err)
			assert.Equal(t, tc.kind, backend.KindOf(err), "%v", err)
			assert.ErrorIs(t, err, tc.kind.Sentinel())
			assert.Equal(t, tc.reason, backend.ReasonOf(err))
			if tc.retry > 0 {
				wait, ok := backend.RetryAfter(err)
				assert.True(t, ok)
				assert.Equal(t, tc.retry, wait)
			}
			var se *exchangeonline.ServiceError
			require.True(t, errors.As(err, &se), "the service's error is the cause")
			assert.Equal(t, tc.status, se.Status)
			if tc.exception != "" {
				assert.Equal(t, tc.exception, se.ExceptionType)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "exchange: delete group"), "op wording: %v", err)
		})
	}
}

func TestThrottlingPausesThePacer(t *testing.T) {
	clk := testclock.New()
	_, d := newFake(t, &exchangeonline.Options{Pacing: pacer.Config{Clock: clk}},
		answer(429, map[string]string{"Retry-After": "30"}, `{"error":{"code":"TooManyRequests","message":"slow down"}}`),
		answer(200, nil, `{"value":[]}`))
	require.Error(t, d.AddMember(t.Context(), "g", "m"))
	before := clk.Now()
	require.NoError(t, d.AddMember(t.Context(), "g", "m"))
	assert.GreaterOrEqual(t, clk.Now().Sub(before), 30*time.Second, "the next write waited the Retry-After")
	assert.Equal(t, int64(1), d.PacerStats().Throttled)
}

func TestRateLimitHeadersSlowWrites(t *testing.T) {
	_, d := newFake(t, &exchangeonline.Options{Pacing: pacer.Config{Clock: testclock.New()}},
		answer(200, map[string]string{"Rate-Limit-Limit": "30000", "Rate-Limit-Remaining": "1500"}, `{"value":[]}`))
	require.NoError(t, d.AddMember(t.Context(), "g", "m"))
	assert.Equal(t, int64(1), d.PacerStats().Slowdowns, "95% of the quota used lowers the rate")
}

func TestNewRefusesBadInput(t *testing.T) {
	_, err := exchangeonline.New("", exchangeonline.StaticToken("t"), nil)
	assert.ErrorIs(t, err, backend.ErrInvalidArgument)
	_, err = exchangeonline.New("contoso.onmicrosoft.com", nil, nil)
	assert.ErrorIs(t, err, backend.ErrInvalidArgument)
	_, err = exchangeonline.New("contoso.onmicrosoft.com", exchangeonline.StaticToken("t"), &exchangeonline.Options{BaseURL: "outlook"})
	assert.ErrorIs(t, err, backend.ErrInvalidArgument)
}

func TestListGroupsStopsAtAFailedPage(t *testing.T) {
	f, d := newFake(t, nil)
	f.answers = []func(http.ResponseWriter){
		f.withURL(groupPage),
		answer(503, map[string]string{"Retry-After": "2"}, `{"error":{"code":"ServiceUnavailable","message":"busy"}}`),
	}
	var names []string
	var last error
	for g, err := range d.ListGroups(t.Context()) {
		if err != nil {
			last = err
			break
		}
		names = append(names, g.Name)
	}
	assert.Equal(t, []string{"Sales"}, names, "the first page was delivered")
	assert.Equal(t, backend.Unavailable, backend.KindOf(last))
	assert.True(t, backend.Retryable(last))
}

func TestUnexpectedEnvelopeSaysTheSurfaceMayHaveChanged(t *testing.T) {
	_, d := newFake(t, nil, answer(200, nil, `<html>sign in</html>`))
	_, err := d.GetGroup(t.Context(), "Sales")
	require.Error(t, err)
	assert.Equal(t, backend.Unavailable, backend.KindOf(err))
	assert.Contains(t, err.Error(), "unofficial InvokeCommand surface may have changed")
}
