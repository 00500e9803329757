package m365emulator

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ReasonTarget is the target of the error detail in which the emulator
// reports a backend error's Reason (the rule that failed, see
// [backend.Error]): {"code":"<reason>","target":"essentials365.reason"}.
// It is an emulator extension, sent only with Options.ReasonDetail, for
// debugging; Microsoft Graph itself never sends it.
const ReasonTarget = "essentials365.reason"

// Graph's messages, as the service writes them.
const (
	msgNotFound         = "Resource '%s' does not exist or one of its queried reference-property objects are not present."
	msgConflict         = "Another object with the same value for property %s already exists."
	msgDomainConflict   = "A conflicting object with one or more of the specified property values is present in the directory."
	msgDenied           = "Insufficient privileges to complete the operation."
	msgUnavailable      = "The service is temporarily unavailable. Please retry later."
	msgInvalidJSON      = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
	msgTooManyRequests  = "Too many requests from Identifier:%s under category:throttle.aad.ags.msgraph.%s. Please try again later."
	msgFailedDependency = "The request was not executed because a request it depends on failed."
	msgMixedBatch       = "Batch should be either fully sequential or fully parallel."
)

// wireError is Graph's error body: {"error":{...}}.
type wireError struct {
	Error mainError `json:"error"`
}

type mainError struct {
	Code       string        `json:"code"`
	Message    string        `json:"message"`
	Details    []errorDetail `json:"details,omitempty"`
	InnerError innerError    `json:"innerError"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
	Target  string `json:"target,omitempty"`
}

type innerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// fail builds an error response. message must not be empty: the Graph SDK
// for Go panics on an error without one.
func (s *Server) fail(req *request, status int, code, message string, details []errorDetail) *response {
	if message == "" {
		message = http.StatusText(status)
	}
	return &response{status: status, body: wireError{Error: mainError{
		Code:    code,
		Message: message,
		Details: details,
		InnerError: innerError{
			Date:            s.now().UTC().Format(time.RFC3339),
			RequestID:       req.requestID,
			ClientRequestID: req.clientID,
		},
	}}}
}

// errorResponse maps a backend error to Graph's status, code and message.
// key names the object of the request (the id in the URL), for NotFound.
func (s *Server) errorResponse(req *request, rt route, err error) *response {
	var details []errorDetail
	reason := backend.ReasonOf(err)
	msg := plainMessage(err)
	var resp *response
	switch backend.KindOf(err) {
	case backend.NotFound:
		key := rt.key
		if key == "" {
			key = keyOf(err)
		}
		resp = s.fail(req, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf(msgNotFound, key), nil)
	case backend.AlreadyExists:
		if s.opts.Conflicts == ConflictsWithoutDetails {
			msg = msgDomainConflict
		} else if rt.family == "domains" {
			details = append(details, errorDetail{Code: "ObjectConflict", Target: "id"})
			msg = msgDomainConflict
		} else {
			prop := conflictProperty(msg)
			details = append(details, errorDetail{Code: "ObjectConflict", Target: prop})
			msg = fmt.Sprintf(msgConflict, prop)
		}
		resp = s.fail(req, http.StatusBadRequest, "Request_BadRequest", msg, s.withReason(details, reason))
	case backend.InvalidArgument, backend.FailedPrecondition:
		resp = s.fail(req, http.StatusBadRequest, "Request_BadRequest", msg, s.withReason(details, reason))
	case backend.PermissionDenied:
		resp = s.fail(req, http.StatusForbidden, "Authorization_RequestDenied", msgDenied, s.withReason(nil, reason))
	case backend.Throttled:
		wait, _ := backend.RetryAfter(err)
		resp = s.fail(req, http.StatusTooManyRequests, "TooManyRequests",
			fmt.Sprintf(msgTooManyRequests, req.appID, "readwrite"), nil)
		resp.setHeader("Retry-After", s.retryAfterHeader(wait))
	case backend.Unavailable:
		resp = s.fail(req, http.StatusServiceUnavailable, "serviceNotAvailable", msgUnavailable, nil)
		if wait := retryAfterOf(err); wait > 0 {
			resp.setHeader("Retry-After", s.retryAfterHeader(wait))
		}
	case backend.Unimplemented:
		resp = s.fail(req, http.StatusNotImplemented, "NotImplemented", msg, s.withReason(nil, reason))
	case backend.Canceled:
		resp = s.fail(req, http.StatusGatewayTimeout, "GatewayTimeout", "The request was canceled or timed out before it completed.", nil)
	default:
		resp = s.fail(req, http.StatusInternalServerError, "InternalServerError", msg, nil)
	}
	return resp
}

// withReason adds the emulator-only reason detail when Options.ReasonDetail
// asks for it.
func (s *Server) withReason(details []errorDetail, reason backend.Reason) []errorDetail {
	if reason == "" || !s.opts.ReasonDetail {
		return details
	}
	return append(details, errorDetail{Code: string(reason), Target: ReasonTarget,
		Message: "emulator extension: the backend rule that failed"})
}

// plainMessage returns the message of the outermost *backend.Error that has
// one, or err's text.
func plainMessage(err error) string {
	var e *backend.Error
	for cur := err; errors.As(cur, &e); cur = e.Err {
		if e.Msg != "" {
			return e.Msg
		}
		if e.Err == nil {
			break
		}
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func keyOf(err error) string {
	var e *backend.Error
	if errors.As(err, &e) {
		return e.Key
	}
	return ""
}

// retryAfterOf returns the RetryAfter of the first *backend.Error that has
// one, whatever its kind.
func retryAfterOf(err error) time.Duration {
	var e *backend.Error
	for cur := err; errors.As(cur, &e); cur = e.Err {
		if e.RetryAfter > 0 {
			return e.RetryAfter
		}
		if e.Err == nil {
			break
		}
	}
	return 0
}

// conflictProperty guesses which user property an AlreadyExists error is
// about from its message: Graph's wording names it, and backends are
// encouraged to reuse that wording.
func conflictProperty(msg string) string {
	if _, rest, ok := strings.Cut(msg, "for property "); ok {
		if prop, _, ok := strings.Cut(rest, " "); ok && prop != "" {
			return prop
		}
	}
	if strings.Contains(strings.ToLower(msg), "immutable") {
		return "onPremisesImmutableId"
	}
	return "userPrincipalName"
}

// graphMessage is an error whose text is one of Graph's messages, written
// as Graph writes them (capitalized, with a period), for the answer.
type graphMessage string

func (m graphMessage) Error() string { return string(m) }
