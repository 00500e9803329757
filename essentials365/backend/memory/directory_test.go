package memory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/backendtest"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

// dirHarness makes a fresh memory directory for every subtest.
type dirHarness struct {
	opts *memory.DirectoryOptions
	d    *memory.Directory
}

func (h *dirHarness) MakeDirectory(context.Context, *testing.T) backend.Directory {
	h.d = memory.NewDirectory(h.opts)
	return h.d
}

// ApplyPasswordPolicy implements backendtest.FineGrainedPolicies.
func (h *dirHarness) ApplyPasswordPolicy(ctx context.Context, t *testing.T, id backend.GUID, p backend.PasswordPolicy) string {
	return applyPolicy(ctx, t, h.d, id, p)
}

func applyPolicy(ctx context.Context, t *testing.T, d *memory.Directory, id backend.GUID, p backend.PasswordPolicy) string {
	p.Source = "CN=e365 test PSO,CN=Password Settings Container,CN=System,DC=contoso,DC=local"
	require.NoError(t, d.SetFineGrainedPolicy(ctx, id, &p))
	t.Cleanup(func() { _ = d.SetFineGrainedPolicy(context.Background(), id, nil) })
	return p.Source
}

func TestDirectoryConformance(t *testing.T) {
	tests := []struct {
		name string
		opts *memory.DirectoryOptions
	}{
		{"defaults", nil},
		{"small pages", &memory.DirectoryOptions{PageSize: 2, DNSName: "fabrikam.example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			backendtest.RunDirectoryTests(t, &dirHarness{opts: tc.opts})
		})
	}
}

// TestDirectoryConformanceShared runs the suite against one directory shared
// by every subtest and already holding users, as a real domain is.
func TestDirectoryConformanceShared(t *testing.T) {
	d := memory.NewDirectory(&memory.DirectoryOptions{PageSize: 3})
	for _, sam := range []string{"Administrator", "Guest"} {
		_, err := d.CreateUser(t.Context(), backend.NewDirectoryUser{SAMAccountName: sam, Password: "Adm1n!stra7or"})
		require.NoError(t, err)
	}
	backendtest.RunDirectoryTests(t, sharedHarness{d})
	n := 0
	for _, err := range d.ListUsers(t.Context()) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 2, n, "the suite deletes the users it creates")
}

type sharedHarness struct{ d *memory.Directory }

func (h sharedHarness) MakeDirectory(context.Context, *testing.T) backend.Directory { return h.d }

// ApplyPasswordPolicy implements backendtest.FineGrainedPolicies.
func (h sharedHarness) ApplyPasswordPolicy(ctx context.Context, t *testing.T, id backend.GUID, p backend.PasswordPolicy) string {
	return applyPolicy(ctx, t, h.d, id, p)
}

const dirGoodPassword = "Vq9#rT2!wK"

func TestUniqueName(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n := backendtest.UniqueName("e365t")
		require.Len(t, n, 5+backendtest.UniqueNameSuffixLen)
		require.True(t, strings.HasPrefix(n, "e365t"), n)
		require.Equal(t, strings.ToLower(n), n)
		require.False(t, seen[n], "duplicate %q", n)
		seen[n] = true
	}
	sam := backendtest.UniqueName("abcdefghijkl")
	assert.Len(t, sam, 20, "a 12-character prefix fits a sAMAccountName")
}

func dirNewUser(sam string) backend.NewDirectoryUser {
	return backend.NewDirectoryUser{
		SAMAccountName:    sam,
		UserPrincipalName: sam + "@contoso.local",
		DisplayName:       "User " + sam,
		Password:          dirGoodPassword,
	}
}

func TestDirectoryInfo(t *testing.T) {
	tests := []struct {
		name string
		opts *memory.DirectoryOptions
		want backend.DomainInfo
	}{
		{"defaults", nil, backend.DomainInfo{
			DNSName: "contoso.local", NetBIOSName: "CONTOSO", BaseDN: "DC=contoso,DC=local",
			DomainControllers: 1, ServerIsDomainController: true, FunctionalLevel: 4,
		}},
		{"custom", &memory.DirectoryOptions{DNSName: "corp.fabrikam.example.", DomainControllers: 2, NotDomainController: true, FunctionalLevel: 7}, backend.DomainInfo{
			DNSName: "corp.fabrikam.example", NetBIOSName: "CORP", BaseDN: "DC=corp,DC=fabrikam,DC=example",
			DomainControllers: 2, ServerIsDomainController: false, FunctionalLevel: 7,
		}},
		{"long label", &memory.DirectoryOptions{DNSName: "averyveryverylongdomain.example"}, backend.DomainInfo{
			DNSName: "averyveryverylongdomain.example", NetBIOSName: "AVERYVERYVERYLO", BaseDN: "DC=averyveryverylongdomain,DC=example",
			DomainControllers: 1, ServerIsDomainController: true, FunctionalLevel: 4,
		}},
		{"explicit netbios", &memory.DirectoryOptions{DNSName: "ad.example.org", NetBIOSName: "EXAMPLE"}, backend.DomainInfo{
			DNSName: "ad.example.org", NetBIOSName: "EXAMPLE", BaseDN: "DC=ad,DC=example,DC=org",
			DomainControllers: 1, ServerIsDomainController: true, FunctionalLevel: 4,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := memory.NewDirectory(tc.opts).Info(t.Context())
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDirectoryDN(t *testing.T) {
	tests := []struct {
		name, displayName, sam, want string
	}{
		{"plain", "Ann Lee", "annl", `CN=Ann Lee,CN=Users,DC=contoso,DC=local`},
		{"no display name", "", "bob", `CN=bob,CN=Users,DC=contoso,DC=local`},
		{"comma", "O'Brien, Zoë (Sales)", "zob", `CN=O'Brien\, Zoë (Sales),CN=Users,DC=contoso,DC=local`},
		{"plus equals", "a+b=c", "abc", `CN=a\+b=c,CN=Users,DC=contoso,DC=local`},
		{"leading hash", "#lead", "lead", `CN=\#lead,CN=Users,DC=contoso,DC=local`},
		{"inner hash", "team #1", "team1", `CN=team #1,CN=Users,DC=contoso,DC=local`},
		{"specials", `x\y"z<a>;`, "xyz", `CN=x\\y\"z\<a\>\;,CN=Users,DC=contoso,DC=local`},
		{"leading and trailing space", " pad ", "pad", `CN=\ pad\ ,CN=Users,DC=contoso,DC=local`},
		{"filter characters", "*)(cn=*", "star", `CN=*)(cn=*,CN=Users,DC=contoso,DC=local`},
		{"taken display name", "Ann Lee", "annl2", `CN=Ann Lee (annl2),CN=Users,DC=contoso,DC=local`},
		{"taken in other case", "ANN LEE", "annl3", `CN=ANN LEE (annl3),CN=Users,DC=contoso,DC=local`},
		{"taken sAMAccountName as CN", "", "annl4", `CN=annl4,CN=Users,DC=contoso,DC=local`},
		{"taken with a comma", "O'Brien, Zoë (Sales)", "zob2", `CN=O'Brien\, Zoë (Sales) (zob2),CN=Users,DC=contoso,DC=local`},
	}
	d := memory.NewDirectory(nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := dirNewUser(tc.sam)
			u.DisplayName = tc.displayName
			got, err := d.CreateUser(t.Context(), u)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.DN)
		})
	}
}

func TestDirectoryRules(t *testing.T) {
	long := strings.Repeat("x", 65)
	tests := []struct {
		name   string
		modify func(u *backend.NewDirectoryUser)
		kind   backend.Kind
		reason backend.Reason
	}{
		{"upn without at", func(u *backend.NewDirectoryUser) { u.UserPrincipalName = "nobody" }, backend.InvalidArgument, backend.ReasonUPNSyntax},
		{"upn without suffix", func(u *backend.NewDirectoryUser) { u.UserPrincipalName = "nobody@" }, backend.InvalidArgument, backend.ReasonUPNSyntax},
		{"upn without name", func(u *backend.NewDirectoryUser) { u.UserPrincipalName = "@contoso.local" }, backend.InvalidArgument, backend.ReasonUPNSyntax},
		{"upn with two ats", func(u *backend.NewDirectoryUser) { u.UserPrincipalName = "a@b@contoso.local" }, backend.InvalidArgument, backend.ReasonUPNSyntax},
		{"upn with space", func(u *backend.NewDirectoryUser) { u.UserPrincipalName = "a b@contoso.local" }, backend.InvalidArgument, backend.ReasonUPNCharacters},
		{"sam of spaces", func(u *backend.NewDirectoryUser) { u.SAMAccountName = "   " }, backend.InvalidArgument, backend.ReasonSAMRequired},
		{"sam with control character", func(u *backend.NewDirectoryUser) { u.SAMAccountName = "a\tb" }, backend.InvalidArgument, backend.ReasonNameCharacters},
		{"sam of 21 runes", func(u *backend.NewDirectoryUser) { u.SAMAccountName = strings.Repeat("é", 21) }, backend.InvalidArgument, backend.ReasonSAMLength},
		{"common name too long", func(u *backend.NewDirectoryUser) { u.DisplayName = long }, backend.InvalidArgument, backend.ReasonCNLength},
		{"caseless letters only", func(u *backend.NewDirectoryUser) { u.Password = "日本語日本語日本" }, backend.InvalidArgument, backend.ReasonPasswordComplexity},
		{"caseless letters digit symbol", func(u *backend.NewDirectoryUser) { u.Password = "日本語パス1!" }, backend.Unknown, ""},
		{"accented upper lower digit", func(u *backend.NewDirectoryUser) { u.Password = "ÄÖÜäöü12" }, backend.Unknown, ""},
		{"seven characters", func(u *backend.NewDirectoryUser) { u.Password = "Aa1!Bb2" }, backend.Unknown, ""},
		{"two-character sam in password", func(u *backend.NewDirectoryUser) {
			u.SAMAccountName, u.UserPrincipalName, u.Password = "ab", "", "Xab!1234"
		}, backend.Unknown, ""},
	}
	d := memory.NewDirectory(nil)
	taken := dirNewUser("taken")
	taken.DisplayName = "Taken Name"
	_, err := d.CreateUser(t.Context(), taken)
	require.NoError(t, err)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := dirNewUser(fmt.Sprintf("rule%d", i))
			tc.modify(&u)
			_, err := d.CreateUser(t.Context(), u)
			if tc.kind == backend.Unknown {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.kind, backend.KindOf(err), "%v", err)
			assert.Equal(t, tc.reason, backend.ReasonOf(err), "%v", err)
			assert.NotContains(t, err.Error(), u.Password, "errors never show the password")
		})
	}
}

func TestDirectoryPasswordHistory(t *testing.T) {
	ctx := t.Context()
	p := backend.DefaultPasswordPolicy()
	p.MinAge = 0
	d := memory.NewDirectory(&memory.DirectoryOptions{PasswordPolicy: &p})
	u, err := d.CreateUser(ctx, dirNewUser("hist"))
	require.NoError(t, err)

	err = d.ChangePassword(ctx, u.ID, dirGoodPassword, dirGoodPassword)
	assert.Equal(t, backend.ReasonPasswordHistory, backend.ReasonOf(err), "%v", err)

	require.NoError(t, d.ChangePassword(ctx, u.ID, dirGoodPassword, "Second#Pw1"))
	err = d.ChangePassword(ctx, u.ID, "Second#Pw1", dirGoodPassword)
	assert.Equal(t, backend.ReasonPasswordHistory, backend.ReasonOf(err), "an older password is remembered: %v", err)

	// Cycling through 24 other passwords makes the first usable again.
	cur := "Second#Pw1"
	for i := range 23 {
		next := fmt.Sprintf("Cycle#%02dPw", i)
		require.NoError(t, d.ChangePassword(ctx, u.ID, cur, next))
		cur = next
	}
	require.NoError(t, d.ChangePassword(ctx, u.ID, cur, dirGoodPassword))

	// An administrator's reset ignores the history.
	require.NoError(t, d.ResetPassword(ctx, u.ID, dirGoodPassword, false))
	require.NoError(t, d.Authenticate(ctx, "hist", dirGoodPassword))
}

func TestDirectoryAuthenticateForms(t *testing.T) {
	ctx := t.Context()
	d := memory.NewDirectory(nil)
	_, err := d.CreateUser(ctx, dirNewUser("forms"))
	require.NoError(t, err)
	tests := []struct {
		login  string
		reason backend.Reason
	}{
		{"forms", ""},
		{`CONTOSO\forms`, ""},
		{`contoso.local\FORMS`, ""},
		{"forms@contoso.local", ""},
		{"FORMS@CONTOSO.LOCAL", ""},
		{`FABRIKAM\forms`, backend.ReasonInvalidCredentials},
		{"forms@fabrikam.com", backend.ReasonInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.login, func(t *testing.T) {
			err := d.Authenticate(ctx, tc.login, dirGoodPassword)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, backend.ErrPermissionDenied)
			assert.Equal(t, tc.reason, backend.ReasonOf(err))
		})
	}
}

// dirClock is a settable clock.
type dirClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *dirClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *dirClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func TestDirectoryClock(t *testing.T) {
	ctx := t.Context()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := &dirClock{t: start}
	d := memory.NewDirectory(&memory.DirectoryOptions{Now: clock.Now})
	u, err := d.CreateUser(ctx, dirNewUser("clock"))
	require.NoError(t, err)
	require.Equal(t, start, u.PasswordLastSet)

	steps := []struct {
		name    string
		advance time.Duration
		do      func() error
		moves   bool // PasswordLastSet moves to the clock's time
		zero    bool // PasswordLastSet is zero
	}{
		{"disable keeps it", time.Hour, func() error { return d.SetEnabled(ctx, u.ID, false) }, false, false},
		{"online account keeps it", time.Hour, func() error { return d.SetOnlineAccount(ctx, u.ID, "x") }, false, false},
		{"reset moves it", time.Hour, func() error { return d.ResetPassword(ctx, u.ID, "Reset#Pw1", false) }, true, false},
		{"clearing an unset flag keeps it", time.Hour, func() error { return d.SetMustChangePassword(ctx, u.ID, false) }, false, false},
		{"must change zeroes it", time.Hour, func() error { return d.SetMustChangePassword(ctx, u.ID, true) }, false, true},
		{"clearing the flag stamps it", time.Hour, func() error { return d.SetMustChangePassword(ctx, u.ID, false) }, true, false},
		{"change moves it", 24 * time.Hour, func() error { return d.ChangePassword(ctx, u.ID, "Reset#Pw1", "Change#Pw2") }, true, false},
		{"reset with must change zeroes it", time.Hour, func() error { return d.ResetPassword(ctx, u.ID, "Reset#Pw3", true) }, false, true},
		{"change from must change stamps it", time.Hour, func() error { return d.ChangePassword(ctx, u.ID, "Reset#Pw3", "Change#Pw4") }, true, false},
	}
	prev := u.PasswordLastSet
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			now := clock.Advance(st.advance)
			require.NoError(t, st.do())
			got, err := d.GetUser(ctx, u.ID)
			require.NoError(t, err)
			switch {
			case st.zero:
				assert.True(t, got.PasswordLastSet.IsZero())
				assert.True(t, got.MustChangePassword)
			case st.moves:
				assert.Equal(t, now, got.PasswordLastSet)
				assert.False(t, got.MustChangePassword)
			default:
				assert.Equal(t, prev, got.PasswordLastSet)
			}
			prev = got.PasswordLastSet
		})
	}
}

func TestDirectoryFaults(t *testing.T) {
	ctx := t.Context()
	d := memory.NewDirectory(nil)
	unavailable := backend.Errorf(backend.Unavailable, "test", "", "the DC is restarting")
	d.FailNext("CreateUser", 2, unavailable)

	for i := range 2 {
		_, err := d.CreateUser(ctx, dirNewUser("faulty"))
		require.ErrorIs(t, err, backend.ErrUnavailable, "call %d", i)
		assert.Same(t, unavailable, err, "the injected error is returned as is")
		assert.True(t, backend.Retryable(err))
	}
	_, err := d.GetUserBySAMAccountName(ctx, "faulty")
	require.ErrorIs(t, err, backend.ErrNotFound, "a failed call has no effect")

	u, err := d.CreateUser(ctx, dirNewUser("faulty"))
	require.NoError(t, err, "the third call succeeds")

	calls := d.Calls()
	require.Len(t, calls, 4)
	wantOps := []string{"CreateUser", "CreateUser", "GetUserBySAMAccountName", "CreateUser"}
	for i, c := range calls {
		assert.Equal(t, wantOps[i], c.Op, "call %d", i)
		assert.Equal(t, "faulty", c.Key, "call %d", i)
	}
	assert.ErrorIs(t, calls[0].Err, backend.ErrUnavailable)
	assert.ErrorIs(t, calls[2].Err, backend.ErrNotFound)
	assert.NoError(t, calls[3].Err)
	assert.Equal(t, 3, d.CountCalls("CreateUser"))

	t.Run("any op", func(t *testing.T) {
		d.ResetCalls()
		throttled := &backend.Error{Kind: backend.Throttled, RetryAfter: 2 * time.Second}
		d.FailNext("*", 1, throttled)
		err := d.SetEnabled(ctx, u.ID, false)
		wait, ok := backend.RetryAfter(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, 2*time.Second, wait)
		got, err := d.GetUser(ctx, u.ID)
		require.NoError(t, err)
		assert.True(t, got.Enabled, "the throttled call did not disable the user")
		assert.Equal(t, []string{"SetEnabled", "GetUser"}, dirOps(d.Calls()))
	})

	t.Run("persistent fault by key", func(t *testing.T) {
		d.AddFault("Authenticate", func(_ context.Context, _, key string) error {
			if key == "faulty" {
				return backend.Errorf(backend.Unavailable, "test", key, "no DC")
			}
			return nil
		})
		for range 3 {
			assert.ErrorIs(t, d.Authenticate(ctx, "faulty", dirGoodPassword), backend.ErrUnavailable)
		}
		assert.ErrorIs(t, d.Authenticate(ctx, "someone", dirGoodPassword), backend.ErrPermissionDenied)
		d.ClearFaults()
		assert.NoError(t, d.Authenticate(ctx, "faulty", dirGoodPassword))
	})

	t.Run("list users", func(t *testing.T) {
		d.FailNext("ListUsers", 1, unavailable)
		var errs []error
		for u, err := range d.ListUsers(ctx) {
			assert.True(t, u.ID.IsZero(), "an error comes with a zero user")
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], backend.ErrUnavailable)
	})

	t.Run("canceled context wins over a fault", func(t *testing.T) {
		d.FailNext("Info", 1, unavailable)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := d.Info(cctx)
		assert.ErrorIs(t, err, backend.ErrCanceled)
		_, err = d.Info(ctx)
		assert.ErrorIs(t, err, backend.ErrUnavailable, "the queued fault is still there")
	})
}

func dirOps(calls []memory.Call) []string {
	ops := make([]string, len(calls))
	for i, c := range calls {
		ops[i] = c.Op
	}
	return ops
}

func TestDirectoryChangesPaging(t *testing.T) {
	ctx := t.Context()
	d := memory.NewDirectory(&memory.DirectoryOptions{PageSize: 2})
	ids := make([]backend.GUID, 5)
	for i := range ids {
		u, err := d.CreateUser(ctx, dirNewUser(fmt.Sprintf("page%d", i)))
		require.NoError(t, err)
		ids[i] = u.ID
	}

	wantPages := []struct {
		ids  []backend.GUID
		more bool
	}{
		{ids[0:2], true},
		{ids[2:4], true},
		{ids[4:5], false},
	}
	w := ""
	for i, p := range wantPages {
		ch, err := d.Changes(ctx, w)
		require.NoError(t, err)
		var got []backend.GUID
		for _, c := range ch.Changes {
			assert.Equal(t, backend.Upserted, c.Type)
			got = append(got, c.User.ID)
		}
		assert.Equal(t, p.ids, got, "page %d", i)
		assert.Equal(t, p.more, ch.More, "page %d", i)
		w = ch.Watermark
	}

	// Changes come oldest first; a user written twice comes once, at its
	// last position.
	require.NoError(t, d.SetEnabled(ctx, ids[1], false))
	require.NoError(t, d.DeleteUser(ctx, ids[3]))
	require.NoError(t, d.SetOnlineAccount(ctx, ids[1], "x"))
	ch, err := d.Changes(ctx, w)
	require.NoError(t, err)
	require.Len(t, ch.Changes, 2)
	assert.False(t, ch.More)
	assert.Equal(t, backend.Deleted, ch.Changes[0].Type)
	assert.Equal(t, ids[3], ch.Changes[0].User.ID)
	assert.Equal(t, "page3", ch.Changes[0].User.SAMAccountName, "a tombstone keeps the names")
	assert.Equal(t, backend.Upserted, ch.Changes[1].Type)
	assert.Equal(t, ids[1], ch.Changes[1].User.ID)
	assert.False(t, ch.Changes[1].User.Enabled)
	assert.Equal(t, "x", ch.Changes[1].User.OnlineAccount)

	// No-op writes are not changes.
	require.NoError(t, d.SetEnabled(ctx, ids[1], false))
	require.NoError(t, d.SetOnlineAccount(ctx, ids[1], "x"))
	again, err := d.Changes(ctx, ch.Watermark)
	require.NoError(t, err)
	assert.Empty(t, again.Changes)
	assert.Equal(t, ch.Watermark, again.Watermark)

	// An empty watermark skips tombstones.
	all, err := d.Changes(ctx, "")
	require.NoError(t, err)
	for _, c := range all.Changes {
		assert.NotEqual(t, ids[3], c.User.ID)
	}

	t.Run("watermark from the future", func(t *testing.T) {
		other := memory.NewDirectory(nil)
		_, err := other.Changes(ctx, ch.Watermark)
		assert.ErrorIs(t, err, backend.ErrInvalidArgument)
		assert.Equal(t, backend.ReasonWatermark, backend.ReasonOf(err))
	})

	t.Run("many rewrites stay correct", func(t *testing.T) {
		w := ch.Watermark
		for i := range 500 {
			require.NoError(t, d.SetOnlineAccount(ctx, ids[i%2*2], fmt.Sprint(i)))
		}
		var got []backend.DirectoryChange
		for {
			ch, err := d.Changes(ctx, w)
			require.NoError(t, err)
			got = append(got, ch.Changes...)
			w = ch.Watermark
			if !ch.More {
				break
			}
		}
		require.Len(t, got, 2)
		assert.Equal(t, ids[0], got[0].User.ID)
		assert.Equal(t, "498", got[0].User.OnlineAccount)
		assert.Equal(t, ids[2], got[1].User.ID)
		assert.Equal(t, "499", got[1].User.OnlineAccount)
	})
}

func TestDirectoryListUsersDuringWrites(t *testing.T) {
	ctx := t.Context()
	d := memory.NewDirectory(&memory.DirectoryOptions{PageSize: 2})
	var ids []backend.GUID
	for i := range 6 {
		u, err := d.CreateUser(ctx, dirNewUser(fmt.Sprintf("live%d", i)))
		require.NoError(t, err)
		ids = append(ids, u.ID)
	}
	var seen []string
	for u, err := range d.ListUsers(ctx) {
		require.NoError(t, err)
		seen = append(seen, u.SAMAccountName)
		if u.SAMAccountName == "live0" {
			// Delete one ahead, one behind; add one at the end.
			require.NoError(t, d.DeleteUser(ctx, ids[4]))
			require.NoError(t, d.DeleteUser(ctx, ids[0]))
			_, err := d.CreateUser(ctx, dirNewUser("late"))
			require.NoError(t, err)
		}
	}
	assert.Equal(t, []string{"live0", "live1", "live2", "live3", "live5", "late"}, seen)
}

func TestDirectoryConcurrent(t *testing.T) {
	ctx := t.Context()
	d := memory.NewDirectory(&memory.DirectoryOptions{PageSize: 3})
	const workers, perWorker = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker*4)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				sam := fmt.Sprintf("w%du%d", w, i)
				u, err := d.CreateUser(ctx, dirNewUser(sam))
				if err != nil {
					errs <- err
					continue
				}
				if err := d.SetOnlineAccount(ctx, u.ID, sam); err != nil {
					errs <- err
				}
				if i%2 == 0 {
					if err := d.DeleteUser(ctx, u.ID); err != nil {
						errs <- err
					}
				}
				if err := d.Authenticate(ctx, sam, dirGoodPassword); err != nil && i%2 == 1 {
					errs <- err
				}
			}
		})
	}
	// Readers run alongside the writers.
	for range 2 {
		wg.Go(func() {
			w := ""
			for range 50 {
				for _, err := range d.ListUsers(ctx) {
					if err != nil {
						errs <- err
					}
				}
				ch, err := d.Changes(ctx, w)
				if err != nil {
					errs <- err
					continue
				}
				w = ch.Watermark
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	n := 0
	for u, err := range d.ListUsers(ctx) {
		require.NoError(t, err)
		assert.Equal(t, u.SAMAccountName, u.OnlineAccount)
		n++
	}
	assert.Equal(t, workers*perWorker/2, n)
	ch, err := d.Changes(ctx, "")
	require.NoError(t, err)
	assert.Len(t, ch.Changes, min(workers*perWorker/2, 3))
	assert.Equal(t, workers*perWorker, d.CountCalls("CreateUser"))
}

func TestDirectoryListUsersCanceledMidway(t *testing.T) {
	d := memory.NewDirectory(&memory.DirectoryOptions{PageSize: 2})
	for i := range 5 {
		_, err := d.CreateUser(t.Context(), dirNewUser(fmt.Sprintf("c%d", i)))
		require.NoError(t, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got int
	var last error
	for _, err := range d.ListUsers(ctx) {
		if err != nil {
			last = err
			break
		}
		got++
		if got == 1 {
			cancel()
		}
	}
	assert.Equal(t, 2, got, "the page in hand is delivered, the next is not fetched")
	assert.ErrorIs(t, last, backend.ErrCanceled)
	calls := d.Calls()
	assert.True(t, errors.Is(calls[len(calls)-1].Err, backend.ErrCanceled), "the call log records the cancellation")
}

// BenchmarkDirectoryGetUserBySAMAccountName compares a lookup with a bare
// map lookup under a read lock (the baseline, run first), and reports the
// ratio on the second sub-benchmark as x-baseline.
func BenchmarkDirectoryGetUserBySAMAccountName(b *testing.B) {
	ctx := context.Background()
	d := memory.NewDirectory(nil)
	base := map[string]backend.DirectoryUser{}
	var mu sync.RWMutex
	for i := range 1000 {
		u, err := d.CreateUser(ctx, dirNewUser(fmt.Sprintf("bench%d", i)))
		require.NoError(b, err)
		base[strings.ToLower(u.SAMAccountName)] = u
	}
	var baseNs float64
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			mu.RLock()
			_, ok := base[strings.ToLower("Bench500")]
			mu.RUnlock()
			if !ok {
				b.Fatal("missing")
			}
		}
		baseNs = dirNsPerOp(b)
	})
	b.Run("memory", func(b *testing.B) {
		d.ResetCalls()
		n := 0
		for b.Loop() {
			if _, err := d.GetUserBySAMAccountName(ctx, "Bench500"); err != nil {
				b.Fatal(err)
			}
			if n++; n%100000 == 0 {
				d.ResetCalls() // keep the call log from growing without bound
			}
		}
		dirReportRatio(b, baseNs)
	})
}

// BenchmarkDirectoryListUsers compares streaming 1000 users in pages of 100
// with ranging over a slice of them (the baseline, run first), and reports
// the ratio on the second sub-benchmark as x-baseline.
func BenchmarkDirectoryListUsers(b *testing.B) {
	ctx := context.Background()
	d := memory.NewDirectory(nil)
	var all []backend.DirectoryUser
	for i := range 1000 {
		u, err := d.CreateUser(ctx, dirNewUser(fmt.Sprintf("bench%d", i)))
		require.NoError(b, err)
		all = append(all, u)
	}
	count := func(seq func(yield func(backend.DirectoryUser, error) bool)) int {
		n := 0
		for u, err := range seq {
			if err == nil && !u.ID.IsZero() {
				n++
			}
		}
		return n
	}
	var baseNs float64
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			if n := count(func(yield func(backend.DirectoryUser, error) bool) {
				for _, u := range all {
					if !yield(u, nil) {
						return
					}
				}
			}); n != 1000 {
				b.Fatal(n)
			}
		}
		baseNs = dirNsPerOp(b)
	})
	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
			if n := count(d.ListUsers(ctx)); n != 1000 {
				b.Fatal(n)
			}
		}
		dirReportRatio(b, baseNs)
	})
}

func dirNsPerOp(b *testing.B) float64 {
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// dirReportRatio reports b's time per operation over the baseline's.
func dirReportRatio(b *testing.B, baseNs float64) {
	b.Helper()
	if baseNs > 0 {
		b.ReportMetric(dirNsPerOp(b)/baseNs, "x-baseline")
	}
}
