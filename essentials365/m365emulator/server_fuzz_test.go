package m365emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// newFuzzServer is an emulator over a small seeded memory tenant with
// Exchange, built fresh for each input so inputs do not affect each other.
func newFuzzServer(t *testing.T) *m365emulator.Server {
	c := newClock()
	tn := memory.NewTenant(&memory.TenantOptions{TenantID: testTenantID, DisplayName: "Contoso",
		InitialDomain: "contoso.onmicrosoft.com", Now: c.Now})
	if err := tn.AddVerifiedDomain("contoso.com", true); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.AddSKU(backend.SKU{SKUID: e3SKUID, PartNumber: "ENTERPRISEPACK", Enabled: 2,
		ServicePlans: []backend.ServicePlan{{ID: e3PlanExchange, Name: "EXCHANGE_S_ENTERPRISE"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.CreateUser(context.Background(), backend.NewOnlineUser{UserPrincipalName: "ann@contoso.com",
		DisplayName: "Ann Lee", MailNickname: "ann", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.CreateUser(context.Background(), backend.NewOnlineUser{UserPrincipalName: "bob@contoso.com",
		DisplayName: "Bob Ray", MailNickname: "bob", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	return m365emulator.New(tn, &m365emulator.Options{Now: c.Now, Exchange: tn.Exchange()})
}

// FuzzServe sends arbitrary requests (method, target with any query
// options, body) to the emulator: it never panics and never answers 500;
// every refusal has Graph's (or Exchange's) error shape, a code and a
// message; a $batch it accepts answers each item.
func FuzzServe(f *testing.F) {
	seeds := []struct{ method, target, body string }{
		{"GET", "/v1.0/users?$filter=userPrincipalName eq 'ann@contoso.com'", ""},
		{"GET", "/v1.0/users?$filter=startswith(displayName,'a,b''c')&$top=5&$select=id,displayName", ""},
		{"GET", "/v1.0/users?$filter=userPrincipalName eq 'a' and mail eq 'b'", ""},
		{"GET", "/v1.0/users?$filter=startswith(", ""},
		{"GET", "/v1.0/users?$filter=userPrincipalName%20eq%20'bob@contoso.com'&x=%zz", ""},
		{"GET", "/v1.0/users?$top=1;$select=id", ""},
		{"GET", "/v1.0/users?$filter=' eq '", ""},
		{"GET", "/v1.0/users?$top=0", ""},
		{"GET", "/v1.0/users?$top=99999999999999999999", ""},
		{"GET", "/v1.0/users?$skiptoken=eyJvIjotMX0", ""},
		{"GET", "/v1.0/users?$skiptoken=eyJvIjo5OTk5OTk5OTk5OTk5OTk5OTk5fQ", ""},
		{"GET", "/v1.0/users?$skiptoken=%ff%fe", ""},
		{"GET", "/v1.0/users/delta?$deltatoken=eyJ3IjoieCJ9", ""},
		{"GET", "/v1.0/users?$skiptoken=eyJvIjoxLCJuIjotMX0", ""},
		{"GET", "/v1.0/users?$skiptoken=eyJvIjo5MjIzMzcyMDM2ODU0Nzc1ODA3LCJuIjoxfQ", ""},
		{"GET", "/v1.0/users?$skiptoken=eyJuIjoxMDAwMDAwfQ", ""},
		{"GET", "/v1.0/directory/deletedItems/microsoft.graph.user?$skiptoken=eyJvIjo5MjIzMzcyMDM2ODU0Nzc1ODA3LCJuIjoxfQ", ""},
		{"GET", "/v1.0/users/delta?$deltatoken=eyJvIjowLCJzIjoiYm9ndXMsLCJ9", ""},
		{"GET", "/v1.0/users/delta?$deltatoken=eyJ3IjoiXHUwMDAwZ2FyYmFnZSJ9", ""},
		{"GET", "/v1.0/users?$select=,,", ""},
		{"GET", "/v1.0/users?$select=id&$select=mail", ""},
		{"GET", "/v1.0/users?$orderby=displayName", ""},
		{"GET", "/v1.0/users/ann@contoso.com?$select=assignedLicenses,bogus", ""},
		{"GET", "/v1.0/users/%00", ""},
		{"PATCH", "/v1.0/users/ann@contoso.com", `{"displayName":null,"accountEnabled":"yes"}`},
		{"POST", "/v1.0/users", `{"userPrincipalName":"carl@contoso.com","displayName":"Carl","mailNickname":"carl","accountEnabled":true,"passwordProfile":{"password":"Pa55w.rd-Contoso!"}}`},
		{"POST", "/v1.0/users", `[1,2,3]`},
		{"POST", "/v1.0/users/ann@contoso.com/assignLicense", `{"addLicenses":[{"skuId":"not-a-guid"}],"removeLicenses":null}`},
		{"POST", "/v1.0/$batch", `{"requests":[{"id":"1","method":"GET","url":"/users"},{"id":"2","method":"GET","url":"/users/ann@contoso.com","dependsOn":["1"]}]}`},
		{"POST", "/v1.0/$batch", `{"requests":[{"id":"1","method":"POST","url":"/$batch","body":{}}]}`},
		{"POST", "/v1.0/$batch", `{"requests":[{"id":"1","method":"GET","url":"http://[::1"},{"id":"1","method":"","url":""}]}`},
		{"POST", "/v1.0/$batch", `{"requests":[{"id":"a","method":"GET","url":"/users","dependsOn":["a"]}]}`},
		{"POST", "/v1.0/$batch", `{"requests":null}`},
		{"GET", "/v1.0/domains/contoso.com/serviceConfigurationRecords", ""},
		{"GET", "/v1.0/subscribedSkus", ""},
		{"GET", "/v2.0/users", ""},
		{"POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"Identity":"ann@contoso.com"}}}`},
		{"POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", `{"CmdletInput":{"CmdletName":"Set-Mailbox","Parameters":{"Identity":"ann@contoso.com","EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Add":["smtp:x@contoso.com"]}}}}`},
		{"POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", `{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":[]}}`},
		{"POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", `{"CmdletInput":null}`},
		{"POST", "/adminapi/beta//InvokeCommand", `{}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, target string, body []byte) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://graph.test"+target, bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", "application/json")
		emu := newFuzzServer(t)
		w := httptest.NewRecorder()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		emu.ServeHTTP(w, req.WithContext(ctx))
		if w.Code < 100 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
		if w.Code == http.StatusInternalServerError {
			t.Fatalf("%s %q answered 500: %s", method, target, w.Body)
		}
		if _, err := url.ParseQuery(req.URL.RawQuery); err != nil && w.Code < 400 && !strings.HasPrefix(req.URL.Path, "/adminapi/") {
			t.Fatalf("%s %q: a malformed query string answered %d", method, target, w.Code)
		}
		if w.Code < 400 {
			if strings.HasSuffix(req.URL.Path, "/$batch") && w.Code == http.StatusOK {
				var ans struct {
					Responses []struct {
						ID     string `json:"id"`
						Status int    `json:"status"`
					} `json:"responses"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil {
					t.Fatalf("batch answer is not JSON: %v", err)
				}
				for _, r := range ans.Responses {
					if r.Status == http.StatusInternalServerError {
						t.Fatalf("batch item %q answered 500 (%s)", r.ID, body)
					}
				}
			}
			return
		}
		if w.Body.Len() == 0 {
			if method == http.MethodHead {
				return
			}
			t.Fatalf("%s %q: %d with no body", method, target, w.Code)
		}
		var e struct {
			Error *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%s %q: %d without an error code and message: %s", method, target, w.Code, w.Body)
		}
	})
}

// TestServeHostileTokens pins page tokens the emulator never writes: a
// negative or over-999 page size, and an offset past any list.
func TestServeHostileTokens(t *testing.T) {
	for _, tc := range []struct {
		target string
		status int
	}{
		{"/v1.0/users?$skiptoken=eyJvIjoxLCJuIjotMX0", http.StatusBadRequest},
		{"/v1.0/users?$skiptoken=eyJuIjoxMDAwMDAwfQ", http.StatusBadRequest},
		{"/v1.0/users?$skiptoken=eyJvIjo5MjIzMzcyMDM2ODU0Nzc1ODA3LCJuIjoxfQ", http.StatusOK},
	} {
		w := httptest.NewRecorder()
		newFuzzServer(t).ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.target, nil))
		if w.Code != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.target, w.Code, tc.status, w.Body)
		}
		if tc.status == http.StatusBadRequest && !strings.Contains(w.Body.String(), "Directory_ExpiredPageToken") {
			t.Errorf("%s: %s, want Directory_ExpiredPageToken", tc.target, w.Body)
		}
	}
}

// TestServeMalformedQuery pins a query string that does not decode, or
// that gives a system query option twice: it is refused with 400, at the
// top and in a batch item, never served as if it had no options (the
// filter dropped, every user listed) or with only the first.
func TestServeMalformedQuery(t *testing.T) {
	w := httptest.NewRecorder()
	newFuzzServer(t).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1.0/users?$filter=userPrincipalName%20eq%20'bob@contoso.com'&x=%zz", nil))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"BadRequest"`) {
		t.Fatalf("top level: %d %s", w.Code, w.Body)
	}
	for _, target := range []string{"/v1.0/users?$select=id&$select=mail", "/v1.0/users?$top=1&$Top=5"} {
		w = httptest.NewRecorder()
		newFuzzServer(t).ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "more than once") {
			t.Fatalf("%s: %d %s", target, w.Code, w.Body)
		}
	}
	w = httptest.NewRecorder()
	batch := `{"requests":[{"id":"1","method":"GET","url":"/users?$filter=userPrincipalName eq 'bob@contoso.com'&x=%zz"}]}`
	newFuzzServer(t).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1.0/$batch", strings.NewReader(batch)))
	var ans struct {
		Responses []struct {
			Status int `json:"status"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil || len(ans.Responses) != 1 || ans.Responses[0].Status != http.StatusBadRequest {
		t.Fatalf("batch item: %d %s", w.Code, w.Body)
	}
}

// TestExchangeRefusedAddressChangesNothing pins Set-Mailbox with one
// address the emulator refuses among others: the whole change is refused
// before any of it is applied (the removal is not done half way).
func TestExchangeRefusedAddressChangesNothing(t *testing.T) {
	emu := newFuzzServer(t)
	invoke := func(params string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		body := `{"CmdletInput":{"CmdletName":"Set-Mailbox","Parameters":` + params + `}}`
		emu.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", strings.NewReader(body)))
		return w
	}
	if w := invoke(`{"Identity":"ann@contoso.com","EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Add":["smtp:keep@contoso.com"]}}`); w.Code != http.StatusOK {
		t.Fatalf("add: %d %s", w.Code, w.Body)
	}
	w := invoke(`{"Identity":"ann@contoso.com","EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Remove":["smtp:keep@contoso.com"],"Add":["X400:c=US;a= ;p=Contoso"]}}`)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("a refused address: %d %s", w.Code, w.Body)
	}
	// An address taken by another recipient (bob) fails the whole change too.
	w = invoke(`{"Identity":"ann@contoso.com","EmailAddresses":{"@odata.type":"#Exchange.GenericHashTable","Remove":["smtp:keep@contoso.com"],"Add":["smtp:new@contoso.com","smtp:bob@contoso.com"]}}`)
	if w.Code < 400 {
		t.Fatalf("an address taken by another recipient: %d %s", w.Code, w.Body)
	}
	for _, gone := range []string{"new@contoso.com"} {
		g := httptest.NewRecorder()
		emu.ServeHTTP(g, httptest.NewRequest(http.MethodPost, "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand",
			strings.NewReader(`{"CmdletInput":{"CmdletName":"Get-Recipient","Parameters":{"Identity":"`+gone+`"}}}`)))
		if g.Code == http.StatusOK {
			t.Fatalf("%s was added by a refused change: %s", gone, g.Body)
		}
	}
	get := httptest.NewRecorder()
	emu.ServeHTTP(get, httptest.NewRequest(http.MethodPost, "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand",
		strings.NewReader(`{"CmdletInput":{"CmdletName":"Get-Recipient","Parameters":{"Identity":"keep@contoso.com"}}}`)))
	if get.Code != http.StatusOK || !strings.Contains(get.Body.String(), "smtp:keep@contoso.com") {
		t.Fatalf("the address was removed by a refused change: %d %s", get.Code, get.Body)
	}
}
