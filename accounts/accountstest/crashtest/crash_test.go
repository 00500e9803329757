package crashtest_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/essentials365/sdk/essentials365/m365emulator"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/essentials365/state"
	"github.com/essentials365/sdk/internal/sambatest"
)

// The child's settings, passed in its environment.
const (
	envChild    = "E365_CRASHTEST_CHILD"
	envGraphURL = "E365_CRASHTEST_GRAPH_URL"
	envStateDir = "E365_CRASHTEST_STATE_DIR"
	envPrefix   = "E365_CRASHTEST_PREFIX"
	envStopAt   = "E365_CRASHTEST_STOP_AT"
	envFailAt   = "E365_CRASHTEST_FAIL_AT"
	envFlow     = "E365_CRASHTEST_FLOW"     // "bulk" (default), "password" or "retry"
	envStopOp   = "E365_CRASHTEST_STOP_OP"  // stop just before the first write of this op
	envPassword = "E365_CRASHTEST_PASSWORD" // for the password flow
	token       = "crashtest-token"
	domain      = "crash.example"
	skuID       = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	userPW      = "Crash-Start-Qz7!"
)

// sealerKey is the child's sealing key (a test key, kept by the test).
var sealerKey = strings.Repeat("5a", 32)

// steps numbers the child's writes; it stops the child right after the
// stopAt-th (to be killed), or fails the failAt-th without making it.
type steps struct {
	mu     sync.Mutex
	n      int
	stopAt int
	failAt int
	stopOp string
	out    io.Writer
}

func (s *steps) write(op string, do func() error) error {
	s.mu.Lock()
	s.n++
	n := s.n
	fmt.Fprintf(s.out, "E365STEP %d %s\n", n, op)
	s.mu.Unlock()
	if op == s.stopOp {
		fmt.Fprintf(s.out, "E365STOP %d\n", n)
		select {} // killed before the write is made
	}
	if n == s.failAt {
		return &backend.Error{Kind: backend.PermissionDenied, Op: op, Msg: "injected failure"}
	}
	err := do()
	if err == nil && n == s.stopAt {
		fmt.Fprintf(s.out, "E365STOP %d\n", n)
		select {} // wait for SIGKILL
	}
	return err
}

type stepDirectory struct {
	backend.Directory
	s *steps
}

func (d stepDirectory) SetMustChangePassword(ctx context.Context, id backend.GUID, v bool) error {
	return d.s.write("directory SetMustChangePassword", func() error { return d.Directory.SetMustChangePassword(ctx, id, v) })
}

func (d stepDirectory) SetOnlineAccount(ctx context.Context, id backend.GUID, v string) error {
	return d.s.write("directory SetOnlineAccount", func() error { return d.Directory.SetOnlineAccount(ctx, id, v) })
}

type stepTenant struct {
	backend.Tenant
	s *steps
}

func (t stepTenant) CreateUser(ctx context.Context, u backend.NewOnlineUser) (ou backend.OnlineUser, err error) {
	err = t.s.write("tenant CreateUser", func() (e error) { ou, e = t.Tenant.CreateUser(ctx, u); return })
	return ou, err
}

func (t stepTenant) UpdateUser(ctx context.Context, id string, upd backend.OnlineUserUpdate) error {
	return t.s.write("tenant UpdateUser", func() error { return t.Tenant.UpdateUser(ctx, id, upd) })
}

func (t stepTenant) AssignLicenses(ctx context.Context, id string, add []backend.LicenseAssignment, rm []string) (ou backend.OnlineUser, err error) {
	err = t.s.write("tenant AssignLicenses", func() (e error) { ou, e = t.Tenant.AssignLicenses(ctx, id, add, rm); return })
	return ou, err
}

type stepStore struct {
	state.Store
	s *steps
}

func (st stepStore) Put(ctx context.Context, key string, v []byte) error {
	return st.s.write("store Put "+strings.SplitN(key, "/", 3)[1], func() error { return st.Store.Put(ctx, key, v) })
}

// TestChild is the child process: it runs the bulk create of the users
// named with the prefix. It does nothing in a normal test run.
func TestChild(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		t.Skip("runs only as the child of TestKilledBulkCreateFinishes")
	}
	ctx := context.Background()
	stopAt, _ := strconv.Atoi(os.Getenv(envStopAt))
	failAt, _ := strconv.Atoi(os.Getenv(envFailAt))
	st := &steps{stopAt: stopAt, failAt: failAt, stopOp: os.Getenv(envStopOp), out: os.Stdout}
	dc := sambatest.Settings(t)
	d, err := adldap.Open(ctx, adldap.Config{URL: dc.URL, User: dc.User, Password: dc.Password, BaseDN: dc.BaseDN, CAFile: dc.CAFile})
	require.NoError(t, err)
	defer d.Close()
	g, err := graphtenant.New(graphtenant.Config{Credential: graphtenant.StaticToken(token), BaseURL: os.Getenv(envGraphURL),
		RateLimit: pacer.Config{Disabled: true}})
	require.NoError(t, err)
	fs, err := state.NewFileStore(os.Getenv(envStateDir))
	require.NoError(t, err, "the killed child's lock is released by the kernel")
	defer fs.Close()
	key, _ := hex.DecodeString(sealerKey)
	sealer, err := state.NewAESSealer(key)
	require.NoError(t, err)
	svc, err := accounts.New(stepDirectory{d, st}, stepTenant{g, st}, &accounts.Options{Store: stepStore{fs, st}, Sealer: sealer,
		UsageLocation: "FR", Retry: retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}})
	require.NoError(t, err)
	prefix := os.Getenv(envPrefix)
	switch os.Getenv(envFlow) {
	case "password":
		st, err := svc.SetPassword(ctx, prefix+"a", os.Getenv(envPassword))
		require.NoError(t, err)
		fmt.Printf("E365DONE %s\n", st)
		return
	case "retry":
		n, err := svc.RetryPendingPasswords(ctx)
		require.NoError(t, err)
		fmt.Printf("E365DONE %d\n", n)
		return
	}
	plan, err := svc.PlanBulkCreate(ctx, &accounts.PlanOptions{Domain: domain, Licenses: []accounts.LicenseChoice{{SKU: skuID}}})
	require.NoError(t, err)
	for i := range plan.Items {
		it := &plan.Items[i]
		it.Selected = strings.HasPrefix(it.SAMAccountName, prefix) && it.Problem == ""
	}
	res, err := svc.ApplyBulkCreate(ctx, plan, nil)
	require.NoError(t, err)
	fmt.Printf("E365DONE %d %d\n", res.Done, res.Failed)
}

// child runs the child for prefix with stopAt (0: never stop) and failAt
// (0: no failure). With stopAt, it kills the child with SIGKILL as soon as
// it reports the stop, and returns the steps it saw.
func child(t *testing.T, graphURL, stateDir, prefix string, stopAt, failAt int, extraEnv ...string) (stepsSeen []string, done string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChild+"=1", envGraphURL+"="+graphURL, envStateDir+"="+stateDir, envPrefix+"="+prefix,
		envStopAt+"="+strconv.Itoa(stopAt), envFailAt+"="+strconv.Itoa(failAt))
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	killed := false
	var all []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		all = append(all, line)
		switch {
		case strings.HasPrefix(line, "E365STEP "):
			stepsSeen = append(stepsSeen, strings.SplitN(line, " ", 3)[2])
		case strings.HasPrefix(line, "E365STOP "):
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			killed = true
		case strings.HasPrefix(line, "E365DONE "):
			done = strings.TrimPrefix(line, "E365DONE ")
		}
	}
	err = cmd.Wait()
	if killed {
		ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
		require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the child was killed with SIGKILL: %v", err)
		return stepsSeen, ""
	}
	require.NoError(t, err, "child output:\n%s\n%s", strings.Join(all, "\n"), stderr.String())
	return stepsSeen, done
}

// rig is the parent's world: the Samba DC, the memory tenant behind the
// emulator, and a maker of fresh users.
type rig struct {
	dir      *adldap.Directory
	mem      *memory.Tenant
	graphURL string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	dc := sambatest.Settings(t)
	ctx := t.Context()
	d, err := adldap.Open(ctx, adldap.Config{URL: dc.URL, User: dc.User, Password: dc.Password, BaseDN: dc.BaseDN, CAFile: dc.CAFile})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	mem := memory.NewTenant(&memory.TenantOptions{InitialDomain: "crash.onmicrosoft.com"})
	require.NoError(t, mem.AddVerifiedDomain(domain, true))
	_, err = mem.AddSKU(backend.SKU{SKUID: skuID, PartNumber: "ENTERPRISEPACK", Enabled: 200})
	require.NoError(t, err)
	srv := httptest.NewServer(m365emulator.New(mem, &m365emulator.Options{Token: token}))
	t.Cleanup(srv.Close)
	return &rig{dir: d, mem: mem, graphURL: srv.URL + "/v1.0"}
}

// world creates two users with a fresh prefix, deleted when t ends.
func (r *rig) world(t *testing.T, tag string) (string, []backend.DirectoryUser) {
	t.Helper()
	prefix := fmt.Sprintf("k%s%04x", tag, time.Now().UnixNano()&0xffff)
	var users []backend.DirectoryUser
	for _, s := range []string{"a", "b"} {
		sam := prefix + s
		u, err := r.dir.CreateUser(t.Context(), backend.NewDirectoryUser{SAMAccountName: sam, UserPrincipalName: sam + "@ad.crash.example",
			DisplayName: "Crash " + sam, Password: userPW})
		require.NoError(t, err)
		t.Cleanup(func() { _ = r.dir.DeleteUser(context.Background(), u.ID) })
		users = append(users, u)
	}
	return prefix, users
}

// TestKilledBulkCreateFinishes kills a bulk create with SIGKILL right after
// each of its writes, over Samba, the Graph driver and the emulator, and a
// FileStore, then runs it again and checks that every user is complete:
// online account anchored and licensed once, must change password at next
// logon, mapping recorded.
func TestKilledBulkCreateFinishes(t *testing.T) {
	if os.Getenv(envChild) == "1" {
		t.Skip("in the child")
	}
	r := newRig(t)
	ctx, d, mem, graphURL, world := t.Context(), r.dir, r.mem, r.graphURL, r.world
	check := func(t *testing.T, users []backend.DirectoryUser) {
		for _, u := range users {
			u, err := d.GetUser(ctx, u.ID)
			require.NoError(t, err)
			assert.True(t, u.MustChangePassword, "%s must change password at next logon", u.SAMAccountName)
			m, err := accounts.ParseMapping(u.OnlineAccount)
			require.NoError(t, err)
			require.Equal(t, accounts.MappingAssigned, m.State, u.SAMAccountName)
			ou, err := mem.GetUser(ctx, m.ID)
			require.NoError(t, err)
			assert.Equal(t, u.ID.ImmutableID(), ou.ImmutableID)
			assert.True(t, ou.Licensed())
			assert.True(t, ou.AccountEnabled)
			n := 0
			for x, err := range mem.ListUsers(ctx) {
				require.NoError(t, err)
				if strings.HasPrefix(x.UserPrincipalName, u.SAMAccountName+"@") {
					n++
				}
			}
			assert.Equal(t, 1, n, "%s has one online account", u.SAMAccountName)
		}
	}

	// A clean run counts the steps.
	prefix, users := world(t, "c")
	all, done := child(t, graphURL, t.TempDir(), prefix, 0, 0)
	require.Equal(t, "2 0", done)
	check(t, users)
	require.NotEmpty(t, all)
	t.Logf("%d write steps: %s", len(all), strings.Join(all, ", "))

	for k := 1; k <= len(all); k++ {
		t.Run(fmt.Sprintf("killed after step %02d %s", k, all[k-1]), func(t *testing.T) {
			prefix, users := world(t, strconv.Itoa(k%10))
			stateDir := t.TempDir()
			seen, _ := child(t, graphURL, stateDir, prefix, k, 0)
			require.Len(t, seen, k, "the child stopped at step %d", k)
			_, done := child(t, graphURL, stateDir, prefix, 0, 0)
			assert.True(t, strings.HasSuffix(done, " 0"), "the rerun fails nothing: %q", done)
			check(t, users)
		})
		t.Run(fmt.Sprintf("step %02d %s fails once", k, all[k-1]), func(t *testing.T) {
			prefix, users := world(t, strconv.Itoa(k%10))
			stateDir := t.TempDir()
			_, done := child(t, graphURL, stateDir, prefix, 0, k)
			t.Logf("first run (done failed): %s", done) // a failed sync-time record is only logged
			_, done = child(t, graphURL, stateDir, prefix, 0, 0)
			assert.True(t, strings.HasSuffix(done, " 0"), "the rerun fails nothing: %q", done)
			check(t, users)
		})
	}
}

// TestKilledPasswordPushIsNotLost kills SetPassword with SIGKILL while the
// online password update is about to go out (the network password already
// changed), then retries the pending updates in a new process: the cloud
// gets the password, nothing is lost.
func TestKilledPasswordPushIsNotLost(t *testing.T) {
	if os.Getenv(envChild) == "1" {
		t.Skip("in the child")
	}
	r := newRig(t)
	prefix, users := r.world(t, "p")
	stateDir := t.TempDir()
	_, done := child(t, r.graphURL, stateDir, prefix, 0, 0)
	require.Equal(t, "2 0", done)
	const pw = "Killed-Push-7Qx!"
	seen, _ := child(t, r.graphURL, stateDir, prefix, 0, 0, envFlow+"=password", envPassword+"="+pw, envStopOp+"=tenant UpdateUser")
	require.NotEmpty(t, seen)
	require.Equal(t, "tenant UpdateUser", seen[len(seen)-1], "killed right before the push")
	require.NoError(t, r.dir.Authenticate(t.Context(), users[0].SAMAccountName, pw), "the network password changed")
	upn := users[0].SAMAccountName + "@" + domain
	require.False(t, r.mem.CheckPassword(upn, pw), "the cloud does not have it yet")

	_, done = child(t, r.graphURL, stateDir, prefix, 0, 0, envFlow+"=retry")
	assert.Equal(t, "1", done, "the pending update survived the kill")
	assert.True(t, r.mem.CheckPassword(upn, pw), "the cloud has the password")
}
