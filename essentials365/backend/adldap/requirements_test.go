package adldap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
)

// TestSambaRequirementFacts reads the requirement facts from the test DC:
// one domain controller that the driver talks to, the mapping attribute in
// the schema and writable by the administrator, but not by a plain user,
// and not present when the driver is configured with an attribute the
// schema lacks.
func TestSambaRequirementFacts(t *testing.T) {
	cfg := config(t)
	d := open(t, cfg)
	f, err := d.RequirementFacts(t.Context())
	require.NoError(t, err)
	require.Len(t, f.DomainControllers, 1, "the test domain has one DC: %v", f.DomainControllers)
	assert.Equal(t, f.DomainControllers[0], f.Server, "the driver talks to the DC")
	assert.Equal(t, adldap.DefaultMappingAttribute, f.MappingAttribute)
	assert.True(t, f.SchemaHasMappingAttribute)
	assert.True(t, f.CanWriteMappingAttribute, "the administrator may write the mapping attribute")
	assert.WithinDuration(t, time.Now(), f.ServerTime, 5*time.Minute, "the DC's clock is read")

	// A plain user may not write the attribute on other users.
	plain := newUser(t, d, "req", nil)
	ucfg := cfg
	ucfg.User, ucfg.Password = plain.UserPrincipalName, goodPassword
	f, err = open(t, ucfg).RequirementFacts(t.Context())
	require.NoError(t, err)
	assert.True(t, f.SchemaHasMappingAttribute)
	assert.False(t, f.CanWriteMappingAttribute, "a plain user cannot write the mapping attribute of other users")

	// An attribute the schema does not have.
	mcfg := cfg
	mcfg.MappingAttribute = "e365NoSuchAttribute"
	f, err = open(t, mcfg).RequirementFacts(t.Context())
	require.NoError(t, err)
	assert.False(t, f.SchemaHasMappingAttribute)
	assert.False(t, f.CanWriteMappingAttribute)
	var _ backend.DirectoryRequirements = d
}
