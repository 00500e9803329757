package essentials365_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/state"
)

// exampleParts returns a small company's domain and tenant (the memory
// drivers; in production adldap.Open and graphtenant.New) and options with
// a fixed clock.
func exampleParts() (*memory.Directory, *memory.Tenant, *essentials365.Options) {
	now := func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }
	dir := memory.NewDirectory(&memory.DirectoryOptions{DNSName: "contoso.local", Now: now})
	tenant := memory.NewTenant(&memory.TenantOptions{DisplayName: "Contoso", Now: now})
	_ = tenant.AddVerifiedDomain("contoso.com", true)
	_, _ = tenant.AddSKU(backend.SKU{SKUID: "f245ecc8-75af-4f8e-b61f-27d8114de5f3", PartNumber: "O365_BUSINESS_PREMIUM", Enabled: 25,
		ServicePlans: []backend.ServicePlan{{ID: "9aaf7827-d63c-4b61-89c3-182f06f82e5c", Name: "EXCHANGE_S_STANDARD"}}})
	return dir, tenant, &essentials365.Options{
		Mail:     tenant.Mail(),
		Store:    state.NewMemoryStore(), // state.NewFileStore(dir) with state.NewAESSealer(key) in production
		Now:      now,
		Accounts: &accounts.Options{UsageLocation: "FR"},
	}
}

func ExampleOpen() {
	ctx := context.Background()
	dir, tenant, opts := exampleParts()
	integ, err := essentials365.Open(ctx, dir, tenant, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(integ.State())
	// The feature services are ready, behind the gate until Integrate.
	_, err = integ.Accounts().CreateUser(ctx, accounts.NewUser{SAMAccountName: "ann", GivenName: "Ann", Password: "Vq9#rT2!wKz"})
	fmt.Println(backend.ReasonOf(err))
	// Output:
	// not-integrated
	// not-integrated
}

func ExampleIntegration_Check() {
	ctx := context.Background()
	dir, tenant, opts := exampleParts()
	tenant.SetGrantedRoles("User.ReadWrite.All", "Organization.Read.All", "LicenseAssignment.ReadWrite.All")
	integ, _ := essentials365.Open(ctx, dir, tenant, opts)
	rep, _ := integ.Check(ctx)
	for _, c := range rep.Checks {
		fmt.Println(c.Status, c.ID)
	}
	perm, _ := rep.Get(essentials365.CheckPermissions)
	fmt.Println(perm.Found)
	fmt.Println(perm.Advice)
	// Output:
	// pass domain-controllers
	// pass mapping-attribute
	// pass tenant-reachable
	// fail permissions
	// pass directory-sync
	// pass other-directory
	// pass subscription
	// pass exchange-online
	// pass clock
	// missing application permissions: accounts needs Domain.Read.All; passwords needs User-PasswordProfile.ReadWrite.All; domains needs Domain.ReadWrite.All; secret-rotation needs Application.ReadWrite.OwnedBy
	// in the app registration, add these Microsoft Graph application permissions and grant admin consent; replication can take a few minutes
}

func ExampleIntegration_Integrate() {
	ctx := context.Background()
	dir, tenant, opts := exampleParts()
	// An existing subscription with an online account.
	_, _ = tenant.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: "bob@contoso.com", DisplayName: "Bob", Password: "Hn4$pL8@xDz"})
	integ, _ := essentials365.Open(ctx, dir, tenant, opts)

	res, err := integ.Integrate(ctx)
	if err != nil {
		var re *essentials365.RequirementsError
		if errors.As(err, &re) {
			fmt.Print(re.Report)
		}
		return
	}
	fmt.Println(res.Record.State, res.Record.TenantName, res.Record.DefaultDomain, res.Record.InitialDomain)
	for _, it := range res.Import.Items {
		fmt.Println("import:", it.OnlineID, "as", it.SAMAccountName)
	}
	// Output:
	// integrated Contoso contoso.com contoso.onmicrosoft.com
	// import: bob@contoso.com as bob
}

func ExampleIntegration_Disable() {
	ctx := context.Background()
	dir, tenant, opts := exampleParts()
	integ, _ := essentials365.Open(ctx, dir, tenant, opts)
	_, _ = integ.Integrate(ctx)
	_, _ = integ.Accounts().CreateUser(ctx, accounts.NewUser{SAMAccountName: "ann", GivenName: "Ann", Password: "Vq9#rT2!wKz",
		Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{{SKU: "O365_BUSINESS_PREMIUM"}}}})

	// Disable needs no network: here the tenant refuses every call.
	tenant.AddFault("*", func(context.Context, string, string) error {
		return backend.Errorf(backend.Unavailable, "tenant: call", "", "no answer")
	})
	res, err := integ.Disable(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Record.State, res.DiscardedPasswords)
	// Nothing reaches the cloud any more; the online account is left as
	// it was.
	tenant.ClearFaults()
	err = integ.Accounts().Disable(ctx, "ann")
	fmt.Println(backend.ReasonOf(err))
	ann, _ := tenant.GetUser(ctx, "ann@contoso.com")
	fmt.Println(ann.AccountEnabled)
	// Output:
	// disabled 0
	// integration-disabled
	// true
}

func ExampleIntegration_Status() {
	ctx := context.Background()
	dir, tenant, opts := exampleParts()
	integ, _ := essentials365.Open(ctx, dir, tenant, opts)
	_, _ = integ.Integrate(ctx)
	_, _ = integ.Accounts().CreateUser(ctx, accounts.NewUser{SAMAccountName: "ann", GivenName: "Ann", Password: "Vq9#rT2!wKz",
		Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{{SKU: "O365_BUSINESS_PREMIUM"}}}})

	st, _ := integ.Status(ctx)
	fmt.Println(st.Record.State, "since", st.Record.Since.Format(time.DateOnly))
	for _, s := range st.Subscriptions {
		fmt.Printf("%s %s: %d seats, %d used, %d free\n", s.Name, s.CapabilityStatus, s.Total, s.Used, s.Free)
	}
	for _, d := range st.Domains {
		fmt.Println(d.Name, d.Verified, d.Default, d.Initial)
	}
	fmt.Println("Exchange Online:", st.ExchangeOnline, "pending passwords:", st.PendingPasswords)
	// Output:
	// integrated since 2026-12-01
	// O365_BUSINESS_PREMIUM Enabled: 25 seats, 1 used, 24 free
	// contoso.com true true false
	// contoso.onmicrosoft.com true false true
	// Exchange Online: true pending passwords: 0
}

func ExampleIntegration_ChangeCredential() {
	ctx := context.Background()
	dir, tenant, opts := exampleParts()
	integ, _ := essentials365.Open(ctx, dir, tenant, opts)
	_, _ = integ.Integrate(ctx)

	// The same tenant reached with another credential (in production:
	// graphtenant.New with the new secret), lacking a permission.
	candidate := memory.NewTenant(&memory.TenantOptions{})
	candidate.SetGrantedRoles("User.Read.All")
	_, err := integ.ChangeCredential(ctx, candidate, nil)
	fmt.Println(backend.ReasonOf(err))

	candidate.SetGrantedRoles(memory.DefaultRoles()...)
	_, err = integ.ChangeCredential(ctx, candidate, &essentials365.CredentialOptions{StoreSecret: "the-new-secret"})
	fmt.Println(err)
	secret, _ := integ.StoredSecret(ctx)
	fmt.Println(secret == "the-new-secret")
	// Output:
	// requirements-not-met
	// <nil>
	// true
}

func ExampleIntegration_Reconcile() {
	ctx := context.Background()
	dir, tenant, opts := exampleParts()
	integ, _ := essentials365.Open(ctx, dir, tenant, opts)
	_, _ = integ.Integrate(ctx)
	_, _ = integ.Reconcile(ctx, &accounts.ReconcileOptions{Full: true})
	st, _ := integ.Status(ctx)
	fmt.Println(st.LastReconcile.Full, st.LastReconcile.Error == "")
	// Output:
	// true true
}

func ExampleIntegration_RotateSecret() {
	ctx := context.Background()
	dir, tenant, opts := exampleParts()
	integ, _ := essentials365.Open(ctx, dir, tenant, opts)
	_, _ = integ.Integrate(ctx)
	old, _ := tenant.AddSecret(ctx, "first", time.Time{}) // the secret in use

	sec, err := integ.RotateSecret(ctx, essentials365.RotateOptions{
		OldKeyID: old.KeyID,
		// Sign in with the new secret: in production graphtenant.New with
		// azidentity.NewClientSecretCredential(tenantID, clientID, secret, nil).
		NewTenant: func(secret string) (backend.Tenant, error) { return tenant, nil },
		Store:     true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tenant.SecretKeyIDs()[0] == sec.KeyID, len(tenant.SecretKeyIDs()))
	stored, _ := integ.StoredSecret(ctx)
	fmt.Println(stored == sec.Text)
	// Output:
	// true 1
	// true
}
