package groups

import (
	"fmt"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// PartialError is the cause (errors.As) of the error a change returns when
// it was made only in part: the group exists, some member changes were
// made, others failed. Running the same call again completes it: changes
// already made are left alone.
type PartialError struct {
	// Group names the group (or, for a user's memberships, the user).
	Group string
	// Done lists the changes made, e.g. "add ann@contoso.com".
	Done []string
	// Failed lists the changes that failed with their errors.
	Failed []Failure
}

// Failure is one change that failed.
type Failure struct {
	Change string
	Err    error
}

func (p *PartialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d changes failed", len(p.Failed), len(p.Failed)+len(p.Done))
	for i, f := range p.Failed {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", f.Change, f.Err)
	}
	return b.String()
}

// Unwrap returns the failures' errors.
func (p *PartialError) Unwrap() []error {
	out := make([]error, len(p.Failed))
	for i, f := range p.Failed {
		out[i] = f.Err
	}
	return out
}

// changes runs a list of member changes, each through the retry policy
// and the audit trail, and returns a partial error when some failed.
type changes struct {
	op, key string
	p       PartialError
}

func (c *changes) record(change string, err error) {
	if err != nil {
		c.p.Failed = append(c.p.Failed, Failure{Change: change, Err: err})
		return
	}
	c.p.Done = append(c.p.Done, change)
}

// err returns nil when every change was made, else an error of the first
// failure's kind whose cause is the *PartialError.
func (c *changes) err(what string) error {
	if len(c.p.Failed) == 0 {
		return nil
	}
	p := c.p
	return &backend.Error{
		Kind: backend.KindOf(p.Failed[0].Err), Op: c.op, Key: c.key,
		Msg: fmt.Sprintf("%s was done in part: fix the cause of the failures and run the same call again; it makes only the missing changes", what),
		Err: &p,
	}
}
