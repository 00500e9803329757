package accounts

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Status is the outcome of one item of a bulk operation.
type Status string

const (
	// StatusDone: the item was carried out (or had been by an earlier run).
	StatusDone Status = "done"
	// StatusFailed: the item was not carried out; see Err and Action.
	StatusFailed Status = "failed"
	// StatusNotStarted: the run stopped (canceled) before this item.
	StatusNotStarted Status = "not-started"
)

// ItemResult is the outcome for one user.
type ItemResult struct {
	User         string `json:"user"`
	OnlineID     string `json:"onlineId,omitempty"`
	OnlineUserID string `json:"onlineUserId,omitempty"`
	Status       Status `json:"status"`
	// Kind and Reason classify the failure; Message says it in words.
	Kind    string `json:"kind,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Action is what to do about it.
	Action string `json:"action,omitempty"`
	// Err is the error itself (not serialized).
	Err error `json:"-"`
}

func (r *ItemResult) setError(err error) {
	r.Status = StatusFailed
	r.Err = err
	r.Kind = backend.KindOf(err).String()
	r.Reason = string(backend.ReasonOf(err))
	r.Message = err.Error()
	r.Action = actionFor(err)
}

// Result is the outcome of a bulk operation.
type Result struct {
	Operation string        `json:"operation"`
	Items     []*ItemResult `json:"items"`
	Done      int           `json:"done"`
	Failed    int           `json:"failed"`
	// ResultsFiles are the files written for the failures, if any.
	ResultsFiles []string `json:"-"`
}

func (r *Result) finish() {
	r.Done, r.Failed = 0, 0
	for _, it := range r.Items {
		switch it.Status {
		case StatusDone:
			r.Done++
		case StatusFailed:
			r.Failed++
		case "":
			it.Status = StatusNotStarted
		}
	}
}

// Failures returns the items that failed.
func (r *Result) Failures() []*ItemResult {
	var out []*ItemResult
	for _, it := range r.Items {
		if it.Status == StatusFailed {
			out = append(out, it)
		}
	}
	return out
}

// WriteFiles writes the failed items to dir as OnlineAccountsResults_<time>.csv
// and .json, never overwriting an existing file, and returns their paths.
// Each row gives the user, the online ID, the reason and the action to take.
func (r *Result) WriteFiles(dir string) ([]string, error) {
	fails := r.Failures()
	var cbuf bytes.Buffer
	w := csv.NewWriter(&cbuf)
	_ = w.Write([]string{"user", "online_id", "status", "kind", "reason", "message", "action"})
	for _, it := range fails {
		_ = w.Write([]string{it.User, it.OnlineID, string(it.Status), it.Kind, it.Reason, it.Message, it.Action})
	}
	w.Flush()
	jbuf, err := json.MarshalIndent(struct {
		Operation string        `json:"operation"`
		Failed    []*ItemResult `json:"failed"`
	}{r.Operation, fails}, "", "  ")
	if err != nil {
		return nil, backend.Wrap(err, backend.Unknown, "accounts: write results", dir)
	}
	base := "OnlineAccountsResults_" + time.Now().UTC().Format("20060102T150405Z")
	var paths []string
	for n := 0; n < 1000; n++ {
		name := base
		if n > 0 {
			name = fmt.Sprintf("%s_%d", base, n)
		}
		p1, p2 := filepath.Join(dir, name+".csv"), filepath.Join(dir, name+".json")
		if err := createExclusive(p1, cbuf.Bytes()); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			return nil, backend.Wrap(err, backend.Unavailable, "accounts: write results", p1)
		}
		if err := createExclusive(p2, append(jbuf, '\n')); err != nil {
			_ = os.Remove(p1)
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			return nil, backend.Wrap(err, backend.Unavailable, "accounts: write results", p2)
		}
		paths = append(paths, p1, p2)
		return paths, nil
	}
	return nil, backend.Errorf(backend.FailedPrecondition, "accounts: write results", dir, "too many results files with the same name")
}

// createExclusive creates path with data; it fails if path exists.
func createExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return err
	}
	return nil
}

// actionFor says what an administrator should do about an error.
func actionFor(err error) string {
	switch backend.ReasonOf(err) {
	case RuleOnlineIDTaken:
		return "An online account with this ID already exists. Choose another online ID, or assign the existing account to the user with Assign."
	case RuleOnlineIDCharacters, RuleOnlineIDSyntax, "upn-characters", "upn-syntax":
		return "Edit the online ID: use letters A-Z, digits and ' . - _ ! # ^ ~ before the @."
	case RuleDomainUnverified, "upn-domain-unverified", "upn-domain-unknown":
		return "Verify the domain in Microsoft 365 first, or choose the onmicrosoft.com domain."
	case RuleNoFreeLicense:
		return "Buy more licenses in the Microsoft 365 admin center, or free some by unassigning accounts, then try again."
	case RuleUsageLocation:
		return "Set a usage location (two-letter country code) for new online accounts."
	case RuleAlreadyMapped:
		return "The user already has an online account; use Assign to change it."
	}
	switch backend.KindOf(err) {
	case backend.Throttled, backend.Unavailable:
		return "Microsoft 365 was busy or unreachable. Run the operation again later: what was done is kept and nothing is created twice."
	case backend.PermissionDenied:
		return "The administrator credential lacks a permission; check the integration's permissions."
	case backend.Canceled:
		return "The run was interrupted. Run it again: what was done is kept and nothing is created twice."
	case backend.InvalidArgument:
		return "Correct the value named in the message and try again."
	}
	return "Try again. If the problem persists, check the service's health and the logs."
}

// asError is errors.As for *backend.Error.
func asError(err error, target **backend.Error) bool { return errors.As(err, target) }
