package importcheck

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// heavy are the module paths only backend drivers may import.
var heavy = []string{
	"github.com/microsoftgraph/msgraph-sdk-go",
	"github.com/microsoft/kiota-",
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity",
	"github.com/go-ldap/ldap",
}

// portable lists the packages (with their tests) that must stay light.
var portable = []string{
	"github.com/essentials365/sdk/accounts",
	"github.com/essentials365/sdk/essentials365/backend",
	"github.com/essentials365/sdk/essentials365/backend/memory",
	"github.com/essentials365/sdk/essentials365/backend/backendtest",
	"github.com/essentials365/sdk/examples/quickstart",
}

// optional packages are checked when they exist.
var optional = []string{
	"github.com/essentials365/sdk/dnsrecords",
	"github.com/essentials365/sdk/domains",
	"github.com/essentials365/sdk/groups",
	"github.com/essentials365/sdk/essentials365",
	"github.com/essentials365/sdk/essentials365/m365emulator",
	"github.com/essentials365/sdk/essentials365/pwsync",
}

func TestPortablePackagesStayLight(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	pkgs := append([]string(nil), portable...)
	for _, p := range optional {
		if exec.Command("go", "list", p).Run() == nil {
			pkgs = append(pkgs, p)
		}
	}
	for _, p := range pkgs {
		t.Run(p, func(t *testing.T) {
			require.Empty(t, heavyDeps(t, p), "%s must not depend on a backend library", p)
		})
	}
}

// heavyDeps returns the heavy packages p (with its tests) depends on.
func heavyDeps(t *testing.T, p string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-test", "-deps", p).CombinedOutput()
	require.NoError(t, err, string(out))
	var found []string
	for _, dep := range strings.Fields(string(out)) {
		for _, h := range heavy {
			if strings.HasPrefix(dep, h) {
				found = append(found, dep)
			}
		}
	}
	return found
}

// The check itself must be able to fail: a driver package does import a
// heavy library.
func TestCheckSeesHeavyImports(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	require.Contains(t, heavyDeps(t, "github.com/go-ldap/ldap/v3"), "github.com/go-ldap/ldap/v3")
}
