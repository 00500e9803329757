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
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ItemStatus is the outcome of one item of a bulk operation.
type ItemStatus string

const (
	// StatusDone: every step of the item was carried out (or had been by
	// an earlier run).
	StatusDone ItemStatus = "done"
	// StatusFailed: the item was not carried out, or only in part; see Err
	// and Action. Running the operation again completes it.
	StatusFailed ItemStatus = "failed"
	// StatusNotStarted: the run stopped (canceled) before this item.
	StatusNotStarted ItemStatus = "not-started"
)

// Operation names a bulk operation in a Result and its results file.
type Operation string

// The bulk operations.
const (
	OperationBulkCreate Operation = "bulk-create"
	OperationImport     Operation = "import"
)

// ItemResult is the outcome for one user.
type ItemResult struct {
	User         string     `json:"user"`
	OnlineID     string     `json:"onlineId,omitempty"`
	OnlineUserID string     `json:"onlineUserId,omitempty"`
	Status       ItemStatus `json:"status"`
	// Kind and Reason classify the failure; Message says it in words.
	Kind    string         `json:"kind,omitempty"`
	Reason  backend.Reason `json:"reason,omitempty"`
	Message string         `json:"message,omitempty"`
	// Action is what to do about it.
	Action string `json:"action,omitempty"`
	// Err is the error itself (not serialized).
	Err error `json:"-"`
}

func (r *ItemResult) setError(err error) {
	r.Status = StatusFailed
	r.Err = err
	r.Kind = backend.KindOf(err).String()
	r.Reason = backend.ReasonOf(err)
	r.Message = err.Error()
	r.Action = actionFor(err)
}

// Result is the outcome of a bulk operation.
type Result struct {
	Operation Operation     `json:"operation"`
	Items     []*ItemResult `json:"items"`
	Done      int           `json:"done"`
	Failed    int           `json:"failed"`
	// Started is when the operation started (Options.Now); it names the
	// results file.
	Started time.Time `json:"started"`
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

// ResultsFileVersion is the version of the results file format.
const ResultsFileVersion = 1

// ResultsFile is the JSON results file WriteFiles writes, decodable with
// encoding/json:
//
//	{"version": 1, "operation": "bulk-create", "started": "2026-11-02T09:00:00Z",
//	 "done": 3, "failedCount": 1,
//	 "failed": [{"user": "ann", "onlineId": "ann@contoso.com", "status": "failed",
//	             "kind": "invalid argument", "reason": "online-id-characters",
//	             "message": "...", "action": "..."}]}
//
// The CSV file beside it has one row per failed item with the columns
// user, online_id, status, kind, reason, message, action; a value that
// starts with = + - @, a tab or a carriage return is written with a leading
// single quote, so a spreadsheet never runs it as a formula (the JSON file
// keeps every value as it is).
type ResultsFile struct {
	Version     int           `json:"version"`
	Operation   Operation     `json:"operation"`
	Started     time.Time     `json:"started"`
	Done        int           `json:"done"`
	FailedCount int           `json:"failedCount"`
	Failed      []*ItemResult `json:"failed"`
}

// WriteFiles writes the failed items to dir as
// OnlineAccountsResults_<started>.csv and .json (see ResultsFile), never
// overwriting an existing file, and returns their paths.
func (r *Result) WriteFiles(dir string) ([]string, error) {
	fails := r.Failures()
	var cbuf bytes.Buffer
	w := csv.NewWriter(&cbuf)
	_ = w.Write([]string{"user", "online_id", "status", "kind", "reason", "message", "action"})
	for _, it := range fails {
		_ = w.Write([]string{csvCell(it.User), csvCell(it.OnlineID), string(it.Status), it.Kind, string(it.Reason), csvCell(it.Message), csvCell(it.Action)})
	}
	w.Flush()
	started := r.Started
	if started.IsZero() {
		started = time.Now()
	}
	jbuf, err := json.MarshalIndent(ResultsFile{Version: ResultsFileVersion, Operation: r.Operation, Started: started.UTC(),
		Done: r.Done, FailedCount: len(fails), Failed: fails}, "", "  ")
	if err != nil {
		return nil, backend.Wrap(err, backend.Unknown, "accounts: write results", dir)
	}
	base := "OnlineAccountsResults_" + started.UTC().Format("20060102T150405Z")
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
	return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: "accounts: write results", Key: dir, Reason: ReasonUnsafeDirectory,
		Msg: "too many results files with the same name: move the old ones away"}
}

// csvCell keeps a spreadsheet from running a value as a formula: a cell
// that starts with = + - @ or a tab or carriage return (a failed item's
// user name, online ID or message come from outside) gets a leading single
// quote, which spreadsheets show as text.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// prepareDir creates dir (mode 0700) when missing and checks, before any
// change, that it is a directory the process can write to and, when
// private (it will hold passwords, each file mode 0600), that no one else
// can write to it.
func prepareDir(op, dir string, private bool) error {
	fail := func(cause error, format string, args ...any) error {
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: dir, Reason: ReasonUnsafeDirectory, Err: cause, Msg: fmt.Sprintf(format, args...)}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err, "the directory cannot be created; nothing was changed: choose another one")
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fail(err, "the directory cannot be read; nothing was changed")
	}
	if !fi.IsDir() {
		return fail(nil, "this is not a directory; nothing was changed: choose a directory")
	}
	if private && fi.Mode().Perm()&0o022 != 0 {
		return fail(nil, "the directory will hold passwords but others can write to it (mode %#o), so they could replace the files; nothing was changed: chmod 700 it or choose another one", fi.Mode().Perm())
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fail(err, "the directory is not writable; nothing was changed: fix its permissions or choose another one")
	}
	name := f.Name()
	f.Close()
	_ = os.Remove(name)
	return nil
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

// The drivers' reasons for a userPrincipalName, as the tenant contract
// reports them.
const (
	reasonUPNSyntax           = backend.ReasonUPNSyntax
	reasonUPNCharacters       = backend.ReasonUPNCharacters
	reasonUPNDomainUnverified = backend.ReasonUPNDomainUnverified
	reasonUPNDomainUnknown    = backend.ReasonUPNDomainUnknown
)

// actionFor says what an administrator should do about an error.
func actionFor(err error) string {
	switch backend.ReasonOf(err) {
	case ReasonOnlineIDTaken:
		return "An online account with this ID already exists. Choose another online ID, or assign the existing account to the user with Assign."
	case ReasonOnlineIDCharacters, ReasonOnlineIDSyntax, reasonUPNCharacters, reasonUPNSyntax:
		return "Edit the online ID: use letters A-Z, digits and ' . - _ ! # ^ ~ before the @."
	case ReasonDomainUnknown, ReasonDomainUnverified, reasonUPNDomainUnverified, reasonUPNDomainUnknown:
		return "Verify the domain in Microsoft 365 first, or choose the onmicrosoft.com domain."
	case ReasonProbableDuplicate:
		return "The user probably has an online account already: assign it with Assign (OnlineChoice.Existing) instead of creating another."
	case ReasonLicenseChoiceRequired:
		return "Choose the licences to give, or say NoLicense to create the accounts without one."
	case ReasonNoFreeLicense:
		return "Buy more licenses in the Microsoft 365 admin center, or free some by unassigning accounts, then try again."
	case ReasonUsageLocation:
		return "Set a usage location (two-letter country code) for new online accounts."
	case ReasonAlreadyMapped:
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
