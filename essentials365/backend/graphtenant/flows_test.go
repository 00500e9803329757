package graphtenant

import (
	"context"
	"testing"

	"github.com/essentials365/sdk/accounts/accountstest"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/internal/sambatest"
)

// TestAccountFlowsThroughGraph runs the account flows with the memory
// directory and this driver, through the emulator.
func TestAccountFlowsThroughGraph(t *testing.T) {
	accountstest.RunFlows(t, &accountstest.MemoryDirectory{}, emulatorHarness{})
}

// sambaDirectory serves one driver over the test DC to the flows.
type sambaDirectory struct{ d *adldap.Directory }

func (h sambaDirectory) MakeDirectory(context.Context, *testing.T) backend.Directory { return h.d }
func (h sambaDirectory) Authenticate(ctx context.Context, who, pw string) error {
	return h.d.Authenticate(ctx, who, pw)
}

// TestAccountFlowsSambaAndGraph runs the flows over both real drivers: the
// Samba DC for the directory, this driver through the emulator for the
// cloud.
func TestAccountFlowsSambaAndGraph(t *testing.T) {
	dc := sambatest.Settings(t)
	d, err := adldap.Open(t.Context(), adldap.Config{URL: dc.URL, User: dc.User, Password: dc.Password, BaseDN: dc.BaseDN, CAFile: dc.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	accountstest.RunFlows(t, sambaDirectory{d}, emulatorHarness{})
}
