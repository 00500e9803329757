package essentials365

import (
	"fmt"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// CheckID names a requirement check.
type CheckID string

// The requirement checks, in the order a Report lists them.
const (
	// CheckDomainControllers: the domain has exactly one domain controller
	// and the program talks to it.
	CheckDomainControllers CheckID = "domain-controllers"
	// CheckMappingAttribute: the schema has the mapping attribute and the
	// bind account can write it.
	CheckMappingAttribute CheckID = "mapping-attribute"
	// CheckTenantReachable: the program signs in to the tenant and reads
	// its organization.
	CheckTenantReachable CheckID = "tenant-reachable"
	// CheckPermissions: the Graph application permissions of each feature
	// are granted.
	CheckPermissions CheckID = "permissions"
	// CheckDirectorySync: directory synchronization (Entra Connect) is off.
	CheckDirectorySync CheckID = "directory-sync"
	// CheckOtherDirectory: no online account is anchored to another
	// directory (another server or Entra Connect manages it).
	CheckOtherDirectory CheckID = "other-directory"
	// CheckSubscription: at least one subscription is enabled.
	CheckSubscription CheckID = "subscription"
	// CheckExchange: Exchange Online is part of a subscription (aliases and
	// distribution groups need it) and a mail driver is given.
	CheckExchange CheckID = "exchange-online"
	// CheckClock: this machine's clock is within tolerance of the domain
	// controller's and the tenant's.
	CheckClock CheckID = "clock"
)

// CheckStatus is the outcome of one check.
type CheckStatus string

// The outcomes of a check.
const (
	CheckPass CheckStatus = "pass"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
	// CheckSkipped: the check could not run because an earlier one failed
	// (the tenant could not be reached, ...).
	CheckSkipped CheckStatus = "skipped"
)

// Reasons of the failed or warned checks, in Check.Reason.
const (
	// ReasonMultipleDomainControllers (fail, or warn with
	// Options.AllowMultipleDomainControllers).
	ReasonMultipleDomainControllers backend.Reason = "multiple-domain-controllers"
	// ReasonNotDomainController (fail): the program talks to a server that
	// is not a domain controller.
	ReasonNotDomainController backend.Reason = "not-domain-controller"
	// ReasonDirectoryUnreachable (fail): the directory did not answer.
	ReasonDirectoryUnreachable backend.Reason = "directory-unreachable"
	// ReasonMappingAttributeMissing (fail): the schema lacks the attribute.
	ReasonMappingAttributeMissing backend.Reason = "mapping-attribute-missing"
	// ReasonMappingAttributeReadOnly (fail): the bind account cannot write it.
	ReasonMappingAttributeReadOnly backend.Reason = "mapping-attribute-read-only"
	// ReasonCannotVerify (warn): the driver cannot report this fact.
	ReasonCannotVerify backend.Reason = "cannot-verify"
	// ReasonPermissionMissing (fail for a required feature, warn for the
	// others; as an error, FailedPrecondition: the application lacks a
	// permission the operation needs).
	ReasonPermissionMissing backend.Reason = "permission-missing"
	// ReasonDirectorySyncEnabled (fail): Entra Connect synchronizes the
	// tenant.
	ReasonDirectorySyncEnabled backend.Reason = "directory-sync-enabled"
	// ReasonAnchoredElsewhere (warn): online accounts carry another
	// directory's anchor.
	ReasonAnchoredElsewhere backend.Reason = "anchored-elsewhere"
	// ReasonNoSubscription (fail): no enabled subscription.
	ReasonNoSubscription backend.Reason = "no-subscription"
	// ReasonNoExchange (warn): no subscription includes Exchange Online, or
	// no mail driver was given.
	ReasonNoExchange = backend.ReasonNoExchangeOnline
	// ReasonClockSkew (fail): a clock differs by more than the tolerance.
	ReasonClockSkew backend.Reason = "clock-skew"
)

// Check is one entry of a Report.
type Check struct {
	ID     CheckID     `json:"id"`
	Status CheckStatus `json:"status"`
	// Found says what was found, in plain words.
	Found string `json:"found"`
	// Advice says what to do; empty when the check passed.
	Advice string `json:"advice,omitempty"`
	// Reason names the rule behind a fail or warn (a Reason constant of
	// this package or a backend.ReasonSignIn... one).
	Reason backend.Reason `json:"reason,omitempty"`
	// Err is the error behind it, when a call failed.
	Err error `json:"-"`
}

// Report is the outcome of the requirements check: one Check per CheckID.
type Report struct {
	CheckedAt time.Time `json:"checkedAt"`
	Checks    []Check   `json:"checks"`
	// Facts found on the way, for Integrate and Status.
	TenantID   string `json:"tenantId,omitempty"`
	TenantName string `json:"tenantName,omitempty"`
	ClientID   string `json:"clientId,omitempty"`
	Domain     string `json:"domain,omitempty"`
	Server     string `json:"server,omitempty"`
	// ExchangeOnline reports that a subscription includes Exchange Online.
	ExchangeOnline bool `json:"exchangeOnline"`
	// ImportCandidates counts the online accounts no network user has and
	// that no other directory anchors: after integrating, import them
	// (accounts' PlanImport).
	ImportCandidates int `json:"importCandidates"`
	// MissingPermissions lists the missing permissions per feature.
	MissingPermissions map[Feature][]string `json:"missingPermissions,omitempty"`
}

// OK reports whether no check failed.
func (r *Report) OK() bool { return len(r.Failed()) == 0 }

// Failed returns the checks that failed.
func (r *Report) Failed() []Check { return r.with(CheckFail) }

// Warnings returns the checks that warn.
func (r *Report) Warnings() []Check { return r.with(CheckWarn) }

func (r *Report) with(s CheckStatus) []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == s {
			out = append(out, c)
		}
	}
	return out
}

// Get returns the check with that id.
func (r *Report) Get(id CheckID) (Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// String renders the report one check per line, with the advice under
// the checks that did not pass.
func (r *Report) String() string {
	var b strings.Builder
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-7s %-19s %s\n", strings.ToUpper(string(c.Status)), c.ID, c.Found)
		if c.Advice != "" {
			fmt.Fprintf(&b, "        %19s -> %s\n", "", c.Advice)
		}
	}
	return b.String()
}

// RequirementsError is the cause of Integrate's refusal: the report with
// the failed checks. Reach it with errors.As.
type RequirementsError struct {
	Report *Report
}

func (e *RequirementsError) Error() string {
	var ids []string
	for _, c := range e.Report.Failed() {
		ids = append(ids, string(c.ID))
	}
	return "failed checks: " + strings.Join(ids, ", ")
}
