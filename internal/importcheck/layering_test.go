package importcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/essentials365/sdk"

// heavy are the module paths that only some drivers (and the programs that
// use them) may depend on.
var heavy = []string{
	"github.com/microsoftgraph/",
	"github.com/microsoft/kiota-",
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity",
	"github.com/go-ldap/",
}

// A rule says which imports the packages it matches may make. Patterns are
// module-relative paths; "x/..." matches x and everything below it. Imports
// of the standard library are always allowed except where stdOnly... is
// the whole allowance anyway. Third-party patterns are import-path prefixes.
type rule struct {
	name string
	// pkgs the rule applies to (first matching rule wins).
	pkgs []string
	// module packages the package may import; tests may also import those
	// in testModule.
	module, testModule []string
	// third-party import prefixes allowed; "*" allows any. Tests may also
	// import those in testThird.
	third, testThird []string
	// light: the package, with its tests, must not depend on a heavy
	// module, even indirectly.
	light  bool
	reason string
}

var (
	plumbing = []string{"essentials365/backend", "essentials365/state", "essentials365/retry", "essentials365/audit", "internal/atomicfile"}
	portable = []string{"accounts/...", "dnsrecords/...", "domains/...", "groups/..."}
	testing3 = []string{"github.com/stretchr/testify/"}
	testMods = []string{"internal/testclock", "internal/sambatest", "essentials365/backend/memory", "essentials365/backend/backendtest", "essentials365/m365emulator"}
)

func cat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var rules = []rule{
	{
		name: "contracts", pkgs: []string{"essentials365/backend"},
		testThird: testing3, light: true,
		reason: "the contracts are the standard library only, so every driver and portable package can depend on them",
	},
	{
		name: "DNS wire conversion", pkgs: []string{"internal/dnsrr"},
		module: []string{"essentials365/backend"}, third: []string{"github.com/miekg/dns"}, testThird: testing3, light: true,
		reason: "the one conversion between backend.DNSRecord and miekg/dns records, shared by dnsrecords and the zone drivers",
	},
	{
		name: "leaf helpers", pkgs: []string{"internal/atomicfile", "internal/testclock"},
		light:  true,
		reason: "small helpers any layer may use; they depend on nothing of the module",
	},
	{
		name: "shared plumbing", pkgs: []string{"essentials365/state", "essentials365/retry", "essentials365/audit"},
		module: []string{"essentials365/backend", "internal/atomicfile"}, testModule: []string{"internal/testclock"},
		testThird: testing3, light: true,
		reason: "plumbing shared by the portable packages: only the contracts below it",
	},
	{
		name: "pacer", pkgs: []string{"essentials365/backend/pacer"},
		module: []string{"essentials365/backend"}, testModule: []string{"internal/testclock"},
		testThird: testing3, light: true,
		reason: "write pacing shared by drivers: only the contracts below it",
	},
	{
		name: "memory drivers and suites", pkgs: []string{"essentials365/backend/memory", "essentials365/backend/backendtest"},
		module:     []string{"essentials365/backend", "essentials365/backend/memory", "internal/testclock", "internal/atomicfile"},
		testModule: []string{"essentials365/backend/backendtest", "internal/sambatest"},
		third:      cat([]string{"github.com/google/uuid", "github.com/miekg/dns", "golang.org/x/net/"}, testing3), testThird: testing3, light: true,
		reason: "the fakes are real drivers: contracts only, and light so that every portable package's tests can use them",
	},
	{
		name: "emulator", pkgs: []string{"essentials365/m365emulator"},
		module:     []string{"essentials365/backend", "essentials365/backend/memory", "internal/..."},
		testModule: []string{"essentials365/backend/backendtest", "essentials365/backend/rfc2136"},
		third:      []string{"github.com/google/uuid", "github.com/miekg/dns"}, testThird: testing3, light: true,
		reason: "the emulator serves Microsoft's wire format with net/http over a memory tenant; it must not share code with the drivers it tests",
	},
	{
		name: "drivers", pkgs: []string{"essentials365/backend/..."},
		module:     []string{"essentials365/backend", "essentials365/backend/pacer", "essentials365/backend/rfc2136", "internal/atomicfile", "internal/dnsrr"},
		testModule: cat(testMods, portable, []string{"essentials365", "essentials365/retry", "essentials365/state", "essentials365/audit", "essentials365/backend/...", "internal/..."}),
		third:      []string{"*"}, testThird: []string{"*"},
		reason: "drivers implement the contracts and never import portable packages (their tests may run the portable flows over them)",
	},
	{
		name: "crash tests", pkgs: []string{"accounts/accountstest/crashtest"},
		module: []string{"..."}, third: []string{"*"}, testModule: []string{"..."}, testThird: []string{"*"},
		reason: "kill -9 tests run the account flows over the real drivers (Samba, Graph through the emulator); the package holds tests only",
	},
	{
		name: "flow suites", pkgs: []string{"accounts/accountstest", "domains/domainstest", "groups/groupstest"},
		module: cat(plumbing, portable, []string{"essentials365/backend/memory", "essentials365/backend/backendtest", "internal/testclock", "internal/sambatest"}),
		third:  cat([]string{"github.com/miekg/dns"}, testing3), testThird: testing3, light: true,
		reason: "exported test suites run the portable flows over any harness: light, like the packages they test",
	},
	{
		name: "portable", pkgs: cat(portable, []string{"essentials365", "essentials365/pwsync/..."}),
		module:     cat(plumbing, portable, []string{"essentials365/backend/pacer", "essentials365", "internal/atomicfile", "internal/testclock", "internal/dnsrr"}),
		testModule: cat(testMods, []string{"accounts/accountstest", "internal/...", "essentials365/backend/rfc2136", "essentials365/backend/sambadns"}),
		third:      []string{"github.com/miekg/dns", "golang.org/x/net/", "github.com/google/uuid", "golang.org/x/crypto/"},
		testThird:  testing3, light: true,
		reason: "portable packages hold the logic over the contracts; they never import a driver or a heavy module",
	},
	{
		name: "programs and test support", pkgs: []string{"examples/...", "internal/..."},
		module: []string{"..."}, third: []string{"*"}, testModule: []string{"..."}, testThird: []string{"*"},
		reason: "example programs and internal test support put the layers together",
	},
}

func match(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		if match(p, rel) {
			return true
		}
	}
	return false
}

func thirdAllowed(prefixes []string, imp string) bool {
	for _, p := range prefixes {
		if p == "*" || strings.HasPrefix(imp, p) || imp == strings.TrimSuffix(p, "/") {
			return true
		}
	}
	return false
}

func ruleFor(rel string) *rule {
	for i := range rules {
		if matchAny(rules[i].pkgs, rel) {
			return &rules[i]
		}
	}
	return nil
}

type listed struct {
	ImportPath, Dir string
	Standard        bool
	Imports         []string
	TestImports     []string
	XTestImports    []string
	Deps            []string
}

func goList(t *testing.T, args ...string) []listed {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	cmd := exec.Command(goTool, append([]string{"list", "-json"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	require.NoError(t, err, "go list %v", args)
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// violations checks the direct imports of one package against its rule.
func violations(r *rule, rel string, imports []string, test bool, isStd func(string) bool) []string {
	var bad []string
	for _, imp := range imports {
		if rm, ok := strings.CutPrefix(imp, module+"/"); ok || imp == module {
			if imp == module {
				rm = ""
			}
			if rm == rel || matchAny(r.module, rm) || (test && matchAny(r.testModule, rm)) {
				continue
			}
			bad = append(bad, fmt.Sprintf("%s imports %s (rule %q: %s)", rel, rm, r.name, r.reason))
			continue
		}
		if isStd(imp) {
			continue
		}
		if thirdAllowed(r.third, imp) || (test && thirdAllowed(r.testThird, imp)) {
			continue
		}
		bad = append(bad, fmt.Sprintf("%s imports %s (rule %q: %s)", rel, imp, r.name, r.reason))
	}
	return bad
}

func isStdPath(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

func relOf(p string) string {
	if p == module {
		return ""
	}
	return strings.TrimPrefix(p, module+"/")
}

func TestLayering(t *testing.T) {
	pkgs := goList(t, "./...")
	require.NotEmpty(t, pkgs)
	for _, p := range pkgs {
		rel := relOf(p.ImportPath)
		r := ruleFor(rel)
		if r == nil {
			t.Errorf("package %s matches no layering rule: add one (with its reason) to internal/importcheck", rel)
			continue
		}
		for _, v := range violations(r, rel, p.Imports, false, isStdPath) {
			t.Error(v)
		}
		for _, v := range violations(r, rel, append(append([]string(nil), p.TestImports...), p.XTestImports...), true, isStdPath) {
			t.Error(v)
		}
	}
}

func heavyDeps(t *testing.T, pkg string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	cmd := exec.Command(goTool, "list", "-test", "-deps", "-f", "{{.ImportPath}}", pkg)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
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

func TestLightPackagesStayLight(t *testing.T) {
	for _, p := range goList(t, "./...") {
		rel := relOf(p.ImportPath)
		if r := ruleFor(rel); r == nil || !r.light {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			require.Empty(t, heavyDeps(t, p.ImportPath), "%s (with its tests) must not depend on a heavy backend library", rel)
		})
	}
}

// The checks must be able to fail.
func TestChecksCanFail(t *testing.T) {
	r := ruleFor("accounts")
	require.NotNil(t, r)
	require.Equal(t, "portable", r.name)
	bad := violations(r, "accounts", []string{module + "/essentials365/backend/graphtenant", "github.com/go-ldap/ldap/v3", "context"}, false, isStdPath)
	require.Len(t, bad, 2, "a portable package importing a driver and go-ldap")

	r = ruleFor("essentials365/backend")
	bad = violations(r, "essentials365/backend", []string{"github.com/google/uuid"}, false, isStdPath)
	require.Len(t, bad, 1, "the contracts importing a third-party module")
	require.Empty(t, violations(r, "essentials365/backend", []string{"github.com/stretchr/testify/require"}, true, isStdPath))

	r = ruleFor("essentials365/backend/adldap")
	require.Equal(t, "drivers", r.name)
	require.Len(t, violations(r, "essentials365/backend/adldap", []string{module + "/accounts"}, false, isStdPath), 1, "a driver importing a portable package")

	require.Nil(t, ruleFor("newtoplevel"), "an unknown package matches no rule")
	require.Contains(t, heavyDeps(t, "github.com/go-ldap/ldap/v3"), "github.com/go-ldap/ldap/v3")
}
