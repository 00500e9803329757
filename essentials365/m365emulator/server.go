package m365emulator

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// maxBodyBytes bounds a request body after decompression (Graph's own limit
// for a JSON batch is 4 MB).
const maxBodyBytes = 4 << 20

// Server is an http.Handler serving a [backend.Tenant] over Microsoft
// Graph v1.0's wire format, under the path prefix /v1.0.
//
// A Server is safe for concurrent use by multiple goroutines; it holds no
// user data of its own, so its consistency is the tenant's.
type Server struct {
	tenant  backend.Tenant
	domains backend.DomainAdmin // nil when the tenant cannot manage domains
	opts    Options
	log     *slog.Logger
	now     func() time.Time

	throttle *throttler
	table    []routeSpec

	mu     sync.Mutex // guards rng, script, routes, tenantID
	rng    *mrand.Rand
	script []ScriptedFault
	routes map[string]int64
	// tenantID caches the organization id for the throttle scope.
	tenantID string

	requests, batchItems, throttled, unavailable, resets, writes atomic.Int64
}

// New returns a Server for t. A nil opts means the defaults. When t also
// implements [backend.DomainAdmin], the domain management routes (POST
// /domains, verify, DNS records, DELETE) are served; otherwise they answer
// 501.
func New(t backend.Tenant, opts *Options) *Server {
	s := &Server{tenant: t, routes: map[string]int64{}, table: routeTable()}
	if opts != nil {
		s.opts = *opts
	}
	if da, ok := t.(backend.DomainAdmin); ok {
		s.domains = da
	}
	s.log = s.opts.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.now = s.opts.Now
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.PageSize <= 0 {
		s.opts.PageSize = 100
	}
	s.rng = mrand.New(mrand.NewPCG(s.opts.Seed, s.opts.Seed^0x9e3779b97f4a7c15))
	if s.opts.Throttling != nil {
		s.throttle = newThrottler(*s.opts.Throttling)
	}
	if s.opts.Faults != nil {
		f := s.opts.Faults.withDefaults()
		s.opts.Faults = &f
	}
	return s
}

// request is one Graph call: a top-level HTTP request or a $batch item.
type request struct {
	method string
	// path is relative to /v1.0 and unescaped, e.g. "/users/a@b.com".
	path string
	// rawQuery is the undecoded query string.
	rawQuery string
	header   http.Header
	body     []byte
	// base is the absolute service root, e.g. "http://127.0.0.1:8365/v1.0".
	base      string
	requestID string
	clientID  string
	appID     string
	inBatch   bool
}

// response is what the emulator answers to one request.
type response struct {
	status int
	header http.Header
	// body is marshalled as JSON; nil means no body.
	body any
	// reset closes the connection without an answer.
	reset bool
}

func (r *response) setHeader(k, v string) {
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set(k, v)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, exchangePrefix) {
		s.serveExchange(w, r)
		return
	}
	start := time.Now()
	s.requests.Add(1)
	req := &request{
		method:    r.Method,
		header:    r.Header,
		rawQuery:  r.URL.RawQuery,
		base:      baseURL(r),
		requestID: newRequestID(),
		clientID:  r.Header.Get("client-request-id"),
	}
	if req.clientID == "" {
		req.clientID = req.requestID
	}
	resp := s.serveTop(r, req)
	if resp.reset {
		s.resets.Add(1)
		s.log.Debug("m365emulator: connection reset", "method", r.Method, "path", r.URL.Path)
		resetConn(w)
		return
	}
	s.write(w, req, resp)
	s.log.Debug("m365emulator: request", "method", r.Method, "path", r.URL.Path,
		"status", resp.status, "elapsed", time.Since(start))
}

func (s *Server) serveTop(r *http.Request, req *request) *response {
	path, ok := strings.CutPrefix(r.URL.Path, "/v1.0")
	if !ok || (path != "" && path[0] != '/') {
		version, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		return s.fail(req, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid version: %s", version), nil)
	}
	req.path = path
	token, hasToken := bearer(r.Header.Get("Authorization"))
	if (s.opts.RequireAuth || s.opts.Token != "") && !hasToken {
		return s.fail(req, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.", nil)
	}
	if s.opts.Token != "" && token != s.opts.Token {
		return s.fail(req, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.", nil)
	}
	req.appID = appIDFromToken(token)
	if resp := s.authorize(req, token, hasToken); resp != nil {
		return resp
	}
	body, resp := s.readBody(r, req)
	if resp != nil {
		return resp
	}
	req.body = body
	return s.handle(r.Context(), req)
}

// readBody reads the request body, gunzipping it when it says so.
func (s *Server) readBody(r *http.Request, req *request) ([]byte, *response) {
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, maxBodyBytes)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, s.fail(req, http.StatusBadRequest, "BadRequest", "The request body is not valid gzip: "+err.Error(), nil)
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, s.fail(req, http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			fmt.Sprintf("Content-Encoding %q is not supported; send the body uncompressed or gzipped.", enc), nil)
	}
	body, err := io.ReadAll(io.LimitReader(rd, maxBodyBytes+1))
	if err != nil {
		return nil, s.fail(req, http.StatusBadRequest, "BadRequest", "The request body could not be read: "+err.Error(), nil)
	}
	if len(body) > maxBodyBytes {
		return nil, s.fail(req, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than 4 MB.", nil)
	}
	return body, nil
}

// handle serves one request or batch item: routing, faults, throttling,
// latency (top level only) and the operation itself.
func (s *Server) handle(ctx context.Context, req *request) *response {
	if _, err := url.ParseQuery(req.rawQuery); err != nil {
		// Answered, not read as "no query options": a $filter or $top
		// dropped with the rest would list other users than asked.
		return s.fail(req, http.StatusBadRequest, "BadRequest", "The query string is malformed: "+err.Error(), nil)
	}
	for k, vals := range req.query() {
		// OData allows each system query option once (names fold case);
		// reading only the first would ignore half of what was asked.
		if strings.HasPrefix(k, "$") && len(vals) > 1 {
			return s.fail(req, http.StatusBadRequest, "BadRequest",
				fmt.Sprintf("Query option '%s' was specified more than once, but it must be specified at most once.", k), nil)
		}
	}
	rt := s.route(req)
	s.countRoute(rt.name)
	if resp := s.authorizeRoute(req, rt); resp != nil {
		return resp
	}
	if req.inBatch && rt.batch {
		return s.fail(req, http.StatusBadRequest, "BadRequest", "A $batch request cannot contain another $batch request.", nil)
	}
	resp := s.apply(ctx, req, rt)
	switch resp.status {
	case http.StatusTooManyRequests:
		s.throttled.Add(1)
	case http.StatusServiceUnavailable:
		s.unavailable.Add(1)
	}
	if rt.write && !rt.batch && resp.status < 300 && !resp.reset {
		s.writes.Add(1)
	}
	return resp
}

func (s *Server) apply(ctx context.Context, req *request, rt route) *response {
	if rt.fn == nil {
		return rt.err
	}
	fault, resetAfter := s.pickFault(ctx, req, rt)
	if fault != nil {
		return fault
	}
	var ru int
	var key string
	if !rt.batch {
		ru = cost(rt, req)
		if s.throttle != nil {
			key = s.throttleKey(ctx, req)
			if resp := s.checkQuota(req, rt, key, ru); resp != nil {
				resp.setHeader("x-ms-resource-unit", strconv.Itoa(ru))
				return resp
			}
		}
		if !req.inBatch {
			d := s.opts.ReadLatency
			if rt.write {
				d = s.opts.WriteLatency
			}
			if err := sleep(ctx, d); err != nil {
				return s.errorResponse(req, rt, err)
			}
		}
	}
	resp := rt.fn(ctx, req)
	if !rt.batch {
		resp.setHeader("x-ms-resource-unit", strconv.Itoa(ru))
		if s.throttle != nil {
			if p := s.throttle.usage(key, s.now()); p > 0.8 {
				resp.setHeader("x-ms-throttle-limit-percentage", strconv.FormatFloat(p, 'f', 1, 64))
			}
		}
	}
	if resetAfter {
		resp.reset = true
	}
	return resp
}

// write sends resp on w.
func (s *Server) write(w http.ResponseWriter, req *request, resp *response) {
	h := w.Header()
	for k, vs := range resp.header {
		h[k] = vs
	}
	h.Set("request-id", req.requestID)
	h.Set("client-request-id", req.clientID)
	h.Set("Cache-Control", "no-cache")
	if h.Get("x-ms-resource-unit") == "" {
		h.Set("x-ms-resource-unit", "1") // answers that never reached a route
	}
	if resp.body == nil {
		w.WriteHeader(resp.status)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // links keep their '&' as Graph writes them
	if err := enc.Encode(resp.body); err != nil {
		s.log.Error("m365emulator: encode response", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(resp.status)
	_, _ = w.Write(b)
}

// jsonContentType is the media type Graph answers with.
const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// resetConn closes the client connection without an answer.
func resetConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
				_ = tc.SetLinger(0) // send RST rather than FIN
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http aborts the stream without logging
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/v1.0"
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// newRequestID returns a random version 4 UUID.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return backend.Wrap(ctx.Err(), backend.Canceled, "m365emulator: latency", "")
	}
}

// retryAfterHeader formats a wait as Retry-After seconds: rounded up, at
// least 1, or 0 when the server is configured with ZeroRetryAfter.
func (s *Server) retryAfterHeader(d time.Duration) string {
	if s.opts.ZeroRetryAfter {
		return "0"
	}
	secs := int64(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return strconv.FormatInt(secs, 10)
}

// decodeJSON decodes a request body into v; an empty body is an error.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body")
	}
	return json.Unmarshal(body, v)
}

// tenantIDFor returns the organization id, looking it up once.
func (s *Server) tenantIDFor(ctx context.Context) string {
	s.mu.Lock()
	id := s.tenantID
	s.mu.Unlock()
	if id != "" {
		return id
	}
	org, err := s.tenant.Organization(ctx)
	if err != nil || org.ID == "" {
		return "unknown-tenant"
	}
	s.mu.Lock()
	s.tenantID = org.ID
	s.mu.Unlock()
	return org.ID
}
