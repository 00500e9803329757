package accounts_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// mappedCompany builds n users, each with its online account (anchored,
// mapped), on the memory drivers.
func mappedCompany(b *testing.B, n int) (*memory.Directory, *memory.Tenant, []backend.DirectoryUser) {
	b.Helper()
	ctx := context.Background()
	dir := memory.NewDirectory(&memory.DirectoryOptions{PageSize: 1000})
	tenant := memory.NewTenant(&memory.TenantOptions{PageSize: 999})
	if err := tenant.AddVerifiedDomain("contoso.com", true); err != nil {
		b.Fatal(err)
	}
	users := make([]backend.DirectoryUser, n)
	for i := range n {
		sam := fmt.Sprintf("u%06d", i)
		u, err := dir.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: sam, DisplayName: "User " + sam, Password: "Welcome-2026!"})
		if err != nil {
			b.Fatal(err)
		}
		ou, err := tenant.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: sam + "@contoso.com", DisplayName: u.DisplayName,
			Password: "Cloud-Pw-2026!x", ImmutableID: u.ID.ImmutableID()})
		if err != nil {
			b.Fatal(err)
		}
		if err := dir.SetOnlineAccount(ctx, u.ID, accounts.Mapping{ID: ou.ID, UPN: ou.UserPrincipalName, State: accounts.MappingAssigned}.String()); err != nil {
			b.Fatal(err)
		}
		users[i] = u
	}
	return dir, tenant, users
}

// BenchmarkReconcileIncrementalPaired measures an incremental reconcile
// with 5 changes (sign-in toggled in the directory) among n mapped users
// against the hand loop a vendor would write: the directory's changes, a
// GET of each changed user's online account by its mapped id, and the
// PATCH. Both run on identical companies of the memory drivers, in
// alternating order; each iteration toggles the same 5 users on both
// (off the clock). The memory tenant's delta query scans its users (a
// cost of the fake: Graph answers a delta from its own index), so the
// ratio here overstates the SDK's cost; examples/reconcilebench counts
// the Graph requests.
func BenchmarkReconcileIncrementalPaired(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			ctx := context.Background()
			dir1, tenant1, users1 := mappedCompany(b, n)
			dir2, tenant2, users2 := mappedCompany(b, n)
			svc, err := accounts.New(dir1, tenant1, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := svc.Reconcile(ctx, nil); err != nil {
				b.Fatal(err)
			}
			base := &reconcileBaseline{dir: dir2, tenant: tenant2}
			if err := base.run(ctx); err != nil {
				b.Fatal(err)
			}
			round := 0
			paired(b, func(b *testing.B) (func() error, func() error) {
				enabled := round%2 == 1
				round++
				for _, i := range []int{1, n / 4, n / 2, 3 * n / 4, n - 1} {
					if err := dir1.SetEnabled(ctx, users1[i].ID, enabled); err != nil {
						b.Fatal(err)
					}
					if err := dir2.SetEnabled(ctx, users2[i].ID, enabled); err != nil {
						b.Fatal(err)
					}
				}
				sdk := func() error {
					rep, err := svc.Reconcile(ctx, nil)
					if err == nil && len(rep.Enabled)+len(rep.Disabled) != 5 {
						err = fmt.Errorf("sdk: %d changes, not 5", len(rep.Enabled)+len(rep.Disabled))
					}
					return err
				}
				baseline := func() error {
					err := base.run(ctx)
					if err == nil && base.writes != 5 {
						err = fmt.Errorf("baseline: %d changes, not 5", base.writes)
					}
					return err
				}
				return sdk, baseline
			})
		})
	}
}

// reconcileBaseline is the hand-written incremental reconcile.
type reconcileBaseline struct {
	dir       *memory.Directory
	tenant    *memory.Tenant
	watermark string
	writes    int
}

func (r *reconcileBaseline) run(ctx context.Context) error {
	r.writes = 0
	for {
		ch, err := r.dir.Changes(ctx, r.watermark)
		if err != nil {
			return err
		}
		for _, c := range ch.Changes {
			m, err := accounts.ParseMapping(c.User.OnlineAccount)
			if err != nil || m.ID == "" || c.Type != backend.Upserted {
				continue
			}
			ou, err := r.tenant.GetUser(ctx, m.ID)
			if err != nil {
				return err
			}
			if ou.ImmutableID != c.User.ID.ImmutableID() || ou.AccountEnabled == c.User.Enabled {
				continue
			}
			want := c.User.Enabled
			if err := r.tenant.UpdateUser(ctx, ou.ID, backend.OnlineUserUpdate{AccountEnabled: &want}); err != nil {
				return err
			}
			r.writes++
		}
		r.watermark = ch.Watermark
		if !ch.More {
			return nil
		}
	}
}
