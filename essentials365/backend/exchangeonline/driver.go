package exchangeonline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
)

// Compile-time proof that *Driver implements the Exchange contracts.
var (
	_ backend.Exchange = (*Driver)(nil)
	_ backend.Mail     = (*Driver)(nil)
)

// Defaults of [Options].
const (
	// DefaultBaseURL is Exchange Online's admin REST host (worldwide).
	DefaultBaseURL = "https://outlook.office365.com"
	// DefaultScope is the token scope of Exchange Online's admin REST.
	DefaultScope = "https://outlook.office365.com/.default"
	// DefaultPageSize is odata.maxpagesize, the page size the Exchange
	// Online PowerShell module asks for.
	DefaultPageSize = 1000
	// systemMailbox is the arbitration mailbox app-only calls anchor on
	// (the Exchange Online PowerShell module's constant).
	systemMailbox = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"
	// maxResponseBytes bounds one answer.
	maxResponseBytes = 32 << 20
)

// Options configure a [Driver]. The zero value (or nil) talks to
// Exchange Online worldwide.
type Options struct {
	// BaseURL is the service root, without the /adminapi path; default
	// DefaultBaseURL. Tests point it at the emulator.
	BaseURL string
	// Scope is the token scope asked of the credential; default
	// DefaultScope.
	Scope string
	// HTTPClient sends the requests; default a client with a 100 s
	// timeout. The driver never retries: the one retry layer does.
	HTTPClient *http.Client
	// AnchorMailbox is the X-AnchorMailbox header; default
	// "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@<tenant>",
	// what app-only sessions send. A delegated session sends
	// "UPN:<admin UPN>".
	AnchorMailbox string
	// PageSize is the odata.maxpagesize asked for listings; default
	// DefaultPageSize.
	PageSize int
	// Pacing paces writes (New-, Set-, Add-, Remove- cmdlets); zero
	// fields take pacer's defaults (Graph's 3,000 writes per 150 s,
	// Exchange's own quota being undocumented). The limiter also slows
	// down when Rate-Limit-Remaining falls under a fifth of
	// Rate-Limit-Limit and pauses after a throttled answer.
	Pacing pacer.Config
	// Logger receives a debug record per request; default discard.
	Logger *slog.Logger
	// Now is the clock used to read Retry-After dates; default time.Now.
	Now func() time.Time
}

// Driver is backend.Exchange over Exchange Online's admin REST endpoint
// (InvokeCommand). It is safe for concurrent use.
type Driver struct {
	tenant   string
	cred     azcore.TokenCredential
	endpoint string // .../adminapi/beta/{tenant}/InvokeCommand
	scope    string
	client   *http.Client
	anchor   string
	pageSize int
	limiter  *pacer.Limiter
	log      *slog.Logger
	now      func() time.Time
	connID   string
}

// New returns a driver for the tenant (its id, or its initial
// onmicrosoft.com domain) signing in with cred.
func New(tenant string, cred azcore.TokenCredential, opts *Options) (*Driver, error) {
	const op = "exchange: connect"
	var o Options
	if opts != nil {
		o = *opts
	}
	tenant = strings.TrimSpace(tenant)
	if tenant == "" || strings.ContainsAny(tenant, "/?#") {
		return nil, backend.Errorf(backend.InvalidArgument, op, tenant, "give the tenant id or its onmicrosoft.com domain")
	}
	if cred == nil {
		return nil, backend.Errorf(backend.InvalidArgument, op, tenant, "a credential is required (azidentity's, or StaticToken for an emulator)")
	}
	base := strings.TrimRight(o.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, backend.Errorf(backend.InvalidArgument, op, base, "the base URL must be an absolute http(s) URL")
	}
	d := &Driver{
		tenant:   tenant,
		cred:     cred,
		endpoint: base + "/adminapi/beta/" + url.PathEscape(tenant) + "/InvokeCommand",
		scope:    o.Scope,
		client:   o.HTTPClient,
		anchor:   o.AnchorMailbox,
		pageSize: o.PageSize,
		limiter:  pacer.New(o.Pacing),
		log:      o.Logger,
		now:      o.Now,
		connID:   backend.NewGUID().String(),
	}
	if d.scope == "" {
		d.scope = DefaultScope
	}
	if d.client == nil {
		d.client = &http.Client{Timeout: 100 * time.Second}
	}
	if d.anchor == "" {
		d.anchor = "APP:" + systemMailbox + "@" + tenant
	}
	if d.pageSize <= 0 {
		d.pageSize = DefaultPageSize
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d, nil
}

// PacerStats returns the write pacer's counters.
func (d *Driver) PacerStats() pacer.Stats { return d.limiter.Stats() }

// StaticToken is an azcore.TokenCredential that always returns the same
// token, for an emulator or a token obtained elsewhere.
type StaticToken string

// GetToken returns the token, valid for an hour.
func (s StaticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// cmdletInput is the InvokeCommand request body.
type cmdletInput struct {
	CmdletInput struct {
		CmdletName string         `json:"CmdletName"`
		Parameters map[string]any `json:"Parameters"`
	} `json:"CmdletInput"`
}

// envelope is an InvokeCommand answer. Output objects carry per-property
// annotations ("EmailAddresses@odata.type"); decoding into typed structs
// drops them.
type envelope struct {
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
	Warnings []string          `json:"@adminapi.warnings"`
}

// hashtable is a #Exchange.GenericHashTable parameter ({Add=...; Remove=...}).
func hashtable(verb string, values ...string) map[string]any {
	return map[string]any{"@odata.type": "#Exchange.GenericHashTable", verb: values}
}

// invoke runs one cmdlet and returns every output object, following
// @odata.nextLink (re-POSTing the same body) until the last page. Writes
// are paced. Pages are delivered to page one at a time; page returning
// false stops the paging.
func (d *Driver) invoke(ctx context.Context, op, key, cmdlet string, params map[string]any, write bool, page func([]json.RawMessage) bool) error {
	if err := backend.CtxErr(ctx, op); err != nil {
		return err
	}
	var in cmdletInput
	in.CmdletInput.CmdletName = cmdlet
	in.CmdletInput.Parameters = params
	body, err := json.Marshal(in)
	if err != nil {
		return backend.Wrap(err, backend.InvalidArgument, op, key)
	}
	if write {
		if err := d.limiter.Wait(ctx, 1); err != nil {
			return backend.WithOp(err, op, key)
		}
	}
	next := d.endpoint
	for next != "" {
		env, err := d.post(ctx, op, key, cmdlet, next, body)
		if err != nil {
			return err
		}
		if len(env.Warnings) > 0 {
			d.log.DebugContext(ctx, "exchange: cmdlet warnings", "cmdlet", cmdlet, "warnings", env.Warnings)
		}
		if page != nil && !page(env.Value) {
			return nil
		}
		next = env.NextLink
	}
	return nil
}

// invokeAll is invoke collecting every output object.
func (d *Driver) invokeAll(ctx context.Context, op, key, cmdlet string, params map[string]any, write bool) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := d.invoke(ctx, op, key, cmdlet, params, write, func(v []json.RawMessage) bool { out = append(out, v...); return true })
	return out, err
}

func (d *Driver) post(ctx context.Context, op, key, cmdlet, target string, body []byte) (envelope, error) {
	tok, err := d.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{d.scope}})
	if err != nil {
		kind := backend.PermissionDenied
		if ctx.Err() != nil {
			kind = backend.Canceled
		}
		return envelope{}, &backend.Error{Kind: kind, Op: op, Key: key, Msg: "could not get a token for Exchange Online: check the application's credential and its Exchange.ManageAsApp permission", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return envelope{}, backend.Wrap(err, backend.InvalidArgument, op, key)
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+tok.Token)
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Accept", "application/json")
	h.Set("X-CmdletName", cmdlet)
	h.Set("X-ResponseFormat", "json")
	h.Set("X-SerializationLevel", "Partial")
	h.Set("Prefer", "odata.maxpagesize="+strconv.Itoa(d.pageSize))
	h.Set("X-AnchorMailbox", d.anchor)
	h.Set("connection-id", d.connID)
	h.Set("client-request-id", backend.NewGUID().String())
	h.Set("X-ClientApplication", "essentials365")
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return envelope{}, backend.Wrap(ctx.Err(), backend.Canceled, op, key)
		}
		return envelope{}, &backend.Error{Kind: backend.Unavailable, Op: op, Key: key, Msg: "Exchange Online did not answer", Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	d.log.DebugContext(ctx, "exchange: request", "cmdlet", cmdlet, "status", resp.StatusCode, "elapsed", time.Since(start))
	if err != nil {
		return envelope{}, &backend.Error{Kind: backend.Unavailable, Op: op, Key: key, Msg: "the answer of Exchange Online was cut", Err: err}
	}
	d.observeRateLimit(resp.Header)
	if resp.StatusCode >= 300 {
		e := d.classify(op, key, resp.StatusCode, resp.Header, raw)
		if e.Kind == backend.Throttled {
			d.limiter.Throttled(e.RetryAfter)
		}
		return envelope{}, e
	}
	var env envelope
	if len(bytes.TrimSpace(raw)) == 0 {
		return env, nil // void cmdlets may answer with no body
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return envelope{}, &backend.Error{Kind: backend.Unavailable, Op: op, Key: key, Msg: "Exchange Online's answer is not the JSON envelope expected: the unofficial InvokeCommand surface may have changed", Err: err}
	}
	return env, nil
}

// observeRateLimit feeds Rate-Limit-Limit/Remaining (seen on real
// answers) to the pacer: under a fifth of the quota left, writes slow
// down.
func (d *Driver) observeRateLimit(h http.Header) {
	limit, err1 := strconv.ParseFloat(h.Get("Rate-Limit-Limit"), 64)
	remaining, err2 := strconv.ParseFloat(h.Get("Rate-Limit-Remaining"), 64)
	if err1 != nil || err2 != nil || limit <= 0 {
		return
	}
	if used := 1 - remaining/limit; used >= 0.8 {
		d.limiter.Pressure(used)
	}
}

// decodeOne decodes the first output object, or returns an Unavailable
// error naming the surprise.
func decodeOne[T any](op, key, cmdlet string, values []json.RawMessage) (T, error) {
	var v T
	if len(values) == 0 {
		return v, backend.Errorf(backend.Unavailable, op, key, "%s returned no object: the unofficial InvokeCommand surface may have changed", cmdlet)
	}
	if err := json.Unmarshal(values[0], &v); err != nil {
		return v, &backend.Error{Kind: backend.Unavailable, Op: op, Key: key, Msg: fmt.Sprintf("%s returned an object of an unexpected shape", cmdlet), Err: err}
	}
	return v, nil
}
