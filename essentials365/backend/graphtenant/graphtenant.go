package graphtenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend/pacer"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	graphauth "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"

	"github.com/essentials365/sdk/essentials365/backend"
)

// DefaultBaseURL is Microsoft Graph v1.0 in the global cloud.
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// DefaultScope is the application-permission scope of Microsoft Graph.
const DefaultScope = "https://graph.microsoft.com/.default"

// Config configures [New].
type Config struct {
	// Credential obtains tokens: any azcore.TokenCredential (azidentity's
	// client secret, certificate, managed identity or device code
	// credentials), or [StaticToken]. Required.
	Credential azcore.TokenCredential
	// BaseURL is Graph's root; default DefaultBaseURL. Plain http is
	// accepted for loopback hosts only (an emulator in tests).
	BaseURL string
	// Scopes are requested from Credential; default DefaultScope.
	Scopes []string
	// HTTPClient replaces the HTTP client. Its Transport is used as the
	// innermost transport, under the SDK's middleware; its Timeout is kept.
	HTTPClient *http.Client
	// Transport is the innermost transport when HTTPClient is nil; default
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives debug records of requests and throttling; default
	// discards.
	Logger *slog.Logger
	// RateLimit configures the client-side write pacing (see
	// [pacer.Limiter]).
	RateLimit pacer.Config
	// PageSize is $top for listings; default 100, at most 999.
	PageSize int
	// BatchConcurrency bounds the JSON batches in flight at once for
	// CreateUsers and AssignLicensesMany; default 4.
	BatchConcurrency int
	// Now is the clock used to read Retry-After dates; default time.Now.
	Now func() time.Time
	// CompressMinBytes is the size from which request bodies are gzipped
	// (with pooled writers); default 1024, negative never compresses.
	// Smaller bodies gain nothing from gzip.
	CompressMinBytes int
}

// Tenant is a Microsoft 365 tenant reached through Microsoft Graph. It
// implements backend.Tenant, backend.BatchTenant and backend.DomainAdmin.
//
// A Tenant is safe for concurrent use by multiple goroutines.
type Tenant struct {
	adapter   abstractions.RequestAdapter
	base      *url.URL
	log       *slog.Logger
	limiter   *pacer.Limiter
	pageSize  int32
	batchConc int
	now       func() time.Time
	cred      azcore.TokenCredential // for RequirementFacts and SecretRotator (requirements.go)
	scopes    []string
}

// Compile-time proof of the contracts.
var (
	_ backend.Tenant      = (*Tenant)(nil)
	_ backend.BatchTenant = (*Tenant)(nil)
	_ backend.DomainAdmin = (*Tenant)(nil)
)

// New returns a driver for the tenant cfg.Credential signs in to.
func New(cfg Config) (*Tenant, error) {
	const op = opConnect
	cfg, base, err := cfg.withDefaults(op)
	if err != nil {
		return nil, err
	}
	t := &Tenant{
		base:      base,
		log:       cfg.Logger,
		limiter:   pacer.New(cfg.RateLimit),
		pageSize:  int32(cfg.PageSize),
		batchConc: cfg.BatchConcurrency,
		now:       cfg.Now,
		cred:      cfg.Credential,
		scopes:    cfg.Scopes,
	}
	if t.adapter, err = t.newAdapter(op, cfg); err != nil {
		return nil, err
	}
	return t, nil
}

// withDefaults checks cfg (a credential, an absolute https base URL, or
// http to a loopback host) and fills in the documented defaults; it also
// returns the parsed base URL.
func (cfg Config) withDefaults(op string) (Config, *url.URL, error) {
	if cfg.Credential == nil {
		return cfg, nil, backend.Invalid(op, "", ReasonCredential, "a credential is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return cfg, nil, backend.Invalid(op, cfg.BaseURL, ReasonBaseURL, "the base URL must be absolute")
	}
	switch base.Scheme {
	case "https":
	case "http":
		if !isLoopback(base.Hostname()) {
			return cfg, nil, backend.Invalid(op, cfg.BaseURL, ReasonBaseURL, "plain http is allowed for loopback hosts only")
		}
	default:
		return cfg, nil, backend.Invalid(op, cfg.BaseURL, ReasonBaseURL, "the base URL must use https")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{DefaultScope}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.PageSize > 999 {
		cfg.PageSize = 999
	}
	if cfg.BatchConcurrency <= 0 {
		cfg.BatchConcurrency = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RateLimit.Clock == nil {
		cfg.RateLimit.Clock = pacer.RealClock{}
	}
	if cfg.CompressMinBytes == 0 {
		cfg.CompressMinBytes = defaultCompressMin
	}
	return cfg, base, nil
}

// newAdapter builds the SDK's request adapter over the HTTP stack: the
// caller's transport (or client), the driver's compressor and observer,
// and the SDK's middleware without retries.
func (t *Tenant) newAdapter(op string, cfg Config) (abstractions.RequestAdapter, error) {
	auth, err := graphauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cfg.Credential, cfg.Scopes, []string{t.base.Hostname()})
	if err != nil {
		return nil, backend.Wrap(err, backend.InvalidArgument, op, "")
	}
	inner := cfg.Transport
	timeout := 100 * time.Second
	if cfg.HTTPClient != nil {
		inner = cfg.HTTPClient.Transport
		if cfg.HTTPClient.Timeout > 0 {
			timeout = cfg.HTTPClient.Timeout
		}
	}
	if inner == nil {
		inner = http.DefaultTransport
	}
	mws, err := middleware()
	if err != nil {
		return nil, backend.Wrap(err, backend.Unknown, op, "")
	}
	client := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(&observer{next: &compressor{next: inner, min: cfg.CompressMinBytes}, t: t}, mws...),
		// Redirects are left to the SDK's redirect middleware.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       timeout,
	}
	adapter, err := msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, msgraphgocore.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "essentials365"},
		jsonserialization.NewJsonParseNodeFactory(), jsonserialization.NewJsonSerializationWriterFactory(), client)
	if err != nil {
		return nil, backend.Wrap(err, backend.Unknown, op, "")
	}
	adapter.SetBaseUrl(t.base.String())
	return adapter, nil
}

// middleware is the SDK's default pipeline with retries turned off (the
// driver never retries: see the package documentation, section Retries)
// and compression turned off (the driver's compressor pools its gzip
// writers and leaves small bodies alone).
func middleware() ([]khttp.Middleware, error) {
	noRetry := &khttp.RetryHandlerOptions{
		ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
	}
	kiota, err := khttp.GetDefaultMiddlewaresWithOptions(noRetry, khttp.NewCompressionOptionsReference(false))
	if err != nil {
		return nil, err
	}
	opts := msgraphgocore.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "essentials365"}
	return append([]khttp.Middleware{msgraphgocore.NewGraphTelemetryHandler(&opts)}, kiota...), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RateLimiter returns the driver's write pacer, e.g. to read its Stats.
func (t *Tenant) RateLimiter() *pacer.Limiter { return t.limiter }

// observer sits under the SDK's middleware and feeds every HTTP answer's
// throttling signals to the rate limiter.
type observer struct {
	next http.RoundTripper
	t    *Tenant
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	o.t.observe(resp.StatusCode, resp.Header, req.Method+" "+req.URL.Path)
	return resp, nil
}

// observe reports one answer's throttling signals (of a request or of a
// batch item) to the limiter.
func (t *Tenant) observe(status int, h http.Header, what string) {
	if status == http.StatusTooManyRequests || (status == http.StatusServiceUnavailable && h.Get("Retry-After") != "") {
		d, _ := parseRetryAfter(h.Get("Retry-After"), t.now())
		t.log.Debug("graph: throttled", "request", what, "status", status, "retryAfter", d,
			"scope", h.Get("x-ms-throttle-scope"), "information", h.Get("x-ms-throttle-information"))
		t.limiter.Throttled(d)
		return
	}
	if p := h.Get("x-ms-throttle-limit-percentage"); p != "" {
		if f, err := strconv.ParseFloat(p, 64); err == nil {
			t.limiter.Pressure(f)
		}
	}
}

// StaticToken returns a credential that always hands out token, for
// emulators and tests that need no sign-in. It is safe for concurrent use.
func StaticToken(token string) azcore.TokenCredential { return staticToken(token) }

type staticToken string

func (s staticToken) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if err := ctx.Err(); err != nil {
		return azcore.AccessToken{}, err
	}
	if s == "" {
		return azcore.AccessToken{}, errors.New("graphtenant: empty static token")
	}
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(24 * time.Hour)}, nil
}

// String hides the token.
func (s staticToken) String() string { return fmt.Sprintf("StaticToken(%d bytes)", len(s)) }
