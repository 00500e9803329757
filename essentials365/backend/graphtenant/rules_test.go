package graphtenant

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// TestBatchesAreFullyParallel runs the bulk calls against the emulator,
// which refuses, as Graph does, a batch mixing independent requests with
// dependsOn chains: 25 creates are 2 batches of creates and 2 of reads,
// 25 assignments 2 of assignments and 2 of reads.
func TestBatchesAreFullyParallel(t *testing.T) {
	e := newEmulated(t, 30, nil)
	in := make([]backend.NewOnlineUser, 25)
	for i := range in {
		in[i] = backend.NewOnlineUser{UserPrincipalName: fmt.Sprintf("par%02d@%s", i, testDomain), DisplayName: "Par", UsageLocation: "FR", Password: "Bulk!Passw0rd"}
	}
	out, errs := e.driver.CreateUsers(t.Context(), in)
	changes := make([]backend.LicenseChange, len(in))
	for i := range in {
		require.NoError(t, errs[i])
		assert.False(t, out[i].LastPasswordChange.IsZero(), "read back")
		changes[i] = backend.LicenseChange{UserID: out[i].ID, Add: []backend.LicenseAssignment{{SKUID: e.sku.SKUID}}}
	}
	st := e.server.Stats()
	assert.Equal(t, int64(4), st.Requests)
	assert.Equal(t, int64(50), st.BatchItems)

	got, errs := e.driver.AssignLicensesMany(t.Context(), changes)
	for i := range changes {
		require.NoError(t, errs[i])
		assert.True(t, got[i].Licensed())
	}
	st = e.server.Stats()
	assert.Equal(t, int64(8), st.Requests)
	assert.Equal(t, int64(100), st.BatchItems)
	assert.Equal(t, int64(50), st.WritesAccepted)
}

// TestDeltaLinksAreOpaque follows both documented forms of Graph's delta
// links, /users/delta() and /users/microsoft.graph.delta(), over several
// pages and rounds, with "Prefer: odata.maxpagesize" pages of 2.
func TestDeltaLinksAreOpaque(t *testing.T) {
	for _, form := range []m365emulator.DeltaLinkForm{m365emulator.DeltaLinksPlain, m365emulator.DeltaLinksQualified} {
		t.Run(fmt.Sprint(form), func(t *testing.T) {
			e := newEmulated(t, 3, &m365emulator.Options{DeltaLinks: form}, func(c *Config) { c.PageSize = 2 })
			ctx := t.Context()
			for i := range 5 {
				_, err := e.mem.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: fmt.Sprintf("d%d@%s", i, testDomain),
					DisplayName: "D", Password: "Delta!Passw0rd"})
				require.NoError(t, err)
			}
			seen := map[string]bool{}
			w := ""
			rounds := 0
			for range 10 {
				rounds++
				ch, err := e.driver.Changes(ctx, w)
				require.NoError(t, err)
				assert.LessOrEqual(t, len(ch.Changes), 2, "Prefer: odata.maxpagesize=2")
				for _, c := range ch.Changes {
					seen[c.User.UserPrincipalName] = true
				}
				w = ch.Watermark
				if !ch.More {
					break
				}
			}
			assert.Len(t, seen, 5)
			assert.Equal(t, 3, rounds, "5 users in pages of 2")
			u, err := e.mem.GetUser(ctx, "d3@"+testDomain)
			require.NoError(t, err)
			require.NoError(t, e.mem.DeleteUser(ctx, u.ID))
			ch, err := e.driver.Changes(ctx, w)
			require.NoError(t, err)
			require.Len(t, ch.Changes, 1)
			assert.Equal(t, backend.Deleted, ch.Changes[0].Type)
			assert.Equal(t, u.ID, ch.Changes[0].User.ID)
			want := "/users/delta()"
			if form == m365emulator.DeltaLinksQualified {
				want = "/users/microsoft.graph.delta()"
			}
			assert.Positive(t, e.server.Stats().Routes["GET /users/delta"])
			link, err := e.driver.decodeWatermark(opChanges, ch.Watermark)
			require.NoError(t, err)
			assert.Contains(t, link, want)
		})
	}
}

// TestConflictsBothForms: a conflicting create is AlreadyExists whether
// Graph names the property with an ObjectConflict detail or answers the
// directory's generic "A conflicting object ..." without details, alone
// or in a batch; the emulator sends no reason detail, as Graph.
func TestConflictsBothForms(t *testing.T) {
	for _, form := range []m365emulator.ConflictForm{m365emulator.ConflictsWithDetails, m365emulator.ConflictsWithoutDetails} {
		t.Run(fmt.Sprint(form), func(t *testing.T) {
			e := newEmulated(t, 3, &m365emulator.Options{Conflicts: form})
			ctx := t.Context()
			nu := backend.NewOnlineUser{UserPrincipalName: "twice@" + testDomain, DisplayName: "Twice", Password: "Twice!Passw0rd"}
			_, err := e.driver.CreateUser(ctx, nu)
			require.NoError(t, err)
			_, err = e.driver.CreateUser(ctx, nu)
			require.ErrorIs(t, err, backend.ErrAlreadyExists)
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			if form == m365emulator.ConflictsWithoutDetails {
				assert.Empty(t, re.DetailCodes)
				assert.Equal(t, "A conflicting object with one or more of the specified property values is present in the directory.", re.Message)
			} else {
				assert.Equal(t, []string{"ObjectConflict"}, re.DetailCodes)
			}
			_, errs := e.driver.CreateUsers(ctx, []backend.NewOnlineUser{nu})
			assert.ErrorIs(t, errs[0], backend.ErrAlreadyExists)
		})
	}
}

// TestReasonsFromGraphMessages: with the emulator answering as Graph (no
// reason detail), the driver names the rules from Graph's messages.
func TestReasonsFromGraphMessages(t *testing.T) {
	e := newEmulated(t, 1, nil)
	ctx := t.Context()
	tests := []struct {
		upn    string
		reason backend.Reason
	}{
		{"a..b@" + testDomain, backend.ReasonUPNSyntax},
		{"a*b@" + testDomain, backend.ReasonUPNCharacters},
		{"ab@nowhere.example", backend.ReasonUPNDomainUnverified},
	}
	for _, tc := range tests {
		_, err := e.driver.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: tc.upn, DisplayName: "X", Password: "Rules!Passw0rd"})
		require.ErrorIs(t, err, backend.ErrInvalidArgument, tc.upn)
		assert.Equal(t, tc.reason, backend.ReasonOf(err), tc.upn)
	}
	u, err := e.driver.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: "nolo@" + testDomain, DisplayName: "X", Password: "Rules!Passw0rd"})
	require.NoError(t, err)
	_, err = e.driver.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: e.sku.SKUID}}, nil)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, backend.ReasonUsageLocationRequired, backend.ReasonOf(err))
}

// TestDollarUPN: a userPrincipalName starting with '$' is addressed as
// /users('$x@y.com') (user-get doc); the emulator refuses /users/$x@y.com
// as Graph does, so every call below goes through the quoted form.
func TestDollarUPN(t *testing.T) {
	e := newEmulated(t, 3, nil)
	ctx := t.Context()
	upn := "$o'hara@" + testDomain
	_, err := e.mem.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: upn, DisplayName: "Dollar", MailNickname: "ohara",
		Password: "Dollar!Passw0rd"})
	require.NoError(t, err)

	u, err := e.driver.GetUser(ctx, upn)
	require.NoError(t, err)
	assert.Equal(t, upn, u.UserPrincipalName)
	assert.True(t, u.AccountEnabled, "read with $select")
	loc := "FR"
	require.NoError(t, e.driver.UpdateUser(ctx, upn, backend.OnlineUserUpdate{UsageLocation: &loc}))
	got, err := e.driver.AssignLicenses(ctx, upn, []backend.LicenseAssignment{{SKUID: e.sku.SKUID}}, nil)
	require.NoError(t, err)
	assert.True(t, got.Licensed())
	assert.Equal(t, "FR", got.UsageLocation)
	_, errs := e.driver.AssignLicensesMany(ctx, []backend.LicenseChange{{UserID: upn, Remove: []string{e.sku.SKUID}}})
	require.NoError(t, errs[0])
	require.NoError(t, e.driver.DeleteUser(ctx, upn))
	_, err = e.mem.GetUser(ctx, u.ID)
	assert.ErrorIs(t, err, backend.ErrNotFound)

	routes := e.server.Stats().Routes
	assert.Equal(t, int64(3), routes["GET /users/{id}"], "get, and the read-backs of both assignments")
	assert.Equal(t, int64(1), routes["PATCH /users/{id}"])
	assert.Equal(t, int64(2), routes["POST /users/{id}/assignLicense"])
	assert.Equal(t, int64(1), routes["DELETE /users/{id}"])
	assert.Zero(t, routes["unmatched"])
}

// TestRecordTypesWithoutHash reads a domain's DNS records whether Graph
// types them "#microsoft.graph.domainDnsMxRecord" or, as the API
// reference's example does, without the '#' (the SDK then decodes the base
// type): the same MX, TXT and CNAME fields come back.
func TestRecordTypesWithoutHash(t *testing.T) {
	read := func(form m365emulator.ODataTypeForm) []backend.DNSRecord {
		e := newEmulated(t, 1, &m365emulator.Options{RecordTypes: form})
		recs, err := e.driver.ServiceConfigurationRecords(t.Context(), testDomain)
		require.NoError(t, err)
		return recs
	}
	prefixed, bare := read(m365emulator.ODataTypesPrefixed), read(m365emulator.ODataTypesBare)
	require.NotEmpty(t, prefixed)
	assert.Equal(t, prefixed, bare)
	kinds := map[string]bool{}
	for _, r := range bare {
		kinds[string(r.Type)] = true
		switch r.Type {
		case backend.DNSTypeMX:
			assert.NotEmpty(t, r.Exchange)
		case backend.DNSTypeTXT:
			assert.NotEmpty(t, r.Text)
		case backend.DNSTypeCNAME, backend.DNSTypeSRV:
			assert.NotEmpty(t, r.Target)
		}
	}
	assert.True(t, kinds["MX"] && kinds["TXT"] && kinds["CNAME"], "%v", kinds)
}

// TestSuspendedSubscription: through Graph's subscribedSkus, a suspended
// subscription shows its status and no free seat (its units moved to
// prepaidUnits.suspended), and its licences cannot be assigned.
func TestSuspendedSubscription(t *testing.T) {
	e := newEmulated(t, 3, nil)
	ctx := t.Context()
	require.NoError(t, e.mem.SetCapabilityStatus(e.sku.SKUID, backend.CapabilitySuspended))
	skus, err := e.driver.SubscribedSKUs(ctx)
	require.NoError(t, err)
	require.Len(t, skus, 1)
	assert.Equal(t, backend.CapabilitySuspended, skus[0].CapabilityStatus)
	assert.False(t, skus[0].Usable())
	assert.Zero(t, skus[0].Available())
	u, err := e.driver.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: "susp@" + testDomain, DisplayName: "S", UsageLocation: "FR", Password: "Susp!Passw0rd"})
	require.NoError(t, err)
	_, err = e.driver.AssignLicenses(ctx, u.ID, []backend.LicenseAssignment{{SKUID: e.sku.SKUID}}, nil)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, backend.ReasonNoFreeLicense, backend.ReasonOf(err))
}

// TestOverTLS: the driver reads the emulator served over TLS with a
// generated certificate, following its https paging links.
func TestOverTLS(t *testing.T) {
	cert, err := m365emulator.NewTLSCertificate(nil, time.Now(), 0)
	require.NoError(t, err)
	mem := memory.NewTenant(&memory.TenantOptions{InitialDomain: testInitial})
	for i := range 5 {
		_, err := mem.CreateUser(t.Context(), backend.NewOnlineUser{UserPrincipalName: fmt.Sprintf("tls%d@%s", i, testInitial), DisplayName: "T", Password: "Tls!Passw0rd"})
		require.NoError(t, err)
	}
	srv := httptest.NewUnstartedServer(m365emulator.New(mem, nil))
	srv.TLS = cert.Config()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	drv, err := New(Config{
		Credential: StaticToken("t"), BaseURL: srv.URL + "/v1.0", PageSize: 2, RateLimit: pacer.Config{Disabled: true},
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.CertPool(), MinVersion: tls.VersionTLS12}},
	})
	require.NoError(t, err)
	n := 0
	for _, err := range drv.ListUsers(t.Context()) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 5, n)
}
