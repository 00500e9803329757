package essentials365

import (
	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/state"
)

// Reasons of the errors this package returns.
const (
	// ReasonNotIntegrated (FailedPrecondition): the integration was never
	// set up in this state store; run Integrate.
	ReasonNotIntegrated backend.Reason = "not-integrated"
	// ReasonIntegrationDisabled (FailedPrecondition): the integration is
	// disabled; run Integrate to enable it again.
	ReasonIntegrationDisabled backend.Reason = "integration-disabled"
	// ReasonRequirementsNotMet (FailedPrecondition): a requirement check
	// failed; the *RequirementsError cause holds the report.
	ReasonRequirementsNotMet backend.Reason = "requirements-not-met"
	// ReasonOtherTenant (FailedPrecondition): the state store records an
	// integration with another tenant, or a new credential signs in to
	// another tenant.
	ReasonOtherTenant backend.Reason = "other-tenant"
	// ReasonCapabilityMissing (InvalidArgument): a new tenant driver lacks
	// a capability of the one it replaces, or the tenant cannot rotate its
	// secret.
	ReasonCapabilityMissing backend.Reason = "capability-missing"
	// ReasonStateCorrupt (FailedPrecondition): the integration record in
	// the state store cannot be read; it is never reset silently.
	ReasonStateCorrupt = state.ReasonStateCorrupt
	// ReasonDirectoryRequired and ReasonTenantRequired (InvalidArgument):
	// Open needs both drivers (the same reasons as accounts.New).
	ReasonDirectoryRequired = accounts.ReasonDirectoryRequired
	ReasonTenantRequired    = accounts.ReasonTenantRequired
	// ReasonSealerRequired (InvalidArgument): a durable store needs a
	// Sealer (state.Defaults).
	ReasonSealerRequired = state.ReasonSealerRequired
	// ReasonNewTenantRequired (InvalidArgument): RotateSecret needs a
	// NewTenant function.
	ReasonNewTenantRequired backend.Reason = "new-tenant-required"
)
