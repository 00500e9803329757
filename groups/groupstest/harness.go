// Package groupstest runs the flows of package groups over any tenant and
// Exchange drivers: the memory drivers, and the Graph and Exchange Online
// drivers through the emulator.
package groupstest

import (
	"context"
	"testing"

	"github.com/essentials365/sdk/essentials365/backend/memory"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Harness makes the services the flows run over.
type Harness interface {
	// MakeGroups returns a fresh tenant and its Exchange Online, used by
	// one subtest only. When exchange is false the tenant's subscriptions
	// include no Exchange Online plan.
	MakeGroups(ctx context.Context, t *testing.T, exchange bool) Fixture
}

// Fixture is what one flow runs over.
type Fixture struct {
	Tenant   backend.Tenant
	Exchange backend.Exchange
	// VerifiedDomain is a verified custom domain, the tenant's default.
	VerifiedDomain string
	// UnverifiedDomain is a domain added to the tenant but not verified.
	UnverifiedDomain string
	// MailboxSKU has an Exchange Online plan and at least 20 free seats;
	// PlainSKU has none (a license that gives no mailbox).
	MailboxSKU string
	PlainSKU   string
	// FailNext makes the next n calls of an Exchange operation (the memory
	// driver's method name, e.g. "AddMember") fail with err, wherever the
	// Exchange side is served from.
	FailNext func(op memory.Op, n int, err error)
}
