package exchangeonline

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ServiceError is Exchange Online's own error, the cause of every
// *backend.Error the driver returns for an error answer (errors.As).
type ServiceError struct {
	// Status is the HTTP status.
	Status int
	// Code and Message are error.code and error.message ("NotFound",
	// "Error executing cmdlet").
	Code    string
	Message string
	// ExceptionID, ExceptionType and Text split the first
	// details[].message, "<ExId>|<Exception.Type>|<text>"; ExceptionType
	// falls back to the X-ExceptionType header or innererror.type.
	ExceptionID   string
	ExceptionType string
	Text          string
	// reason is the rule an emulator of this SDK names in a detail with
	// target "essentials365.reason"; Exchange Online never sends one.
	reason backend.Reason
}

func (e *ServiceError) Error() string {
	var b strings.Builder
	b.WriteString("exchange online: ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.ExceptionType != "" {
		b.WriteString(" " + e.ExceptionType)
	} else if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if msg := e.text(); msg != "" {
		b.WriteString(": " + msg)
	}
	return b.String()
}

func (e *ServiceError) text() string {
	if e.Text != "" {
		return e.Text
	}
	return e.Message
}

// emulatorReasonTarget is the detail target in which the SDK's emulator
// names the backend rule that failed (m365emulator.ReasonTarget).
const emulatorReasonTarget = "essentials365.reason"

// errorBody is InvokeCommand's error shape.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Code    string `json:"code"`
			Target  string `json:"target"`
			Message string `json:"message"`
		} `json:"details"`
		InnerError struct {
			Message           string `json:"message"`
			Type              string `json:"type"`
			InternalException struct {
				Message string `json:"message"`
			} `json:"internalException"`
		} `json:"innererror"`
	} `json:"error"`
}

// parseServiceError reads an error answer. A body that is not the JSON
// error shape is kept as plain text.
func parseServiceError(status int, h http.Header, raw []byte) *ServiceError {
	se := &ServiceError{Status: status}
	var b errorBody
	if err := json.Unmarshal(raw, &b); err != nil || (b.Error.Code == "" && b.Error.Message == "" && len(b.Error.Details) == 0) {
		se.Message = strings.TrimSpace(string(raw))
		if len(se.Message) > 500 {
			se.Message = se.Message[:500]
		}
		se.ExceptionType = h.Get("X-ExceptionType")
		return se
	}
	se.Code, se.Message = b.Error.Code, b.Error.Message
	for _, d := range b.Error.Details {
		if d.Target == emulatorReasonTarget {
			se.reason = backend.Reason(d.Code)
		}
	}
	for _, d := range b.Error.Details {
		if d.Message == "" || d.Target == emulatorReasonTarget {
			continue
		}
		if parts := strings.SplitN(d.Message, "|", 3); len(parts) == 3 {
			se.ExceptionID, se.ExceptionType, se.Text = parts[0], parts[1], parts[2]
		} else {
			se.Text = d.Message
		}
		break
	}
	if se.Text == "" {
		se.Text = b.Error.InnerError.InternalException.Message
	}
	if se.ExceptionType == "" {
		se.ExceptionType = h.Get("X-ExceptionType")
	}
	if se.ExceptionType == "" && b.Error.InnerError.Type != "" && !strings.HasSuffix(b.Error.InnerError.Type, "ODataServiceException") {
		se.ExceptionType = b.Error.InnerError.Type
	}
	return se
}

// exceptionKinds maps the last segment of an exception type to a kind.
// Those marked seen are in real answers quoted by public clients; the
// others are the names Exchange's cmdlets use for these failures and are
// assumptions (see the package documentation).
var exceptionKinds = map[string]backend.Kind{
	"ManagementObjectNotFoundException":  backend.NotFound,      // seen (Ex6F9304, Ex94914C)
	"ManagementObjectAmbiguousException": backend.NotFound,      // assumed; ambiguity is also seen as ...NotFoundException
	"MemberAlreadyExistsException":       backend.AlreadyExists, // seen (CIPP)
	"MemberNotFoundException":            backend.NotFound,      // assumed
	"ProxyAddressExistsException":        backend.AlreadyExists, // assumed
	"ADObjectAlreadyExistsException":     backend.AlreadyExists, // assumed
	"RecipientTaskException":             backend.InvalidArgument,
	"DataValidationException":            backend.InvalidArgument,
	"ParameterBindingException":          backend.InvalidArgument,
	"ArgumentException":                  backend.InvalidArgument,
	"CmdletAccessDeniedException":        backend.PermissionDenied,
	"UnauthorizedAccessException":        backend.PermissionDenied,
	"OverBudgetException":                backend.Throttled, // assumed (Exchange's throttling budget)
}

// classify turns an error answer into a *backend.Error. The exception type
// inside details[].message decides first (the HTTP status per exception is
// not documented), then the status.
func (d *Driver) classify(op, key string, status int, h http.Header, raw []byte) *backend.Error {
	se := parseServiceError(status, h, raw)
	e := &backend.Error{Op: op, Key: key, Err: se}
	text := se.text()
	lower := strings.ToLower(text)
	typ := se.ExceptionType
	if i := strings.LastIndexByte(typ, '.'); i >= 0 {
		typ = typ[i+1:]
	}
	kind, known := exceptionKinds[typ]
	switch {
	case status == http.StatusTooManyRequests || strings.Contains(lower, "maximum number of concurrent requests"):
		kind = backend.Throttled
	case known:
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		kind = backend.PermissionDenied
	case strings.Contains(lower, "is already being used"):
		kind = backend.AlreadyExists
	case strings.Contains(lower, "couldn't be found") || strings.Contains(lower, "could not be found"):
		kind = backend.NotFound
	case status == http.StatusRequestTimeout || status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		kind = backend.Unavailable
	case status == http.StatusNotFound:
		kind = backend.NotFound
	case status >= 500:
		kind = backend.Unavailable
	default:
		kind = backend.InvalidArgument
	}
	if kind == backend.InvalidArgument && strings.Contains(lower, "is already being used") {
		kind = backend.AlreadyExists
	}
	e.Kind = kind
	switch kind {
	case backend.Throttled:
		e.RetryAfter = d.retryAfter(h)
		e.Msg = "Exchange Online is throttling this tenant: wait and retry"
	case backend.Unavailable:
		e.RetryAfter = d.retryAfter(h)
	case backend.PermissionDenied:
		e.Msg = "the application lacks a right: it needs Exchange.ManageAsApp and an Exchange administrator role"
	case backend.InvalidArgument, backend.FailedPrecondition:
		e.Reason = se.reason
		if e.Reason == "" {
			e.Reason = reasonOf(lower)
		}
	}
	return e
}

// reasonOf names the contract rule an InvalidArgument answer broke, from
// its text (Exchange gives no machine-readable rule).
func reasonOf(lower string) backend.Reason {
	switch {
	case strings.Contains(lower, "accepted domain"):
		return backend.ReasonAliasDomainUnverified
	case strings.Contains(lower, "member of itself") || strings.Contains(lower, "has no mailbox") || strings.Contains(lower, "can't be a member") || strings.Contains(lower, "cannot be a member"):
		return backend.ReasonMemberType
	case strings.Contains(lower, "email address") || strings.Contains(lower, "alias") || strings.Contains(lower, "smtp"):
		return backend.ReasonAliasSyntax
	case strings.Contains(lower, "name"):
		return backend.ReasonGroupName
	}
	return ""
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func (d *Driver) retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if w := t.Sub(d.now()); w > 0 {
			return w
		}
	}
	return 0
}
