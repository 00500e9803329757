package graphtenant

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// TestBatchesAreFullyParallel runs the bulk calls against the emulator,
// which refuses, as Graph does, a batch mixing independent requests with
// dependsOn chains: 25 creates are 2 batches of creates and 2 of reads,
// 25 assignments 2 of assignments and 2 of reads.
func TestBatchesAreFullyParallel(t *testing.T) {
	e := newEmulated(t, 30, nil)
	in := make([]backend.NewOnlineUser, 25)
	for i := range in {
		in[i] = backend.NewOnlineUser{UserPrincipalName: fmt.Sprintf("par%02d@%s", i, testDomain), DisplayName: "Par", UsageLocation: "FR", Password: "Bulk!Passw0rd"}
	}
	out, errs := e.driver.CreateUsers(t.Context(), in)
	changes := make([]backend.LicenseChange, len(in))
	for i := range in {
		require.NoError(t, errs[i])
		assert.False(t, out[i].LastPasswordChange.IsZero(), "read back")
		changes[i] = backend.LicenseChange{UserID: out[i].ID, Add: []backend.LicenseAssignment{{SKUID: e.sku.SKUID}}}
	}
	st := e.server.Stats()
	assert.Equal(t, int64(4), st.Requests)
	assert.Equal(t, int64(50), st.BatchItems)

	got, errs := e.driver.AssignLicensesMany(t.Context(), changes)
	for i := range changes {
		require.NoError(t, errs[i])
		assert.True(t, got[i].Licensed())
	}
	st = e.server.Stats()
	assert.Equal(t, int64(8), st.Requests)
	assert.Equal(t, int64(100), st.BatchItems)
	assert.Equal(t, int64(50), st.WritesAccepted)
}
