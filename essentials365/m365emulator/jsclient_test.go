package m365emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// jsSummary is what testdata/jsclient/check.js prints.
type jsSummary struct {
	Client string `json:"client"`
	Users  struct {
		IDs              []string `json:"ids"`
		TopPages         []int    `json:"topPages"`
		SkipTokenPages   []int    `json:"skipTokenPages"`
		Count            int      `json:"count"`
		MaxPageSizePages []int    `json:"maxPageSizePages"`
	} `json:"users"`
	Organization struct {
		ID              string   `json:"id"`
		DisplayName     string   `json:"displayName"`
		VerifiedDomains []string `json:"verifiedDomains"`
		DefaultDomain   string   `json:"defaultDomain"`
	} `json:"organization"`
	SubscribedSkus []struct {
		SkuID         string `json:"skuId"`
		SkuPartNumber string `json:"skuPartNumber"`
		Enabled       int    `json:"enabled"`
		Consumed      int    `json:"consumed"`
	} `json:"subscribedSkus"`
	Created struct {
		ID                string `json:"id"`
		UserPrincipalName string `json:"userPrincipalName"`
		DisplayName       string `json:"displayName"`
		UsageLocation     string `json:"usageLocation"`
		SkuID             string `json:"skuId"`
	} `json:"created"`
	Delta struct {
		Round1      []string `json:"round1"`
		Round1Pages []int    `json:"round1Pages"`
		Round2      []string `json:"round2"`
		// Round3Removed holds the created user's id when the round after
		// its deletion reported it.
		Round3Removed []string `json:"round3Removed"`
	} `json:"delta"`
	Batch struct {
		Status       map[string]int `json:"status"`
		NotFoundCode string         `json:"notFoundCode"`
	} `json:"batch"`
	Domains []struct {
		ID         string   `json:"id"`
		IsVerified bool     `json:"isVerified"`
		IsDefault  bool     `json:"isDefault"`
		Records    []string `json:"records"`
	} `json:"domains"`
}

// TestOfficialJavaScriptClient runs Microsoft's JavaScript Graph client
// (@microsoft/microsoft-graph-client, the version pinned in
// testdata/jsclient/package-lock.json), unmodified, against the emulator
// served over TLS with a generated authority, and checks what it read and
// wrote against the memory tenant: paging with $top and with Prefer:
// odata.maxpagesize through PageIterator and with the .skipToken()
// builder, @odata.count with ConsistencyLevel: eventual, users delta to
// the end and again from the deltaLink after a change and after a
// deletion (@removed), organization (list and by id) and subscribedSkus
// with $select, a user created, licensed, patched, deleted and restored,
// a JSON batch through BatchRequestContent and BatchResponseContent, and
// the domains (with $select) and their serviceConfigurationRecords. It
// runs once against the default answers and once against the documented
// variants with 429 and 503 answers the client must retry.
//
// Node.js and npm are optional tools here, not parts of the SDK: without
// them, or when "npm ci" cannot reach the npm registry, the test skips,
// with E365_REQUIRE_INTEGRATION=1 too (a Go-only CI machine must not fail
// for want of Node). Wherever Node runs, a failed run fails the test,
// whatever that variable says.
func TestOfficialJavaScriptClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs npm and node: skipped with -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the official JavaScript Graph client cannot run (install Node.js 18 or later)")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the official JavaScript Graph client cannot be installed (install npm with Node.js)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	// Install the pinned client into a temporary copy of testdata/jsclient.
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "check.js"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "jsclient", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), raw, 0o600))
	}
	// npm's own retries take minutes to give up on an unreachable
	// registry; one short retry is enough to tell.
	fetch := []string{"--fetch-retries=1", "--fetch-retry-mintimeout=1000", "--fetch-retry-maxtimeout=3000", "--fetch-timeout=15000"}
	install := exec.CommandContext(ctx, npm, append([]string{"ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"}, fetch...)...)
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		ping := exec.CommandContext(ctx, npm, append([]string{"ping"}, fetch...)...)
		ping.Dir = dir
		if pout, perr := ping.CombinedOutput(); perr != nil {
			t.Skipf("the npm registry is unreachable, so the official client cannot be installed: %v\n%s\n%s", err, out, pout)
		}
		t.Fatalf("npm ci failed although the registry answers (is package-lock.json in step with package.json?): %v\n%s", err, out)
	}

	t.Run("default answers", func(t *testing.T) {
		runJSClient(t, node, dir, &m365emulator.Options{}, nil)
	})
	// The documented variants of Graph's answers (delta links to
	// /users/microsoft.graph.delta(), record types without '#', batch
	// answers in any order) and 429/503 answers the client's RetryHandler
	// must retry, honouring Retry-After.
	t.Run("variants and retries", func(t *testing.T) {
		opts := &m365emulator.Options{
			DeltaLinks:     m365emulator.DeltaLinksQualified,
			RecordTypes:    m365emulator.ODataTypesBare,
			ShuffleBatch:   true,
			ZeroRetryAfter: true,
			Seed:           7,
		}
		faults := []m365emulator.ScriptedFault{
			{Method: "GET", PathPrefix: "/users", Kind: m365emulator.FaultThrottle, Count: 2},
			{Method: "GET", PathPrefix: "/users/delta", Kind: m365emulator.FaultUnavailable},
			{Method: "GET", PathPrefix: "/organization", Kind: m365emulator.FaultThrottle},
			{Method: "POST", PathPrefix: "/users", Kind: m365emulator.FaultUnavailable},
			{Method: "PATCH", PathPrefix: "/users", Kind: m365emulator.FaultThrottle},
		}
		st := runJSClient(t, node, dir, opts, faults)
		assert.Equal(t, int64(4), st.Throttled, "429s answered (each retried by the client)")
		assert.Equal(t, int64(2), st.Unavailable, "503s answered (each retried by the client)")
	})
}

// runJSClient serves a fresh tenant over TLS with opts (and the token the
// script sends), queues faults, runs check.js from dir and checks its
// summary against the tenant. It returns the emulator's counters.
func runJSClient(t *testing.T, node, dir string, opts *m365emulator.Options, faults []m365emulator.ScriptedFault) m365emulator.Stats {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	tenant := jsTenant()
	cert, err := m365emulator.NewTLSCertificate(nil, time.Now(), 0)
	require.NoError(t, err)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, cert.CAPEM, 0o600))
	const token = "js-client-check-token"
	opts.Token = token
	emu := m365emulator.New(tenant, opts)
	srv := httptest.NewUnstartedServer(emu)
	srv.TLS = cert.Config()
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// What the tenant holds before the client writes.
	seedIDs := userIDs(t, tenant)
	skusBefore, err := tenant.SubscribedSKUs(t.Context())
	require.NoError(t, err)
	emu.Script(faults...)

	const pageSize = 2
	run := exec.CommandContext(ctx, node, "check.js")
	run.Dir = dir
	run.Env = append(os.Environ(),
		"GRAPH_BASE_URL="+srv.URL,
		"GRAPH_TOKEN="+token,
		fmt.Sprintf("GRAPH_PAGE_SIZE=%d", pageSize),
		"NODE_EXTRA_CA_CERTS="+caFile,
	)
	var stderr strings.Builder
	run.Stderr = &stderr
	out, err := run.Output()
	require.NoError(t, err, "the official client failed against the emulator:\n%s", stderr.String())
	var sum jsSummary
	require.NoError(t, json.Unmarshal(out, &sum), "summary: %s", out)
	t.Logf("@microsoft/microsoft-graph-client %s", sum.Client)
	assert.Equal(t, "3.0.7", sum.Client, "the client version installed is not the one package.json pins")

	// Paging: every seeded user once, in pages of at most pageSize.
	assert.Equal(t, seedIDs, sum.Users.IDs)
	assert.Equal(t, len(seedIDs), sum.Users.Count, "@odata.count")
	wantPages := (len(seedIDs) + pageSize - 1) / pageSize
	for name, pages := range map[string][]int{"$top": sum.Users.TopPages, "$skipToken": sum.Users.SkipTokenPages, "odata.maxpagesize": sum.Users.MaxPageSizePages, "delta": sum.Delta.Round1Pages} {
		assert.Len(t, pages, wantPages, "%s pages %v", name, pages)
		total := 0
		for _, n := range pages {
			assert.LessOrEqual(t, n, pageSize, "%s pages %v", name, pages)
			total += n
		}
		assert.Equal(t, len(seedIDs), total, "%s pages %v", name, pages)
	}
	assert.Equal(t, seedIDs, sum.Delta.Round1)
	assert.Contains(t, sum.Delta.Round2, sum.Created.ID)
	assert.NotContains(t, sum.Delta.Round2, seedIDs[0], "an unchanged user came back in the second delta round")
	assert.Equal(t, []string{sum.Created.ID}, sum.Delta.Round3Removed, "the deleted user in the third delta round")

	// Organization.
	org, err := tenant.Organization(t.Context())
	require.NoError(t, err)
	assert.Equal(t, org.ID, sum.Organization.ID)
	assert.Equal(t, org.DisplayName, sum.Organization.DisplayName)
	domains, err := tenant.Domains(t.Context())
	require.NoError(t, err)
	var verified []string
	for _, d := range domains {
		if d.IsVerified {
			verified = append(verified, d.Name)
		}
		if d.IsDefault {
			assert.Equal(t, d.Name, sum.Organization.DefaultDomain)
		}
	}
	slices.Sort(verified)
	assert.Equal(t, verified, sum.Organization.VerifiedDomains)

	// SKUs as they were before the licence was assigned.
	require.Len(t, sum.SubscribedSkus, len(skusBefore))
	for _, s := range skusBefore {
		i := slices.IndexFunc(sum.SubscribedSkus, func(g struct {
			SkuID         string `json:"skuId"`
			SkuPartNumber string `json:"skuPartNumber"`
			Enabled       int    `json:"enabled"`
			Consumed      int    `json:"consumed"`
		}) bool {
			return g.SkuID == s.SKUID
		})
		if assert.GreaterOrEqual(t, i, 0, "SKU %s not listed", s.SKUID) {
			g := sum.SubscribedSkus[i]
			assert.Equal(t, s.PartNumber, g.SkuPartNumber)
			assert.Equal(t, s.Enabled, g.Enabled)
			assert.Equal(t, s.Consumed, g.Consumed)
		}
	}

	// The user the client created, licensed and patched.
	u, err := tenant.GetUser(t.Context(), sum.Created.ID)
	require.NoError(t, err)
	assert.Equal(t, sum.Created.UserPrincipalName, u.UserPrincipalName)
	assert.Equal(t, sum.Created.DisplayName, u.DisplayName)
	assert.Equal(t, "BE", u.UsageLocation)
	assert.True(t, slices.ContainsFunc(u.AssignedLicenses, func(l backend.AssignedLicense) bool { return l.SKUID == sum.Created.SkuID }),
		"licence %s not assigned in the tenant: %+v", sum.Created.SkuID, u.AssignedLicenses)

	// The batch.
	assert.Equal(t, map[string]int{"1": 200, "2": 200, "3": 204, "4": 404}, sum.Batch.Status)
	assert.Equal(t, "Request_ResourceNotFound", sum.Batch.NotFoundCode)

	// Domains and their service configuration records.
	require.Len(t, sum.Domains, len(domains))
	for _, d := range domains {
		i := slices.IndexFunc(sum.Domains, func(g struct {
			ID         string   `json:"id"`
			IsVerified bool     `json:"isVerified"`
			IsDefault  bool     `json:"isDefault"`
			Records    []string `json:"records"`
		}) bool {
			return g.ID == d.Name
		})
		if !assert.GreaterOrEqual(t, i, 0, "domain %s not listed", d.Name) {
			continue
		}
		g := sum.Domains[i]
		assert.Equal(t, d.IsVerified, g.IsVerified, d.Name)
		assert.Equal(t, d.IsDefault, g.IsDefault, d.Name)
		if !d.IsVerified {
			continue
		}
		recs, err := tenant.ServiceConfigurationRecords(t.Context(), d.Name)
		require.NoError(t, err)
		want := make([]string, 0, len(recs))
		for _, r := range recs {
			want = append(want, strings.ToLower(string(r.Type)+" "+r.Name))
		}
		got := make([]string, 0, len(g.Records))
		for _, r := range g.Records {
			got = append(got, strings.ToLower(r))
		}
		slices.Sort(want)
		slices.Sort(got)
		assert.Equal(t, want, got, "serviceConfigurationRecords of %s", d.Name)
		if d.Name == "contoso.com" {
			assert.NotEmpty(t, got, "contoso.com has no service records")
		}
	}
	return emu.Stats()
}

// jsTenant is a memory tenant with five users (more than two pages of
// two), a verified default domain, an unverified one and a SKU with free
// seats.
func jsTenant() *memory.Tenant {
	const skuID = "00000000-0000-4000-8000-0000000000e3"
	users := make([]memory.UserSeed, 0, 5)
	for i := range 5 {
		users = append(users, memory.UserSeed{User: backend.NewOnlineUser{
			UserPrincipalName: fmt.Sprintf("js%d@contoso.com", i),
			DisplayName:       fmt.Sprintf("JS User %d", i),
			MailNickname:      fmt.Sprintf("js%d", i),
			UsageLocation:     "FR",
			Password:          testPassword,
		}})
	}
	users[0].Licenses = []backend.LicenseAssignment{{SKUID: skuID}}
	return memory.NewTenant(&memory.TenantOptions{
		TenantID:      testTenantID,
		DisplayName:   "Contoso",
		InitialDomain: "contoso.onmicrosoft.com",
		Domains:       []memory.DomainSeed{{Name: "contoso.com", Default: true}, {Name: "fabrikam.com", Unverified: true}},
		SKUs: []backend.SKU{{SKUID: skuID, PartNumber: "ENTERPRISEPACK", Enabled: 5,
			ServicePlans: []backend.ServicePlan{{ID: e3PlanExchange, Name: "EXCHANGE_S_ENTERPRISE"}}}},
		Users: users,
	})
}

// userIDs lists the tenant's user ids, sorted.
func userIDs(t *testing.T, tn *memory.Tenant) []string {
	t.Helper()
	var ids []string
	for u, err := range tn.ListUsers(t.Context()) {
		require.NoError(t, err)
		ids = append(ids, u.ID)
	}
	slices.Sort(ids)
	return ids
}
