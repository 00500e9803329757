package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

func TestDirectoryRequirementFacts(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := memory.NewDirectory(&memory.DirectoryOptions{DomainControllers: 2, Now: func() time.Time { return now }})
	f, err := d.RequirementFacts(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"dc1.contoso.local", "dc2.contoso.local"}, f.DomainControllers)
	assert.Equal(t, "dc1.contoso.local", f.Server)
	assert.True(t, f.SchemaHasMappingAttribute)
	assert.True(t, f.CanWriteMappingAttribute)
	assert.Equal(t, now, f.ServerTime)

	d.SetMappingAttributeReadOnly(true)
	d.SetClockOffset(time.Hour)
	f, err = d.RequirementFacts(t.Context())
	require.NoError(t, err)
	assert.False(t, f.CanWriteMappingAttribute)
	assert.Equal(t, now.Add(time.Hour), f.ServerTime)
	d.SetMappingAttributeMissing(true)
	f, err = d.RequirementFacts(t.Context())
	require.NoError(t, err)
	assert.False(t, f.SchemaHasMappingAttribute)

	member := memory.NewDirectory(&memory.DirectoryOptions{NotDomainController: true})
	f, err = member.RequirementFacts(t.Context())
	require.NoError(t, err)
	assert.NotContains(t, f.DomainControllers, f.Server)
}

func TestTenantRequirementFacts(t *testing.T) {
	tn := memory.NewTenant(nil)
	f, err := tn.RequirementFacts(t.Context())
	require.NoError(t, err)
	assert.True(t, f.RolesKnown)
	assert.Contains(t, f.Roles, "User.ReadWrite.All")
	assert.False(t, f.OnPremisesSyncEnabled)

	last := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tn.SetDirectorySync(true, last)
	tn.SetGrantedRoles("User.Read.All")
	f, err = tn.RequirementFacts(t.Context())
	require.NoError(t, err)
	assert.True(t, f.OnPremisesSyncEnabled)
	assert.Equal(t, last, f.OnPremisesLastSync)
	assert.Equal(t, []string{"User.Read.All"}, f.Roles)
}

func TestTenantSecretRotation(t *testing.T) {
	tn := memory.NewTenant(nil)
	sec, err := tn.AddSecret(t.Context(), "rotated", time.Time{})
	require.NoError(t, err)
	assert.NotEmpty(t, sec.Text)
	assert.Equal(t, []string{sec.KeyID}, tn.SecretKeyIDs())
	require.NoError(t, tn.RemoveSecret(t.Context(), sec.KeyID))
	assert.Empty(t, tn.SecretKeyIDs())
	require.ErrorIs(t, tn.RemoveSecret(t.Context(), sec.KeyID), backend.ErrNotFound)
	tn.SetGrantedRoles("User.ReadWrite.All")
	_, err = tn.AddSecret(t.Context(), "", time.Time{})
	require.ErrorIs(t, err, backend.ErrPermissionDenied)
}
