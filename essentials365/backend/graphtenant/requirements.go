package graphtenant

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof of the optional capabilities.
var (
	_ backend.TenantRequirements = (*Tenant)(nil)
	_ backend.SecretRotator      = (*Tenant)(nil)
)

// RequirementFacts implements backend.TenantRequirements: it gets an
// access token from the credential (a sign-in failure is classified by
// its AADSTS code, see backend.ClassifySignIn), reads the application
// permissions from the token's roles claim, and reads the organization's
// onPremisesSyncEnabled and onPremisesLastSyncDateTime (needs
// Organization.Read.All) with the Date of Graph's answer as ServerTime.
// With a credential whose tokens are not JWTs ([StaticToken]), RolesKnown
// is false.
func (t *Tenant) RequirementFacts(ctx context.Context) (backend.TenantFacts, error) {
	const op = "tenant: requirement facts"
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.TenantFacts{}, err
	}
	var f backend.TenantFacts
	claims, err := t.tokenClaims(ctx, op)
	if err != nil {
		return f, err
	}
	f.TenantID, f.ClientID = claims.TenantID, claims.AppID
	f.Roles, f.RolesKnown = claims.Roles, claims.isJWT
	inspect := khttp.NewHeadersInspectionOptions()
	inspect.InspectResponseHeaders = true
	res, err := organization.NewOrganizationRequestBuilderInternal(map[string]string{}, t.adapter).Get(ctx,
		&organization.OrganizationRequestBuilderGetRequestConfiguration{
			QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{
				Select: []string{"id", "onPremisesSyncEnabled", "onPremisesLastSyncDateTime"}},
			Options: []abstractions.RequestOption{inspect},
		})
	if err != nil {
		return f, classify(err, op, "", t.now())
	}
	if d := inspect.GetResponseHeaders().Get("Date"); len(d) > 0 {
		if tm, err := http.ParseTime(d[0]); err == nil {
			f.ServerTime = tm.UTC()
		}
	}
	for _, o := range res.GetValue() {
		if o == nil {
			continue
		}
		if f.TenantID == "" {
			f.TenantID = deref(o.GetId())
		}
		if b := o.GetOnPremisesSyncEnabled(); b != nil {
			f.OnPremisesSyncEnabled = *b
		}
		if tm := o.GetOnPremisesLastSyncDateTime(); tm != nil {
			f.OnPremisesLastSync = tm.UTC()
		}
		break
	}
	return f, nil
}

// claims are what the driver reads from an access token.
type claims struct {
	TenantID string   `json:"tid"`
	AppID    string   `json:"appid"`
	Roles    []string `json:"roles"`
	isJWT    bool
}

// tokenClaims gets a token from the credential and decodes its payload.
// The token is not verified: it was just received from the identity
// platform over TLS and is only read, never trusted for access decisions.
func (t *Tenant) tokenClaims(ctx context.Context, op string) (claims, error) {
	tok, err := t.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: t.scopes})
	if err != nil {
		if e := classifySignIn(err, op, ""); e != nil {
			return claims{}, e
		}
		return claims{}, backend.Wrap(err, backend.PermissionDenied, op, "")
	}
	var c claims
	parts := strings.Split(tok.Token, ".")
	if len(parts) != 3 {
		return c, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return claims{}, nil
	}
	c.isJWT = true
	return c, nil
}

// classifySignIn turns azidentity's sign-in failure into a *backend.Error
// with a ReasonSignIn... reason and a *backend.SignInError cause, or
// returns nil when err is not a sign-in failure.
func classifySignIn(err error, op, key string) error {
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) {
		return nil
	}
	se := &backend.SignInError{}
	if afe.RawResponse == nil {
		// No answer from the sign-in service: DNS, TCP, TLS or a timeout.
		se.Code = "no_answer"
		se.Description = afe.Error()
		return &backend.Error{Kind: backend.Unavailable, Op: op, Key: key, Reason: backend.ReasonSignInNetwork,
			Msg: "Microsoft's sign-in service did not answer", Err: errors.Join(se, err)}
	}
	se.StatusCode = afe.RawResponse.StatusCode
	if body, rerr := runtime.Payload(afe.RawResponse); rerr == nil {
		var b struct {
			Error         string `json:"error"`
			Description   string `json:"error_description"`
			Codes         []int  `json:"error_codes"`
			TraceID       string `json:"trace_id"`
			CorrelationID string `json:"correlation_id"`
		}
		if json.Unmarshal(body, &b) == nil {
			se.Code, se.Description, se.TraceID, se.CorrelationID = b.Error, b.Description, b.TraceID, b.CorrelationID
			if len(b.Codes) > 0 {
				se.AADSTS = b.Codes[0]
			}
		}
	}
	kind, reason := backend.ClassifySignIn(se)
	e := &backend.Error{Kind: kind, Op: op, Key: key, Reason: reason, Msg: "sign-in to Microsoft 365 failed", Err: se}
	if kind == backend.Throttled {
		if d, ok := parseRetryAfter(afe.RawResponse.Header.Get("Retry-After"), time.Now()); ok {
			e.RetryAfter = d
		}
	}
	return e
}

// AddSecret implements backend.SecretRotator: POST
// /applications(appId='{appId}')/addPassword for the application the
// credential signs in as (Application.ReadWrite.OwnedBy with the
// application owning itself, or Application.ReadWrite.All).
func (t *Tenant) AddSecret(ctx context.Context, displayName string, end time.Time) (backend.ClientSecret, error) {
	const op = "tenant: add secret"
	c, err := t.tokenClaims(ctx, op)
	if err != nil {
		return backend.ClientSecret{}, err
	}
	if c.AppID == "" {
		return backend.ClientSecret{}, backend.Errorf(backend.Unimplemented, op, "", "the credential's tokens do not name an application")
	}
	pc := map[string]any{}
	if displayName != "" {
		pc["displayName"] = displayName
	}
	if !end.IsZero() {
		pc["endDateTime"] = end.UTC().Format(time.RFC3339)
	}
	body, _ := json.Marshal(map[string]any{"passwordCredential": pc})
	info := abstractions.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abstractions.POST,
		"{+baseurl}/applications(appId='{appId}')/addPassword", map[string]string{"appId": c.AppID})
	info.Headers.TryAdd("Accept", "application/json")
	info.SetStreamContentAndContentType(body, "application/json")
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return backend.ClientSecret{}, err
	}
	res, err := t.adapter.Send(ctx, info, models.CreatePasswordCredentialFromDiscriminatorValue, errorMapping())
	if err != nil {
		return backend.ClientSecret{}, classify(err, op, c.AppID, t.now())
	}
	cred, ok := res.(models.PasswordCredentialable)
	if !ok || cred.GetSecretText() == nil {
		return backend.ClientSecret{}, backend.Errorf(backend.Unknown, op, c.AppID, "Graph returned no secret")
	}
	out := backend.ClientSecret{DisplayName: deref(cred.GetDisplayName()), Hint: deref(cred.GetHint()), Text: *cred.GetSecretText()}
	if id := cred.GetKeyId(); id != nil {
		out.KeyID = id.String()
	}
	if s := cred.GetStartDateTime(); s != nil {
		out.Start = s.UTC()
	}
	if e := cred.GetEndDateTime(); e != nil {
		out.End = e.UTC()
	}
	return out, nil
}

// RemoveSecret implements backend.SecretRotator: POST
// /applications(appId='{appId}')/removePassword.
func (t *Tenant) RemoveSecret(ctx context.Context, keyID string) error {
	const op = "tenant: remove secret"
	c, err := t.tokenClaims(ctx, op)
	if err != nil {
		return err
	}
	if c.AppID == "" {
		return backend.Errorf(backend.Unimplemented, op, keyID, "the credential's tokens do not name an application")
	}
	body, _ := json.Marshal(map[string]string{"keyId": keyID})
	info := abstractions.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abstractions.POST,
		"{+baseurl}/applications(appId='{appId}')/removePassword", map[string]string{"appId": c.AppID})
	info.SetStreamContentAndContentType(body, "application/json")
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return err
	}
	if err := t.adapter.SendNoContent(ctx, info, errorMapping()); err != nil {
		return classify(err, op, keyID, t.now())
	}
	return nil
}

func errorMapping() abstractions.ErrorMappings {
	return abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}
}
