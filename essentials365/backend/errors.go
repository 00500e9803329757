package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies an error. The zero Kind is Unknown.
type Kind int

// The kinds of error drivers and portable packages return.
const (
	Unknown            Kind = iota
	NotFound                // the object does not exist
	AlreadyExists           // an object with that name or key exists
	InvalidArgument         // the input breaks a rule; Error.Reason says which
	FailedPrecondition      // the state does not allow it (no free license, not verified, ...)
	PermissionDenied        // the credentials lack a right
	Throttled               // slow down; Error.RetryAfter says for how long
	Unavailable             // transient: the service did not answer or failed
	Unimplemented           // the driver does not support this operation or filter
	Canceled                // the context was canceled or its deadline passed
)

var kindNames = [...]string{
	Unknown:            "unknown",
	NotFound:           "not found",
	AlreadyExists:      "already exists",
	InvalidArgument:    "invalid argument",
	FailedPrecondition: "failed precondition",
	PermissionDenied:   "permission denied",
	Throttled:          "throttled",
	Unavailable:        "unavailable",
	Unimplemented:      "unimplemented",
	Canceled:           "canceled",
}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// sentinel is the comparable error behind each ErrXxx value.
type sentinel struct{ kind Kind }

func (s *sentinel) Error() string { return s.kind.String() }

// Sentinels for errors.Is. An *Error of kind K matches the sentinel of K.
var (
	ErrNotFound           error = &sentinel{NotFound}
	ErrAlreadyExists      error = &sentinel{AlreadyExists}
	ErrInvalidArgument    error = &sentinel{InvalidArgument}
	ErrFailedPrecondition error = &sentinel{FailedPrecondition}
	ErrPermissionDenied   error = &sentinel{PermissionDenied}
	ErrThrottled          error = &sentinel{Throttled}
	ErrUnavailable        error = &sentinel{Unavailable}
	ErrUnimplemented      error = &sentinel{Unimplemented}
	ErrCanceled           error = &sentinel{Canceled}
)

// Sentinel returns the errors.Is sentinel of k (ErrNotFound for NotFound,
// ...), or nil for Unknown.
func (k Kind) Sentinel() error {
	switch k {
	case NotFound:
		return ErrNotFound
	case AlreadyExists:
		return ErrAlreadyExists
	case InvalidArgument:
		return ErrInvalidArgument
	case FailedPrecondition:
		return ErrFailedPrecondition
	case PermissionDenied:
		return ErrPermissionDenied
	case Throttled:
		return ErrThrottled
	case Unavailable:
		return ErrUnavailable
	case Unimplemented:
		return ErrUnimplemented
	case Canceled:
		return ErrCanceled
	}
	return nil
}

// Reason names the rule or condition behind an error, in kebab-case
// ("password-complexity", "domain-unverified"). Every package that returns
// a reason declares it as an exported constant of this type, documented
// with the Kind it comes with; a reason is never built by concatenation.
type Reason string

// Error is the error type of this SDK: a kind, what was being done, to what,
// and the cause. Its message reads "op (key): msg: cause".
type Error struct {
	Kind Kind
	// Op names the operation, e.g. "directory: create user".
	Op string
	// Key names the object, e.g. a sAMAccountName or a UPN.
	Key string
	// Msg says what went wrong in plain words.
	Msg string
	// Reason is the rule that failed, for InvalidArgument and
	// FailedPrecondition (e.g. "password-complexity", "upn-characters").
	Reason Reason
	// RetryAfter is how long to wait before retrying, for Throttled.
	RetryAfter time.Duration
	// Err is the cause: the service's own error, reachable through errors.As.
	Err error
}

func (e *Error) Error() string { return string(e.appendTo(nil, "")) }

// appendTo renders e. An *Error nested directly in another names its
// operation and key only where they add something: under an outer error
// with the same key, only the inner operation's side ("directory",
// "tenant") is kept, so a results file reads
// `accounts: create user ("ann"): directory: the password is too short`
// rather than repeating the operation and the key.
func (e *Error) appendTo(b []byte, outerKey string) []byte {
	start := len(b)
	op, key := e.Op, e.Key
	if outerKey != "" && (key == "" || key == outerKey) {
		key = ""
		if side, _, ok := strings.Cut(op, ":"); ok {
			op = side
		}
	}
	b = append(b, op...)
	if key != "" {
		if len(b) > start {
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "(%q)", key)
	}
	msg := e.Msg
	if msg == "" && e.Err == nil {
		msg = e.Kind.String()
	}
	if msg != "" {
		if len(b) > start {
			b = append(b, ": "...)
		}
		b = append(b, msg...)
	}
	if e.Reason != "" {
		b = fmt.Appendf(b, " [rule %s]", e.Reason)
	}
	if e.Err != nil {
		if len(b) > start {
			b = append(b, ": "...)
		}
		k := e.Key
		if k == "" {
			k = outerKey
		}
		if inner, ok := e.Err.(*Error); ok {
			b = inner.appendTo(b, k)
		} else {
			b = append(b, e.Err.Error()...)
		}
	}
	return b
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's kind.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	return ok && s.kind == e.Kind
}

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, op, key, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Invalid returns an InvalidArgument error naming the rule that failed.
func Invalid(op, key string, rule Reason, format string, args ...any) *Error {
	return &Error{Kind: InvalidArgument, Op: op, Key: key, Reason: rule, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of the given kind around err. A context error is
// classified as Canceled whatever kind is given. Wrap(nil, ...) is nil.
func Wrap(err error, kind Kind, op, key string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		kind = Canceled
	}
	return &Error{Kind: kind, Op: op, Key: key, Err: err}
}

// WithOp returns err annotated with op and key, keeping its kind. It is used
// by the portable layer to say what it was doing; err's own *Error (if any)
// stays reachable through errors.As. WithOp(nil, ...) is nil.
func WithOp(err error, op, key string) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindOf(err), Op: op, Key: key, Err: err, RetryAfter: retryAfter(err)}
}

// KindOf returns the kind of err: the kind of the outermost *Error in its
// chain, Canceled for context errors, Unknown otherwise.
func KindOf(err error) Kind {
	if err == nil {
		return Unknown
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var s *sentinel
	if errors.As(err, &s) {
		return s.kind
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	return Unknown
}

// RetryAfter returns the wait a Throttled error asks for and whether err is
// throttled at all.
func RetryAfter(err error) (time.Duration, bool) {
	if KindOf(err) != Throttled {
		return 0, false
	}
	return retryAfter(err), true
}

func retryAfter(err error) time.Duration {
	var e *Error
	for errors.As(err, &e) {
		if e.RetryAfter > 0 {
			return e.RetryAfter
		}
		err = e.Err
		if err == nil {
			break
		}
	}
	return 0
}

// ReasonOf returns the rule named by the first *Error in err's chain that has
// one, or "".
func ReasonOf(err error) Reason {
	var e *Error
	for errors.As(err, &e) {
		if e.Reason != "" {
			return e.Reason
		}
		err = e.Err
		if err == nil {
			break
		}
	}
	return ""
}

// Retryable reports whether retrying the same call may succeed: Throttled and
// Unavailable errors.
func Retryable(err error) bool {
	k := KindOf(err)
	return k == Throttled || k == Unavailable
}

// CtxErr returns a Canceled error for op when ctx is done, or nil. Drivers
// call it on entry so that every call honours cancellation.
func CtxErr(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return &Error{Kind: Canceled, Op: op, Err: err}
	}
	return nil
}
