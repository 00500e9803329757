package graphtenant

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	khttp "github.com/microsoft/kiota-http-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	graphauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// The paired bulk benchmark creates and licenses pairedUsers accounts
// (2 writes each) with the driver and with the plain SDK at the same
// concurrency, each against its own emulator, in the same iteration.
// Graph's figures are scaled in time by benchTimeScale: 300 ms per write
// and 100 ms per read (also per item of a batch, see the emulator's
// latency rules), a write quota of 600 per 30 s whose bucket starts
// empty (so the admitted ceiling is the refill rate, 1,000 writes/s
// scaled), and Retry-After scaled with it.
const (
	pairedUsers       = 600
	pairedConcurrency = 4
	benchReadLatency  = 100 * time.Millisecond / benchTimeScale
)

func pairedOptions() *m365emulator.Options {
	return &m365emulator.Options{
		ReadLatency:  benchReadLatency,
		WriteLatency: benchLatency,
		Throttling: &m365emulator.Quota{
			Writes: benchQuota, WriteWindow: benchQuotaWindow,
			Scale: 1.0 / benchTimeScale, StartEmpty: true,
		},
	}
}

// admittedCeiling is the emulator's refill rate, in writes per second.
func admittedCeiling() float64 {
	return float64(benchQuota) / (benchQuotaWindow.Seconds() / benchTimeScale)
}

type pairedRun struct {
	elapsed  time.Duration
	failed   int
	requests int64
	throttle int64
}

// runDriver creates and licenses the users with the driver's batches;
// failed items are retried, waiting what Graph asked, as the portable
// layer's retry does.
func runDriver(b *testing.B, pacerQuota int) pairedRun {
	e := newEmulated(b, pairedUsers, pairedOptions(), func(c *Config) {
		c.BatchConcurrency = pairedConcurrency
		c.RateLimit = pacer.Config{Quota: pacerQuota, Window: benchQuotaWindow / benchTimeScale}
	})
	ctx := context.Background()
	in := benchUsersToCreate(pairedUsers)
	start := time.Now()
	out := make([]backend.OnlineUser, len(in))
	pending := make([]int, len(in))
	for i := range pending {
		pending[i] = i
	}
	failed := 0
	for round := 0; len(pending) > 0; round++ {
		batch := make([]backend.NewOnlineUser, len(pending))
		for k, i := range pending {
			batch[k] = in[i]
		}
		got, errs := e.driver.CreateUsers(ctx, batch)
		var next []int
		var wait time.Duration
		for k, i := range pending {
			switch err := errs[k]; {
			case err == nil:
				out[i] = got[k]
			case backend.Retryable(err) && round < 20:
				d, _ := backend.RetryAfter(err)
				wait = max(wait, d)
				next = append(next, i)
			default:
				failed++
			}
		}
		pending = next
		time.Sleep(wait)
	}
	var changes []backend.LicenseChange
	for _, u := range out {
		if u.ID != "" {
			changes = append(changes, backend.LicenseChange{UserID: u.ID, Add: []backend.LicenseAssignment{{SKUID: e.sku.SKUID}}})
		}
	}
	for round := 0; len(changes) > 0; round++ {
		_, errs := e.driver.AssignLicensesMany(ctx, changes)
		var next []backend.LicenseChange
		var wait time.Duration
		for k, err := range errs {
			switch {
			case err == nil:
			case backend.Retryable(err) && round < 20:
				d, _ := backend.RetryAfter(err)
				wait = max(wait, d)
				next = append(next, changes[k])
			default:
				failed++
			}
		}
		changes = next
		time.Sleep(wait)
	}
	st := e.server.Stats()
	return pairedRun{elapsed: time.Since(start), failed: failed, requests: st.Requests, throttle: st.Throttled}
}

// runSDK is the peer a vendor would write: the plain SDK with Kiota's
// default middleware (its retry handler raised to 10 retries, honouring
// Retry-After), pairedConcurrency goroutines each creating a user and
// assigning its licence.
func runSDK(b *testing.B) pairedRun {
	e := newEmulated(b, pairedUsers, pairedOptions())
	srv := httptest.NewServer(e.server)
	defer srv.Close()
	auth, err := graphauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(StaticToken(testToken), []string{DefaultScope}, []string{"127.0.0.1"})
	require.NoError(b, err)
	opts := msgraphgocore.GraphClientOptions{GraphServiceVersion: "v1.0"}
	mws, err := khttp.GetDefaultMiddlewaresWithOptions(&khttp.RetryHandlerOptions{MaxRetries: 10, DelaySeconds: 3,
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return true }})
	require.NoError(b, err)
	mws = append([]khttp.Middleware{msgraphgocore.NewGraphTelemetryHandler(&opts)}, mws...)
	client := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(http.DefaultTransport, mws...), Timeout: time.Minute}
	adapter, err := msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, opts,
		jsonserialization.NewJsonParseNodeFactory(), jsonserialization.NewJsonSerializationWriterFactory(), client)
	require.NoError(b, err)
	adapter.SetBaseUrl(srv.URL + "/v1.0")
	builder := users.NewUsersRequestBuilderInternal(map[string]string{}, adapter)
	sku := uuid.MustParse(e.sku.SKUID)
	ctx := context.Background()
	in := benchUsersToCreate(pairedUsers)
	work := make(chan backend.NewOnlineUser)
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	start := time.Now()
	for range pairedConcurrency {
		wg.Go(func() {
			for u := range work {
				created, err := builder.Post(ctx, toNewUser(u), nil)
				if err == nil {
					body := users.NewItemAssignLicensePostRequestBody()
					al := models.NewAssignedLicense()
					al.SetSkuId(&sku)
					al.SetDisabledPlans([]uuid.UUID{})
					body.SetAddLicenses([]models.AssignedLicenseable{al})
					body.SetRemoveLicenses([]uuid.UUID{})
					_, err = builder.ByUserId(*created.GetId()).AssignLicense().Post(ctx, body, nil)
				}
				if err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	for _, u := range in {
		work <- u
	}
	close(work)
	wg.Wait()
	st := e.server.Stats()
	return pairedRun{elapsed: time.Since(start), failed: failed, requests: st.Requests, throttle: st.Throttled}
}

// BenchmarkBulkCreateVsSDK pairs the driver and the plain SDK in each
// iteration and reports the ratio of their times (sdk/driver), each one's
// share of the admitted write ceiling, requests and 429s. "paced" runs the
// driver's pacer at the emulator's quota; "overpaced" at twice it, so that
// the driver draws 429s and shows how it recovers.
func BenchmarkBulkCreateVsSDK(b *testing.B) {
	for _, tc := range []struct {
		name       string
		pacerQuota int
	}{{"paced", benchQuota}, {"overpaced", 2 * benchQuota}} {
		b.Run(tc.name, func(b *testing.B) {
			var d, s pairedRun
			for b.Loop() {
				d = runDriver(b, tc.pacerQuota)
				s = runSDK(b)
			}
			writes := float64(2 * pairedUsers)
			b.ReportMetric(s.elapsed.Seconds()/d.elapsed.Seconds(), "sdk/driver")
			b.ReportMetric(d.elapsed.Seconds(), "driver-s")
			b.ReportMetric(s.elapsed.Seconds(), "sdk-s")
			b.ReportMetric(100*writes/d.elapsed.Seconds()/admittedCeiling(), "driver-%ceiling")
			b.ReportMetric(100*writes/s.elapsed.Seconds()/admittedCeiling(), "sdk-%ceiling")
			b.ReportMetric(float64(d.requests), "driver-requests")
			b.ReportMetric(float64(s.requests), "sdk-requests")
			b.ReportMetric(float64(d.throttle), "driver-429s")
			b.ReportMetric(float64(s.throttle), "sdk-429s")
			// The SDK's items that exhaust Kiota's retries are reported,
			// not hidden: they end early and shorten its time.
			b.ReportMetric(float64(s.failed), "sdk-failed")
			if d.failed > 0 {
				b.Errorf("the driver failed %d items", d.failed)
			}
		})
	}
}
