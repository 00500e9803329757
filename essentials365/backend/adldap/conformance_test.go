package adldap_test

import (
	"context"
	"testing"

	"github.com/essentials365/sdk/accounts/accountstest"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
)

// sambaHarness shares one driver over the test DC between the subtests.
type sambaHarness struct {
	d   *adldap.Directory
	cfg adldap.Config
}

func (h sambaHarness) MakeDirectory(context.Context, *testing.T) backend.Directory { return h.d }

// EnforcesPasswordNameRule: Samba 4.17 accepts a password that contains the
// account name or a display-name token (Windows refuses it); the suite then
// expects acceptance instead of "password-contains-name".
func (sambaHarness) EnforcesPasswordNameRule() bool { return false }

// Authenticate binds as the user: the suites' logon checks run on the DC.
func (h sambaHarness) Authenticate(ctx context.Context, who, password string) error {
	return h.d.Authenticate(ctx, who, password)
}

// ApplyPasswordPolicy gives the user a fine-grained password policy as an
// administrator does: a password settings object applied to a new global
// security group that holds the user. Both are deleted at cleanup.
func (h sambaHarness) ApplyPasswordPolicy(ctx context.Context, t *testing.T, id backend.GUID, p backend.PasswordPolicy) string {
	return applyPSO(ctx, t, h.cfg, h.d, id, p)
}

func TestConformance(t *testing.T) {
	cfg := config(t)
	d := open(t, cfg)
	backendtest.RunDirectoryTests(t, sambaHarness{d, cfg})
}

// The account flows end to end: Samba for the directory, the memory tenant
// for the cloud.
func TestAccountFlowsOnSamba(t *testing.T) {
	cfg := config(t)
	d := open(t, cfg)
	accountstest.RunFlows(t, sambaHarness{d, cfg}, accountstest.MemoryTenant{})
}
