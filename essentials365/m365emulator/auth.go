package m365emulator

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// AuthorityOptions configure an [Authority]. The zero value (or nil) is
// usable.
type AuthorityOptions struct {
	// Now is the clock for token and secret lifetimes; default time.Now.
	Now func() time.Time
	// Logger receives one debug record per token request; default discard.
	Logger *slog.Logger
	// TenantNames are other names the tenant answers to in the authority
	// URL (e.g. "contoso.onmicrosoft.com"), besides its id.
	TenantNames []string
	// TokenLifetime is the lifetime of an access token; default 1 hour.
	TokenLifetime time.Duration
}

// Authority emulates the Microsoft identity platform's token endpoint
// (login.microsoftonline.com) for one tenant: the client-credentials grant
// with client secrets, the OpenID configuration MSAL reads first, and the
// error answers of the documented AADSTS codes. It issues signed JWT
// access tokens whose roles claim lists the application permissions
// granted to the application; a [Server] whose Options.Authority is set
// accepts only those tokens and refuses a call whose permission is not
// granted (403 Authorization_RequestDenied).
//
// Serve it over TLS (httptest.NewTLSServer): MSAL and azidentity accept
// only https authorities. Point azidentity at it with
// ClientOptions.Cloud.ActiveDirectoryAuthorityHost = srv.URL + "/",
// DisableInstanceDiscovery and the test server's client as Transport.
//
// Routes, under the tenant's id or one of its names:
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration
//	POST /{tenant}/oauth2/v2.0/token      grant_type=client_credentials
//
// An Authority is safe for concurrent use.
type Authority struct {
	tenantID string
	names    []string
	now      func() time.Time
	log      *slog.Logger
	lifetime time.Duration
	key      []byte // HMAC key of the tokens

	mu     sync.Mutex
	apps   map[string]*authApp // by lower-cased client id
	faults []int               // AADSTS codes answered to the next token requests
}

type authApp struct {
	clientID string
	objectID string
	roles    []string
	disabled bool
	secrets  []authSecret
}

type authSecret struct {
	keyID, displayName, hint, text string
	start, end                     time.Time
}

// NewAuthority returns the authority of the tenant with that id.
func NewAuthority(tenantID string, opts *AuthorityOptions) *Authority {
	var o AuthorityOptions
	if opts != nil {
		o = *opts
	}
	a := &Authority{tenantID: strings.ToLower(tenantID), now: o.Now, log: o.Logger, lifetime: o.TokenLifetime, apps: map[string]*authApp{}}
	for _, n := range o.TenantNames {
		a.names = append(a.names, strings.ToLower(n))
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.lifetime <= 0 {
		a.lifetime = time.Hour
	}
	a.key = make([]byte, 32)
	_, _ = rand.Read(a.key)
	return a
}

// TenantID returns the tenant's id.
func (a *Authority) TenantID() string { return a.tenantID }

// RegisterApp registers an application with that client id, granted the
// given application permissions (e.g. "User.ReadWrite.All"). Registering
// an existing client id replaces its permissions.
func (a *Authority) RegisterApp(clientID string, roles ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := strings.ToLower(clientID)
	app, ok := a.apps[k]
	if !ok {
		app = &authApp{clientID: clientID, objectID: backend.NewGUID().String()}
		a.apps[k] = app
	}
	app.roles = slices.Clone(roles)
}

// SetRoles replaces the application permissions granted to the
// application; tokens issued afterwards carry them.
func (a *Authority) SetRoles(clientID string, roles ...string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.appLocked(clientID)
	if err != nil {
		return err
	}
	app.roles = slices.Clone(roles)
	return nil
}

// SetAppDisabled disables (or enables again) the application's sign-in.
func (a *Authority) SetAppDisabled(clientID string, disabled bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.appLocked(clientID)
	if err != nil {
		return err
	}
	app.disabled = disabled
	return nil
}

// AddClientSecret adds a secret to the application, valid until end (zero:
// two years, Entra ID's default), as the portal or Graph's addPassword do.
func (a *Authority) AddClientSecret(clientID string, end time.Time) (backend.ClientSecret, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.appLocked(clientID)
	if err != nil {
		return backend.ClientSecret{}, err
	}
	return a.addSecretLocked(app, "", end), nil
}

func (a *Authority) addSecretLocked(app *authApp, name string, end time.Time) backend.ClientSecret {
	start := a.now().UTC()
	if end.IsZero() {
		end = start.AddDate(2, 0, 0)
	}
	raw := make([]byte, 30)
	_, _ = rand.Read(raw)
	text := strings.NewReplacer("+", "~", "/", "_", "=", "").Replace(base64.StdEncoding.EncodeToString(raw))
	s := authSecret{keyID: backend.NewGUID().String(), displayName: name, hint: text[:3], text: text, start: start, end: end.UTC()}
	app.secrets = append(app.secrets, s)
	return backend.ClientSecret{KeyID: s.keyID, DisplayName: name, Hint: s.hint, Start: start, End: s.end, Text: text}
}

// RemoveClientSecret removes the application's secret with that key id.
func (a *Authority) RemoveClientSecret(clientID, keyID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.appLocked(clientID)
	if err != nil {
		return err
	}
	n := len(app.secrets)
	app.secrets = slices.DeleteFunc(app.secrets, func(s authSecret) bool { return strings.EqualFold(s.keyID, keyID) })
	if len(app.secrets) == n {
		return backend.Errorf(backend.NotFound, "m365emulator: remove secret", keyID, "the application has no secret with key id %s", keyID)
	}
	return nil
}

// Secrets returns the key ids of the application's secrets.
func (a *Authority) Secrets(clientID string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.appLocked(clientID)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range app.secrets {
		out = append(out, s.keyID)
	}
	return out
}

func (a *Authority) appLocked(clientID string) (*authApp, error) {
	app, ok := a.apps[strings.ToLower(clientID)]
	if !ok {
		return nil, backend.Errorf(backend.NotFound, "m365emulator: find application", clientID, "no application with client id %s", clientID)
	}
	return app, nil
}

// ReasonSignInErrorCode (InvalidArgument): [Authority.FailNextSignIns] was
// given an AADSTS code the emulator does not know.
const ReasonSignInErrorCode backend.Reason = "aadsts-code"

// FailNextSignIns makes the next n token requests fail with the answer of
// that AADSTS code (one of [SignInErrorCodes]), whatever their
// credentials.
func (a *Authority) FailNextSignIns(n, aadsts int) error {
	if _, ok := signInErrors[aadsts]; !ok {
		return backend.Invalid("m365emulator: fail sign-ins", fmt.Sprint(aadsts), ReasonSignInErrorCode, "the emulator does not know AADSTS%d; use one of SignInErrorCodes", aadsts)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for range n {
		a.faults = append(a.faults, aadsts)
	}
	return nil
}

// ClearSignInFaults drops the failures FailNextSignIns queued.
func (a *Authority) ClearSignInFaults() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults = nil
}

// signInError is how the identity platform answers one AADSTS code.
type signInError struct {
	status      int
	code        string
	description string
}

// signInErrors are the answers the emulator gives, after Microsoft's
// documented codes and captured answers.
var signInErrors = map[int]signInError{
	7000215: {http.StatusUnauthorized, "invalid_client", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'."},
	7000222: {http.StatusUnauthorized, "invalid_client", "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."},
	700027:  {http.StatusUnauthorized, "invalid_client", "Client assertion failed signature validation. (app '%s')"},
	700016:  {http.StatusBadRequest, "unauthorized_client", "Application with identifier '%s' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."},
	90002:   {http.StatusBadRequest, "invalid_request", "Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. (app '%s')"},
	70001:   {http.StatusBadRequest, "unauthorized_client", "Application '%s' is disabled."},
	53003:   {http.StatusBadRequest, "invalid_grant", "Access has been blocked by Conditional Access policies. (app '%s')"},
	500011:  {http.StatusBadRequest, "invalid_resource", "The resource principal was not found in the tenant. (app '%s')"},
	90033:   {http.StatusServiceUnavailable, "temporarily_unavailable", "A transient error has occurred. Please try again. (app '%s')"},
	90006:   {http.StatusServiceUnavailable, "temporarily_unavailable", "The service is temporarily unavailable. (app '%s')"},
	90024:   {http.StatusServiceUnavailable, "temporarily_unavailable", "A transient error has occurred. Please try again. (app '%s')"},
	90055:   {http.StatusTooManyRequests, "temporarily_unavailable", "The request has been throttled. (app '%s')"},
}

// SignInErrorCodes are the AADSTS codes FailNextSignIns accepts.
func SignInErrorCodes() []int {
	var out []int
	for c := range signInErrors {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// ServeHTTP implements http.Handler.
func (a *Authority) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tenant, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case rest == "v2.0/.well-known/openid-configuration" && r.Method == http.MethodGet:
		if !a.knows(tenant) {
			a.answerError(w, 90002, "")
			return
		}
		base := "https://" + r.Host + "/" + tenant
		writeJSON(w, http.StatusOK, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"issuer":                                "https://" + r.Host + "/" + a.tenantID + "/v2.0",
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"tenant_region_scope":                   "EU",
		})
	case rest == "oauth2/v2.0/token" && r.Method == http.MethodPost:
		a.token(w, r, tenant)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not_found", "error_description": "no such endpoint: " + r.Method + " " + r.URL.Path})
	}
}

func (a *Authority) knows(tenant string) bool {
	t := strings.ToLower(tenant)
	return t == a.tenantID || slices.Contains(a.names, t)
}

func (a *Authority) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "AADSTS900144: the request body must be form-encoded"})
		return
	}
	clientID := r.PostForm.Get("client_id")
	a.mu.Lock()
	code, claims := a.signInLocked(tenant, clientID, r.PostForm)
	a.mu.Unlock()
	a.log.Debug("m365emulator: token request", "client", clientID, "aadsts", code)
	if code != 0 {
		a.answerError(w, code, clientID)
		return
	}
	now := a.now().UTC()
	claims["iat"], claims["nbf"], claims["exp"] = now.Unix(), now.Unix(), now.Add(a.lifetime).Unix()
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": int(a.lifetime.Seconds()), "ext_expires_in": int(a.lifetime.Seconds()),
		"access_token": a.sign(claims),
	})
}

// signInLocked checks a client-credentials request and returns the AADSTS
// code of its failure, or 0 and the token's claims.
func (a *Authority) signInLocked(tenant, clientID string, form map[string][]string) (int, map[string]any) {
	if len(a.faults) > 0 {
		code := a.faults[0]
		a.faults = a.faults[1:]
		return code, nil
	}
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if !a.knows(tenant) {
		return 90002, nil
	}
	if get("grant_type") != "client_credentials" {
		return 70003, nil
	}
	app, ok := a.apps[strings.ToLower(clientID)]
	if !ok {
		return 700016, nil
	}
	if app.disabled {
		return 70001, nil
	}
	secret := get("client_secret")
	found := false
	for _, s := range app.secrets {
		if hmac.Equal([]byte(s.text), []byte(secret)) {
			if !a.now().Before(s.end) {
				return 7000222, nil
			}
			found = true
		}
	}
	if !found {
		return 7000215, nil
	}
	return 0, map[string]any{
		"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + a.tenantID + "/",
		"tid": a.tenantID, "appid": app.clientID, "oid": app.objectID, "sub": app.objectID,
		"idtyp": "app", "ver": "1.0", "roles": slices.Clone(app.roles),
	}
}

// answerError writes the token endpoint's error answer for an AADSTS code.
func (a *Authority) answerError(w http.ResponseWriter, code int, clientID string) {
	e, ok := signInErrors[code]
	if !ok {
		e = signInError{http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported. (app '%s')"}
	}
	trace, corr := backend.NewGUID().String(), backend.NewGUID().String()
	ts := a.now().UTC().Format("2006-01-02 15:04:05Z")
	desc := fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", code, fmt.Sprintf(e.description, clientID), trace, corr, ts)
	writeJSON(w, e.status, map[string]any{
		"error": e.code, "error_description": desc, "error_codes": []int{code}, "timestamp": ts,
		"trace_id": trace, "correlation_id": corr, "error_uri": fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", code),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sign returns a compact JWS (HS256) of claims.
func (a *Authority) sign(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "HS256"})
	p, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	unsigned := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc.EncodeToString(mac.Sum(nil))
}

// tokenClaims are the claims a Server reads from an access token.
type tokenClaims struct {
	TenantID string   `json:"tid"`
	AppID    string   `json:"appid"`
	Roles    []string `json:"roles"`
	Expires  int64    `json:"exp"`
}

// Graph's messages for refused tokens.
const (
	msgTokenInvalid = "Access token validation failure. Invalid signature."
	msgTokenExpired = "Lifetime validation failed, the token is expired."
	msgTokenTenant  = "Access token validation failure. Invalid audience or tenant."
)

// validate checks a token this authority issued; on failure it returns
// Graph's message.
func (a *Authority) validate(token string) (tokenClaims, string) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return tokenClaims{}, msgTokenInvalid
	}
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return tokenClaims{}, msgTokenInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c tokenClaims
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return tokenClaims{}, msgTokenInvalid
	}
	if c.TenantID != a.tenantID {
		return tokenClaims{}, msgTokenTenant
	}
	if !a.now().Before(time.Unix(c.Expires, 0)) {
		return tokenClaims{}, msgTokenExpired
	}
	return c, ""
}

// rolesOf returns the permissions granted now to the application.
func (a *Authority) rolesOf(clientID string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if app, ok := a.apps[strings.ToLower(clientID)]; ok {
		return slices.Clone(app.roles)
	}
	return nil
}
