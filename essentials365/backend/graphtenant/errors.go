package graphtenant

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ResponseError is an error answer of Microsoft Graph: the HTTP status, the
// OData error code and message, and the request id. Its Error method never
// panics, whatever the body held.
//
// The SDK's own error (*odataerrors.ODataError, or *abstractions.ApiError
// when the body was not an OData error) is reachable through errors.As.
type ResponseError struct {
	// StatusCode is the HTTP status of the answer (of the batch item for
	// batched requests).
	StatusCode int
	// Code is error.code, e.g. "Request_ResourceNotFound".
	Code string
	// Message is error.message.
	Message string
	// DetailCodes are the codes of error.details, e.g. "ObjectConflict".
	DetailCodes []string
	// RequestID is error.innerError.request-id, when Graph sent one.
	RequestID string
	// Header holds the response headers (Retry-After, x-ms-throttle-*).
	Header http.Header

	err error
}

func (e *ResponseError) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	if e.StatusCode != 0 {
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request-id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the SDK's error.
func (e *ResponseError) Unwrap() error { return e.err }

// reasonTarget is the target of the error detail in which this SDK's
// Microsoft 365 emulator names the rule that failed:
// {"code":"<rule>","target":"essentials365.reason"}. Graph itself never
// sends it; the driver then derives the rule from the message.
const reasonTarget = "essentials365.reason"

// newResponseError reads a Kiota error into a ResponseError without calling
// the SDK error's Error method (ODataError.Error panics when the body has
// no error.message). It returns nil for errors that are not Graph answers.
func newResponseError(err error) (*ResponseError, string) {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		re := &ResponseError{StatusCode: oe.ResponseStatusCode, Header: toHeader(oe.ResponseHeaders), err: oe}
		var reason string
		if me := oe.GetErrorEscaped(); me != nil {
			re.Code = deref(me.GetCode())
			re.Message = deref(me.GetMessage())
			for _, d := range me.GetDetails() {
				if d == nil {
					continue
				}
				c := deref(d.GetCode())
				switch {
				case deref(d.GetTarget()) == reasonTarget:
					reason = c
				case c != "":
					re.DetailCodes = append(re.DetailCodes, c)
				}
			}
			if ie := me.GetInnerError(); ie != nil {
				re.RequestID = deref(ie.GetRequestId())
			}
		}
		return re, reason
	}
	var ae *abstractions.ApiError
	if errors.As(err, &ae) && ae.ResponseStatusCode != 0 {
		return &ResponseError{StatusCode: ae.ResponseStatusCode, Message: ae.Message, Header: toHeader(ae.ResponseHeaders), err: ae}, ""
	}
	return nil, ""
}

func toHeader(h *abstractions.ResponseHeaders) http.Header {
	out := http.Header{}
	if h == nil {
		return out
	}
	for _, k := range h.ListKeys() {
		for _, v := range h.Get(k) {
			out.Add(k, v)
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// classify turns an error of the SDK or of the transport into a
// *backend.Error of the right kind. now is used to read a Retry-After given
// as an HTTP date.
func classify(err error, op, key string, now time.Time) error {
	if err == nil {
		return nil
	}
	var be *backend.Error
	if errors.As(err, &be) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return backend.Wrap(err, backend.Canceled, op, key)
	}
	if se := classifySignIn(err, op, key); se != nil { // requirements.go
		return se
	}
	if re, reason := newResponseError(err); re != nil {
		return classifyResponse(re, reason, op, key, now)
	}
	if isConnectionError(err) {
		return &backend.Error{Kind: backend.Unavailable, Op: op, Key: key, Msg: "Microsoft Graph did not answer", Err: err}
	}
	return backend.Wrap(err, backend.Unknown, op, key)
}

func isConnectionError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}

// classifyResponse maps a Graph error answer to a kind; see the package
// documentation, section Errors.
func classifyResponse(re *ResponseError, reason, op, key string, now time.Time) *backend.Error {
	e := &backend.Error{Op: op, Key: key, Err: re, Reason: backend.Reason(reason)}
	msg := strings.ToLower(re.Message)
	retryAfter, hasRetryAfter := parseRetryAfter(re.Header.Get("Retry-After"), now)
	switch {
	case re.StatusCode == http.StatusTooManyRequests:
		e.Kind, e.RetryAfter = backend.Throttled, retryAfter
	case (re.StatusCode == http.StatusServiceUnavailable || re.StatusCode == http.StatusGatewayTimeout) && hasRetryAfter:
		// Graph sends 503 with Retry-After when the service is overloaded:
		// that is a request to slow down.
		e.Kind, e.RetryAfter = backend.Throttled, retryAfter
	case re.StatusCode >= 500:
		e.Kind = backend.Unavailable
	case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden ||
		re.Code == "Authorization_RequestDenied" || re.Code == "InvalidAuthenticationToken":
		e.Kind = backend.PermissionDenied
	case re.StatusCode == http.StatusNotFound || re.Code == "Request_ResourceNotFound" || re.Code == "ResourceNotFound":
		e.Kind = backend.NotFound
	case isConflict(re, msg):
		e.Kind = backend.AlreadyExists
	case re.StatusCode == http.StatusPreconditionFailed || re.StatusCode == http.StatusFailedDependency:
		e.Kind = backend.FailedPrecondition
	case re.StatusCode == http.StatusBadRequest:
		e.Kind, e.Reason = badRequest(backend.Reason(reason), msg, key)
	case re.StatusCode == http.StatusNotImplemented:
		e.Kind = backend.Unimplemented
	default:
		e.Kind = backend.Unknown
	}
	return e
}

// isConflict recognizes Graph's answers to a conflicting write: an
// ObjectConflict detail, 409, "Another object with the same value for
// property X already exists.", and the directory's generic
// "A conflicting object with one or more of the specified property
// values is present in the directory.", which comes with no detail.
func isConflict(re *ResponseError, msg string) bool {
	return hasDetail(re, "ObjectConflict") || re.StatusCode == http.StatusConflict ||
		strings.Contains(msg, "already exists") ||
		(re.StatusCode == http.StatusBadRequest && strings.Contains(msg, "a conflicting object"))
}

func hasDetail(re *ResponseError, code string) bool {
	for _, c := range re.DetailCodes {
		if strings.EqualFold(c, code) {
			return true
		}
	}
	return false
}

// The driver's own reasons (each InvalidArgument): configuration and
// input it refuses before sending anything.
const (
	// ReasonCredential (InvalidArgument): Config.Credential is missing.
	ReasonCredential backend.Reason = "credential"
	// ReasonBaseURL (InvalidArgument): Config.BaseURL is not an absolute https URL (plain
	// http only for loopback hosts).
	ReasonBaseURL backend.Reason = "base-url"
	// ReasonSKUID (InvalidArgument): a SKU id is not a GUID.
	ReasonSKUID backend.Reason = "sku-id"
	// ReasonPlanID (InvalidArgument): a service plan id is not a GUID.
	ReasonPlanID backend.Reason = "plan-id"
)

// The domain contract's reasons the driver recognizes in Graph's answers
// (FailedPrecondition), declared in backend/domains.go.
const (
	reasonVerificationRecordMissing = backend.ReasonVerificationRecordMissing
	reasonDomainUnverified          = backend.ReasonDomainUnverified
	reasonDomainInitial             = backend.ReasonDomainInitial
	reasonDomainDefault             = backend.ReasonDomainDefault
	reasonDomainInUse               = backend.ReasonDomainInUse
)

// preconditionRules are the rules whose failure is FailedPrecondition:
// the input is fine but the tenant's state refuses it.
var preconditionRules = map[backend.Reason]bool{
	backend.ReasonNoFreeLicense:           true,
	backend.ReasonUsageLocationRequired:   true,
	backend.ReasonUsageLocationInUse:      true,
	reasonVerificationRecordMissing:       true,
	reasonDomainUnverified:                true,
	reasonDomainInitial:                   true,
	reasonDomainDefault:                   true,
	reasonDomainInUse:                     true,
	backend.ReasonDomainVerifiedElsewhere: true,
	backend.ReasonDomainTooManyReferences: true,
}

// badRequest classifies a 400. Graph answers Request_BadRequest both for
// bad input and for a state that refuses the request, so the kind comes
// from the rule recognized in Graph's message (or, for debugging against
// the emulator with its reason detail on, the rule it names). key is the
// object of the request, used to tell the UPN rule Graph's message does
// not name.
func badRequest(named backend.Reason, msg, key string) (backend.Kind, backend.Reason) {
	reason := named
	if reason == "" {
		reason = messageRule(msg, key)
	}
	if preconditionRules[reason] {
		return backend.FailedPrecondition, reason
	}
	return backend.InvalidArgument, reason
}

// messageRule recognizes the rule behind one of Graph's 400 messages
// (lower-cased), e.g. "The domain portion of the userPrincipalName
// property is invalid. You must use one of the verified domain names in
// your organization."
func messageRule(msg, key string) backend.Reason {
	switch {
	case strings.Contains(msg, "does not have any available licenses") || strings.Contains(msg, "not enough licenses"):
		return backend.ReasonNoFreeLicense
	case strings.Contains(msg, "license assignment cannot be done for user with invalid usage location"):
		return backend.ReasonUsageLocationRequired
	case strings.Contains(msg, "usagelocation cannot be removed"):
		return backend.ReasonUsageLocationInUse
	case strings.Contains(msg, "does not correspond to a valid company license"):
		return backend.ReasonUnknownSKU
	case strings.Contains(msg, "does not have a corresponding license"):
		return backend.ReasonLicenseNotAssigned
	case strings.Contains(msg, "service plan") && strings.Contains(msg, "not part of"):
		return backend.ReasonUnknownServicePlan
	case strings.Contains(msg, "domain") && strings.Contains(msg, "verif") &&
		(strings.Contains(msg, "dns record") || strings.Contains(msg, "could not be found") || strings.Contains(msg, "failed")):
		return reasonVerificationRecordMissing
	case strings.Contains(msg, "domain") && (strings.Contains(msg, "used by") || strings.Contains(msg, "in use") ||
		strings.Contains(msg, "references") || strings.Contains(msg, "dependenc")):
		return reasonDomainInUse
	case strings.Contains(msg, "initial") && strings.Contains(msg, "domain"):
		return reasonDomainInitial
	case strings.Contains(msg, "only for a verified domain") || strings.Contains(msg, "domain is not verified") ||
		strings.Contains(msg, "only a verified domain"):
		return reasonDomainUnverified
	case strings.Contains(msg, "default domain"):
		return reasonDomainDefault
	case strings.Contains(msg, "domain portion of the userprincipalname"):
		return backend.ReasonUPNDomainUnverified
	case strings.Contains(msg, "userprincipalname"):
		return upnRule(key)
	case strings.Contains(msg, "password") && (strings.Contains(msg, "complexity") || strings.Contains(msg, "policy")),
		strings.Contains(msg, "'passwordprofile"):
		return backend.ReasonPasswordPolicy
	case strings.Contains(msg, "'mailnickname'"):
		return backend.ReasonMailNickname
	case strings.Contains(msg, "'usagelocation'"):
		return backend.ReasonUsageLocation
	case strings.Contains(msg, "'displayname'"):
		return backend.ReasonDisplayNameRequired
	case strings.Contains(msg, "onpremisesimmutableid"):
		return backend.ReasonImmutableID
	}
	return ""
}

// upnRule tells which UPN rule a userPrincipalName Graph called invalid
// breaks ("Property userPrincipalName is invalid." names none), with the
// rules Microsoft 365 documents; characters when none is found.
func upnRule(upn string) backend.Reason {
	i := strings.LastIndexByte(upn, '@')
	if i < 0 || i == len(upn)-1 {
		return backend.ReasonUPNSyntax
	}
	if backend.OnlineLocalPartRule(upn[:i]) == "syntax" {
		return backend.ReasonUPNSyntax
	}
	return backend.ReasonUPNCharacters
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date. It reports whether the header was present and valid.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			secs = 0
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}
