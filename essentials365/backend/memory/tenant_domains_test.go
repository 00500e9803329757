package memory_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

func TestTenantDomainAdminDetails(t *testing.T) {
	ctx := t.Context()
	tn, _ := newTestTenant(t, newTenantClock())

	t.Run("subdomain of a verified domain is verified", func(t *testing.T) {
		d, err := tn.AddDomain(ctx, "Sales.Contoso.com")
		require.NoError(t, err)
		assert.Equal(t, "sales.contoso.com", d.Name)
		assert.True(t, d.IsVerified)
	})

	t.Run("LookupTXT", func(t *testing.T) {
		var published []string
		var mu sync.Mutex
		look := memory.NewTenant(&memory.TenantOptions{LookupTXT: func(_ context.Context, name string) ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			if name != "fabrikam.com" {
				return nil, errors.New("no such host")
			}
			return published, nil
		}})
		_, err := look.AddDomain(ctx, "fabrikam.com")
		require.NoError(t, err)
		recs, err := look.VerificationRecords(ctx, "fabrikam.com")
		require.NoError(t, err)
		_, err = look.VerifyDomain(ctx, "fabrikam.com")
		assert.Equal(t, backend.ReasonVerificationRecordMissing, backend.ReasonOf(err))
		mu.Lock()
		published = []string{"v=spf1 -all", recs[0].Text}
		mu.Unlock()
		d, err := look.VerifyDomain(ctx, "fabrikam.com")
		require.NoError(t, err)
		assert.True(t, d.IsVerified)
	})

	t.Run("verification value is per tenant and domain", func(t *testing.T) {
		other := memory.NewTenant(&memory.TenantOptions{TenantID: "11111111-2222-3333-4444-555555555555"})
		_, err := tn.AddDomain(ctx, "northwind.com")
		require.NoError(t, err)
		_, err = tn.AddDomain(ctx, "tailspin.com")
		require.NoError(t, err)
		_, err = other.AddDomain(ctx, "northwind.com")
		require.NoError(t, err)
		a, err := tn.VerificationRecords(ctx, "northwind.com")
		require.NoError(t, err)
		b, err := tn.VerificationRecords(ctx, "tailspin.com")
		require.NoError(t, err)
		c, err := other.VerificationRecords(ctx, "northwind.com")
		require.NoError(t, err)
		assert.NotEqual(t, a[0].Text, b[0].Text)
		assert.NotEqual(t, a[0].Text, c[0].Text)
		assert.Equal(t, uint16(32767), a[1].Preference)
	})

	t.Run("service records", func(t *testing.T) {
		recs, err := tn.ServiceConfigurationRecords(ctx, "contoso.com")
		require.NoError(t, err)
		type key struct{ typ, label, service string }
		var got []key
		for _, r := range recs {
			got = append(got, key{r.Type.GraphName(), r.Name, r.SupportedService})
		}
		assert.Equal(t, []key{
			{"Mx", "contoso.com", "Email"},
			{"Txt", "contoso.com", "Email"},
			{"CName", "autodiscover.contoso.com", "Email"},
			{"Srv", "_sip._tls.contoso.com", "OfficeCommunicationsOnline"},
			{"Srv", "_sipfederationtls._tcp.contoso.com", "OfficeCommunicationsOnline"},
			{"CName", "sip.contoso.com", "OfficeCommunicationsOnline"},
			{"CName", "lyncdiscover.contoso.com", "OfficeCommunicationsOnline"},
			{"CName", "enterpriseregistration.contoso.com", "Intune"},
			{"CName", "enterpriseenrollment.contoso.com", "Intune"},
		}, got)
		fed := recs[4]
		svc, proto, _, _ := fed.SRVParts()
		assert.Equal(t, []any{"sipfed.online.lync.com", uint16(5061), uint16(100), uint16(1), "_sipfederationtls", "_tcp"},
			[]any{fed.Target, fed.Port, fed.Priority, fed.Weight, svc, proto})

		_, err = tn.AddDomain(ctx, "my-shop.com")
		require.NoError(t, err)
		tn.PublishVerification("my-shop.com")
		_, err = tn.VerifyDomain(ctx, "my-shop.com")
		require.NoError(t, err)
		recs, err = tn.ServiceConfigurationRecords(ctx, "my-shop.com")
		require.NoError(t, err)
		assert.NotEqual(t, "my-shop-com.mail.protection.outlook.com", recs[0].Exchange, "hyphenated names are mangled, as Microsoft does")
		assert.True(t, strings.HasPrefix(recs[0].Exchange, "myshop-com"))

		_, err = tn.AddDomain(ctx, "pending.com")
		require.NoError(t, err)
		_, err = tn.ServiceConfigurationRecords(ctx, "pending.com")
		assert.Equal(t, backend.ReasonDomainUnverified, backend.ReasonOf(err))
	})

	t.Run("delete rules", func(t *testing.T) {
		_, err := tn.AddDomain(ctx, "onmicrosoft.com")
		assert.ErrorIs(t, err, backend.ErrInvalidArgument)
		assert.Equal(t, backend.ReasonDomainDefault, backend.ReasonOf(tn.DeleteDomain(ctx, "contoso.com")))
		assert.Equal(t, backend.ReasonDomainInitial, backend.ReasonOf(tn.DeleteDomain(ctx, "contoso.onmicrosoft.com")))

		require.NoError(t, tn.AddVerifiedDomain("alias-only.com", false))
		u, err := tn.CreateUser(ctx, tenantNewUser("owner"))
		require.NoError(t, err)
		require.NoError(t, tn.Mail().AddAlias(ctx, u.UserPrincipalName, "owner@alias-only.com"))
		assert.Equal(t, backend.ReasonDomainInUse, backend.ReasonOf(tn.DeleteDomain(ctx, "alias-only.com")))
		require.NoError(t, tn.Mail().RemoveAlias(ctx, u.UserPrincipalName, "OWNER@alias-only.com"))
		require.NoError(t, tn.DeleteDomain(ctx, "alias-only.com"))

		require.NoError(t, tn.AddVerifiedDomain("gone.com", false))
		v, err := tn.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: "v@gone.com", DisplayName: "V", Password: tenantPassword})
		require.NoError(t, err)
		require.NoError(t, tn.DeleteUser(ctx, v.ID))
		assert.Equal(t, backend.ReasonDomainInUse, backend.ReasonOf(tn.DeleteDomain(ctx, "gone.com")), "a deleted user still holds its UPN's domain")
	})
}
