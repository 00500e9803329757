package accounts_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/state"
)

// stepFaults numbers every write a flow makes (to the directory, the
// tenant and the local state) and fails at step k: once, or for good from
// then on, reads included, as when the process is killed there.
type stepFaults struct {
	mu     sync.Mutex
	k      int
	kill   bool
	n      int
	killed bool
	steps  []string
}

var writeOps = map[string]bool{
	"CreateUser": true, "SetEnabled": true, "DeleteUser": true, "ResetPassword": true, "ChangePassword": true,
	"SetMustChangePassword": true, "SetOnlineAccount": true, "UpdateUser": true, "RestoreUser": true, "AssignLicenses": true,
	"Put": true, "Delete": true,
}

func (f *stepFaults) check(op, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.killed {
		return &backend.Error{Kind: backend.Canceled, Op: op, Msg: "the process was killed"}
	}
	if !writeOps[op] {
		return nil
	}
	f.n++
	f.steps = append(f.steps, op+" "+key)
	if f.n != f.k {
		return nil
	}
	if f.kill {
		f.killed = true
		return &backend.Error{Kind: backend.Canceled, Op: op, Msg: "the process was killed"}
	}
	return &backend.Error{Kind: backend.PermissionDenied, Op: op, Msg: "injected failure"}
}

func (f *stepFaults) fault(_ context.Context, op, key string) error { return f.check(op, key) }

// faultyStore puts a store's writes under the same step counter.
type faultyStore struct {
	state.Store
	f *stepFaults
}

func (s faultyStore) Put(ctx context.Context, key string, v []byte) error {
	if err := s.f.check("Put", key); err != nil {
		return err
	}
	return s.Store.Put(ctx, key, v)
}

func (s faultyStore) Delete(ctx context.Context, key string) error {
	if err := s.f.check("Delete", key); err != nil {
		return err
	}
	return s.Store.Delete(ctx, key)
}

// flowCase is a flow run under faults, then run again cleanly, then
// checked.
type flowCase struct {
	name  string
	setup func(e *env)
	run   func(e *env, svc *accounts.Service) // errors are expected under faults
	check func(t *testing.T, e *env)
}

// runAtEveryStep counts the writes of a clean run, then for each step k
// runs the flow with a failure at k (once, and as a kill) in a fresh
// world, runs it again without faults, and checks that it finished.
func runAtEveryStep(t *testing.T, fc flowCase) {
	clean := newEnv(t, 10)
	fc.setup(clean)
	counter := &stepFaults{}
	svc := faultEnv(clean, counter)
	fc.run(clean, svc)
	fc.check(t, clean)
	steps := counter.steps
	require.NotEmpty(t, steps)
	t.Logf("%s: %d write steps: %s", fc.name, len(steps), strings.Join(steps, ", "))
	for k := 1; k <= len(steps); k++ {
		for _, kill := range []bool{false, true} {
			mode := "fails once"
			if kill {
				mode = "killed"
			}
			t.Run(fmt.Sprintf("step %02d %s %s", k, steps[k-1], mode), func(t *testing.T) {
				e := newEnv(t, 10)
				fc.setup(e)
				f := &stepFaults{k: k, kill: kill}
				svc := faultEnv(e, f)
				fc.run(e, svc)
				f.mu.Lock()
				f.k, f.killed = -1, false // the process is started again
				f.mu.Unlock()
				fc.run(e, svc)
				fc.check(t, e)
			})
		}
	}
}

func faultEnv(e *env, f *stepFaults) *accounts.Service {
	e.dir.AddFault("*", f.fault)
	e.tenant.AddFault("*", f.fault)
	e.store = state.NewMemoryStore()
	svc, err := accounts.New(e.dir, e.tenant, &accounts.Options{Store: faultyStore{e.store, f}, Sealer: state.NewEphemeralSealer(), Now: e.clock.Now, UsageLocation: "FR",
		Retry: e.retryPolicy(2)})
	require.NoError(e.t, err)
	return svc
}

// checkLinked checks that every step of linking sam to its online account
// happened, once.
func checkLinked(t *testing.T, e *env, sam string, mustChange bool) backend.OnlineUser {
	t.Helper()
	u := e.user(sam)
	m, err := accounts.ParseMapping(u.OnlineAccount)
	require.NoError(t, err)
	require.Equal(t, accounts.MappingAssigned, m.State, "%s: the mapping is recorded", sam)
	ou := e.online(m.ID)
	assert.Equal(t, u.ID.ImmutableID(), ou.ImmutableID, "%s: the account is anchored", sam)
	assert.True(t, ou.Licensed(), "%s: licensed", sam)
	assert.Equal(t, u.Enabled, ou.AccountEnabled, "%s: sign-in follows the user", sam)
	if mustChange {
		assert.True(t, u.MustChangePassword, "%s: must change password at next logon", sam)
	}
	return ou
}

// Scenario: SetMustChangePassword failed once (or the process was killed
// right after the mapping was written), re-applying the same bulk plan
// reported "done" and the user was never asked to change the password.
func TestBulkCreateFinishesAfterAFaultAtEveryStep(t *testing.T) {
	var plan *accounts.BulkPlan
	runAtEveryStep(t, flowCase{
		name: "bulk create",
		setup: func(e *env) {
			e.addUsers(2)
			off := e.addUser("offline", "Off Line")
			require.NoError(t, e.dir.SetEnabled(e.ctx, off.ID, false))
			plan = nil
		},
		run: func(e *env, svc *accounts.Service) {
			if plan == nil {
				p, err := svc.PlanBulkCreate(e.ctx, &accounts.PlanOptions{Licenses: []accounts.LicenseChoice{e3}})
				if err != nil {
					return
				}
				for i := range p.Items {
					p.Items[i].Selected = true // the disabled user on purpose
				}
				plan = p
			}
			res, err := svc.ApplyBulkCreate(e.ctx, plan, nil)
			if err == nil && res.Failed == 0 {
				assert.Equal(t, 3, res.Done)
			}
		},
		check: func(t *testing.T, e *env) {
			for _, sam := range []string{"user001", "user002", "offline"} {
				checkLinked(t, e, sam, true)
			}
			assert.False(t, e.online("offline@contoso.com").AccountEnabled, "a disabled user's account cannot sign in")
			assert.Equal(t, 3, e.onlineCount(), "nothing created twice")
			assert.Equal(t, 3, e.seatsUsed(e3SKU))
		},
	})
}

// Scenario: Assign behaved as the bulk create.
func TestAssignFinishesAfterAFaultAtEveryStep(t *testing.T) {
	runAtEveryStep(t, flowCase{
		name:  "assign",
		setup: func(e *env) { e.addUser("hank", "Hank Moody") },
		run: func(e *env, svc *accounts.Service) {
			st, err := svc.Assign(e.ctx, "hank", accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}})
			if err == nil {
				assert.Equal(t, accounts.AccountActive, st.State, "Assign returns the fresh status")
			}
		},
		check: func(t *testing.T, e *env) {
			checkLinked(t, e, "hank", true)
			assert.Equal(t, 1, e.onlineCount())
			assert.Equal(t, 1, e.seatsUsed(e3SKU))
		},
	})
}

// Scenario: a CreateUser interrupted after one side was created failed with
// AlreadyExists or online-id-taken on the rerun.
func TestCreateUserFinishesAfterAFaultAtEveryStep(t *testing.T) {
	runAtEveryStep(t, flowCase{
		name:  "create user",
		setup: func(*env) {},
		run: func(e *env, svc *accounts.Service) {
			_, _ = svc.CreateUser(e.ctx, accounts.NewUser{SAMAccountName: "dave", DisplayName: "Dave Lee", Password: "Sunny-Day-42",
				Online: &accounts.OnlineChoice{Licenses: []accounts.LicenseChoice{e3}}})
		},
		check: func(t *testing.T, e *env) {
			checkLinked(t, e, "dave", false)
			require.NoError(t, e.dir.Authenticate(e.ctx, "dave", "Sunny-Day-42"))
			assert.True(t, e.tenant.CheckPassword("dave@contoso.com", "Sunny-Day-42"), "the same password on both sides")
			assert.Equal(t, 1, e.onlineCount())
			assert.Equal(t, 1, e.seatsUsed(e3SKU))
		},
	})
}

// Scenario: an import killed after the AD user was created was never
// proposed again: that user had an unknown password, no password file and
// an unanchored online account.
func TestImportFinishesAfterAFaultAtEveryStep(t *testing.T) {
	var pwDir string
	runAtEveryStep(t, flowCase{
		name: "import",
		setup: func(e *env) {
			e.cloudUsers("bob@contoso.com")
			pwDir = filepath.Join(e.t.TempDir(), "passwords")
		},
		run: func(e *env, svc *accounts.Service) {
			plan, err := svc.PlanImport(e.ctx) // a fresh plan re-proposes what was interrupted
			if err != nil {
				return
			}
			_, _ = svc.ApplyImport(e.ctx, plan, &accounts.ImportOptions{PasswordDir: pwDir})
		},
		check: func(t *testing.T, e *env) {
			u := e.user("bob")
			assert.True(t, u.MustChangePassword)
			m, err := accounts.ParseMapping(u.OnlineAccount)
			require.NoError(t, err)
			assert.Equal(t, u.ID.ImmutableID(), e.online(m.ID).ImmutableID, "anchored")
			b, err := os.ReadFile(filepath.Join(pwDir, "bob.txt"))
			require.NoError(t, err, "the password file is written")
			err = e.dir.Authenticate(e.ctx, "bob", extractPassword(t, string(b)))
			assert.Equal(t, "password-must-change", string(backend.ReasonOf(err)), "the file holds the user's real password")
			assert.Equal(t, 1, e.onlineCount())
		},
	})
}
