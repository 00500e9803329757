package m365emulator_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDependencies keeps the emulator on plain net/http: it must not pull
// in the Graph SDK, Azure identity or LDAP, which the drivers it tests use.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not available")
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/essentials365/sdk/essentials365/backend")
	for _, dep := range deps {
		for _, bad := range []string{"github.com/microsoftgraph/", "github.com/microsoft/kiota", "github.com/Azure/", "github.com/go-ldap/"} {
			assert.False(t, strings.HasPrefix(dep, bad), "m365emulator depends on %s", dep)
		}
	}
}
