package essentials365_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// Example is the README's Usage snippet: TestReadmeUsageIsExample checks
// that the README shows exactly this body, up to the Output comment.
func Example() {
	ctx := context.Background()

	// A small company in the in-memory backends. In production:
	// adldap.Open(ctx, adldap.Config{...}) and graphtenant.New(graphtenant.Config{...}).
	dir := memory.NewDirectory(nil) // the domain contoso.local
	for _, u := range []backend.NewDirectoryUser{
		{SAMAccountName: "ann", GivenName: "Ann", Surname: "Lee", Password: "Vq9#rT2!wKz"},
		{SAMAccountName: "tom", GivenName: "Tom", Surname: "Roy", Password: "Hn4$pL8@xDz"},
	} {
		if _, err := dir.CreateUser(ctx, u); err != nil {
			log.Fatal(err)
		}
	}
	tenant := memory.NewTenant(&memory.TenantOptions{
		Domains: []memory.DomainSeed{{Name: "contoso.com", Default: true}},
		SKUs:    []backend.SKU{memory.SKUEnterprisePack(25)}, // Office 365 E3, 25 seats
	})

	integ, err := essentials365.Open(ctx, dir, tenant, &essentials365.Options{
		Mail:     tenant.Mail(),                          // Exchange Online, for extra addresses
		Accounts: &accounts.Options{UsageLocation: "FR"}, // licensing needs a country
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := integ.Integrate(ctx); err != nil { // checks the requirements first
		log.Fatal(err)
	}
	svc := integ.Accounts()

	plan, err := svc.PlanBulkCreate(ctx, nil) // reads only: review or edit plan.Items
	if err != nil {
		log.Fatal(err)
	}
	res, err := svc.ApplyBulkCreate(ctx, plan, &accounts.BulkOptions{
		Licenses: []accounts.LicenseChoice{{SKU: "ENTERPRISEPACK"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created", res.Done, "failed", res.Failed)

	synced, err := svc.SetPassword(ctx, "ann", "Nouveau-Depart-26") // network, then online
	if err != nil {
		log.Fatal(err)
	}
	st, err := svc.Status(ctx, "ann")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.OnlineID, st.State, "password", synced)
	// Output:
	// created 2 failed 0
	// ann@contoso.com active password synced
}

// TestReadmeUsageIsExample checks that the README's Usage snippet is the
// body of Example, so the snippet provably runs as written.
func TestReadmeUsageIsExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippet, ok := goBlockAfter(string(readme), "\n## Usage\n")
	if !ok {
		t.Fatal("README.md: no ```go block under \"## Usage\"")
	}
	src, err := os.ReadFile("readme_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body, ok := exampleBody(string(src))
	if !ok {
		t.Fatal("readme_example_test.go: no func Example() ending with an Output comment")
	}
	if snippet != body {
		t.Errorf("the README's Usage snippet differs from the body of Example; copy one into the other.\nREADME:\n%s\nExample:\n%s", snippet, body)
	}
}

// TestReadmeListsEveryExample checks that the README's table of example
// programs names every program under examples/, and only those.
func TestReadmeListsEveryExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## Example programs\n")
	if !ok {
		t.Fatal("README.md: no \"## Example programs\" section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| `go (?:run|build) \\./examples/([a-z0-9-]+)").FindAllStringSubmatch(table, -1) {
		if !slices.Contains(listed, m[1]) {
			listed = append(listed, m[1])
		}
	}
	mains, err := filepath.Glob("../examples/*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	var programs []string
	for _, m := range mains {
		programs = append(programs, filepath.Base(filepath.Dir(m)))
	}
	slices.Sort(listed)
	slices.Sort(programs)
	if len(programs) == 0 || !slices.Equal(listed, programs) {
		t.Errorf("README.md lists the example programs %v; examples/ holds %v", listed, programs)
	}
}

// goBlockAfter returns the first ```go block after heading, without its
// fences.
func goBlockAfter(doc, heading string) (string, bool) {
	_, rest, ok := strings.Cut(doc, heading)
	if !ok {
		return "", false
	}
	if next := strings.Index(rest, "\n## "); next >= 0 {
		rest = rest[:next]
	}
	_, rest, ok = strings.Cut(rest, "```go\n")
	if !ok {
		return "", false
	}
	block, _, ok := strings.Cut(rest, "```\n")
	return strings.TrimSpace(block), ok
}

// exampleBody returns the body of func Example up to its Output comment,
// with one level of indentation removed.
func exampleBody(src string) (string, bool) {
	_, rest, ok := strings.Cut(src, "\nfunc Example() {\n")
	if !ok {
		return "", false
	}
	body, _, ok := strings.Cut(rest, "\t// Output:\n")
	if !ok {
		return "", false
	}
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n")), true
}
