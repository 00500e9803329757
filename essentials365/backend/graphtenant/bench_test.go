package graphtenant

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/essentials365/sdk/essentials365/backend/pacer"

	"github.com/google/uuid"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	graphauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// The bulk-create benchmarks create and license 2,000 accounts (4,000
// writes) against the emulator with Graph's figures scaled in time by
// benchTimeScale: 300 ms per write becomes 6 ms, and the write quota is
// 600 writes per 30 s (Graph's rate of 20 writes/s, in a bucket small
// enough to bind over 4,000 writes) made 50 times faster: 600 writes per
// 600 ms, a ceiling of 1,000 writes/s. (At 100 times, the 2 ms left of
// each write is less than the CPU time the SDK and the emulator spend on
// it, and the benchmark measures the machine instead of the pacing.)
const (
	benchUsers       = 2000
	benchTimeScale   = 50
	benchQuota       = 600
	benchQuotaWindow = 30 * time.Second
	benchLatency     = 300 * time.Millisecond / benchTimeScale
)

func benchOptions() *m365emulator.Options {
	return &m365emulator.Options{
		WriteLatency: benchLatency,
		Throttling: &m365emulator.Quota{
			Writes: benchQuota, WriteWindow: benchQuotaWindow,
			Scale: 1.0 / benchTimeScale,
		},
	}
}

func benchUsersToCreate(n int) []backend.NewOnlineUser {
	out := make([]backend.NewOnlineUser, n)
	for i := range out {
		out[i] = backend.NewOnlineUser{
			UserPrincipalName: fmt.Sprintf("bench%05d@%s", i, testDomain),
			DisplayName:       fmt.Sprintf("Bench %05d", i),
			UsageLocation:     "FR",
			Password:          "Bench!Passw0rd",
			ImmutableID:       backend.NewGUID().ImmutableID(),
		}
	}
	return out
}

// reportBench reports the emulator's counters and the throughput as a
// fraction of the quota ceiling.
func reportBench(b *testing.B, st m365emulator.Stats, failed int, elapsed time.Duration) {
	writes := float64(2 * benchUsers)
	ceiling := float64(benchQuota) / (benchQuotaWindow.Seconds() / benchTimeScale) // writes/s
	b.ReportMetric(float64(st.Requests), "requests/op")
	b.ReportMetric(float64(st.Requests+st.BatchItems), "graph-calls/op")
	b.ReportMetric(float64(st.Throttled), "429s/op")
	b.ReportMetric(writes/elapsed.Seconds()/ceiling, "quota-fraction")
	b.ReportMetric(float64(failed), "failed-items/op")
}

// BenchmarkBulkCreateBatched is the driver's path: JSON batches, several in
// flight, paced by the rate limiter, with the single retry loop of the
// portable layer for what still fails.
func BenchmarkBulkCreateBatched(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		e := newEmulated(b, benchUsers, benchOptions(), func(c *Config) {
			c.RateLimit = pacer.Config{Quota: benchQuota, Window: benchQuotaWindow / benchTimeScale}
		})
		in := benchUsersToCreate(benchUsers)
		ctx := context.Background()
		b.StartTimer()
		start := time.Now()

		out, errs := e.driver.CreateUsers(ctx, in)
		failed := 0
		changes := make([]backend.LicenseChange, 0, len(in))
		for i, err := range errs {
			if err != nil {
				failed++
				continue
			}
			changes = append(changes, backend.LicenseChange{UserID: out[i].ID, Add: []backend.LicenseAssignment{{SKUID: e.sku.SKUID}}})
		}
		_, lerrs := e.driver.AssignLicensesMany(ctx, changes)
		for _, err := range lerrs {
			if err != nil {
				failed++
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if failed > 0 {
			b.Errorf("%d items failed: %v", failed, firstErr(append(errs, lerrs...)))
		}
		reportBench(b, e.server.Stats(), failed, elapsed)
		b.StartTimer()
	}
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkBulkCreateNaive is the plain SDK one request at a time: create,
// then assign the license. It is not the fair peer (a vendor would run
// several goroutines): BenchmarkBulkCreateVsSDK pairs the driver with the
// plain SDK at the same concurrency.
func BenchmarkBulkCreateNaive(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		e := newEmulated(b, benchUsers, benchOptions())
		srv := httptest.NewServer(e.server)
		b.Cleanup(srv.Close)
		auth, err := graphauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(StaticToken(testToken), []string{DefaultScope}, []string{"127.0.0.1"})
		require.NoError(b, err)
		opts := msgraphgocore.GraphClientOptions{GraphServiceVersion: "v1.0"}
		adapter, err := msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, opts,
			jsonserialization.NewJsonParseNodeFactory(), jsonserialization.NewJsonSerializationWriterFactory(), msgraphgocore.GetDefaultClient(&opts))
		require.NoError(b, err)
		adapter.SetBaseUrl(srv.URL + "/v1.0")
		client := users.NewUsersRequestBuilderInternal(map[string]string{}, adapter)
		sku := uuid.MustParse(e.sku.SKUID)
		in := benchUsersToCreate(benchUsers)
		ctx := context.Background()
		b.StartTimer()
		start := time.Now()

		failed := 0
		for _, u := range in {
			created, err := client.Post(ctx, toNewUser(u), nil)
			if err != nil {
				failed++
				continue
			}
			body := users.NewItemAssignLicensePostRequestBody()
			al := models.NewAssignedLicense()
			al.SetSkuId(&sku)
			al.SetDisabledPlans([]uuid.UUID{})
			body.SetAddLicenses([]models.AssignedLicenseable{al})
			body.SetRemoveLicenses([]uuid.UUID{})
			if _, err := client.ByUserId(*created.GetId()).AssignLicense().Post(ctx, body, nil); err != nil {
				failed++
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		reportBench(b, e.server.Stats(), failed, elapsed)
		b.StartTimer()
	}
}
