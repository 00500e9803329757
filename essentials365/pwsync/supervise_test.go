//go:build unix

package pwsync_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/pwsync"
)

// TestMain lets the test binary be the agent's program in hook mode, as
// the hook script runs it: "PROGRAM hook".
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == "hook" {
		if err := pwsync.RunHook(os.Getenv(pwsync.EnvHookSocket), os.Stdin, os.Stdout, time.Minute); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// shortDir returns a directory with a path short enough for a Unix socket.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pws")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestHookHandsItsPipesToTheAgent(t *testing.T) {
	e := newSyncEnv(t, nil)
	ann := e.addMapped("ann")
	require.NoError(t, e.dir.ResetPassword(e.ctx, ann.ID, "Via-The-Hook-01", false))
	sock := filepath.Join(shortDir(t), "agent.sock")
	ln, err := pwsync.Listen(sock)
	require.NoError(t, err)
	fi, err := os.Stat(sock)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "only its owner may hand the agent a change")
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.agent.Serve(ctx, ln) }()

	reply := func(record string) (string, error) {
		inR, inW, err := os.Pipe()
		require.NoError(t, err)
		outR, outW, err := os.Pipe()
		require.NoError(t, err)
		go func() { _, _ = io.WriteString(inW, record); inW.Close() }()
		herr := pwsync.RunHook(sock, inR, outW, 10*time.Second)
		inR.Close()
		outW.Close()
		b, err := io.ReadAll(outR)
		require.NoError(t, err)
		return string(b), herr
	}
	out, err := reply(ldifText(ann, "Via-The-Hook-01", 3, 512))
	require.NoError(t, err)
	assert.Equal(t, "DONE-EXIT: ann pushed\n", out)
	assert.True(t, e.tenant.CheckPassword("ann@contoso.com", "Via-The-Hook-01"))

	// An unreadable record is acknowledged (it would never read better)
	// without echoing what it held.
	out, err = reply("dn: CN=x\nvirtualClearTextUTF8:: U2VjcmV0LTEyMyE=\n")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "DONE-EXIT: skipped"), out)
	assert.NotContains(t, out, "U2VjcmV0")

	// A change that can be neither pushed nor kept is refused: no
	// DONE-EXIT, so syncpasswords stops and delivers it again.
	e.dir.FailNext("GetUser", 10, &backend.Error{Kind: backend.Unavailable, Msg: "the DC does not answer"})
	out, err = reply(ldifText(ann, "Via-The-Hook-02", 4, 512))
	require.Error(t, err)
	assert.False(t, strings.HasPrefix(out, "DONE-EXIT: "), out)
	assert.NotContains(t, out, "Via-The-Hook-02")
	e.dir.ClearFaults()

	cancel()
	require.NoError(t, <-done)
	out, err = reply(ldifText(ann, "Via-The-Hook-03", 5, 512))
	require.Error(t, err, "no agent")
	assert.Contains(t, out, "did not take the change")
	assert.False(t, strings.HasPrefix(out, "DONE-EXIT: "))
	e.noLeak("Via-The-Hook-01", "Via-The-Hook-02", "Via-The-Hook-03")
}

// fakeSyncPasswords follows syncpasswords' contract with its script: one
// record at a time on the script's stdin, stdout and stderr merged, the
// record kept (delivered again at the next start) and the program stopped
// when the reply does not start with "DONE-EXIT: ". Records are the
// *.ldif files of the directory given as --cache-ldb.
const fakeSyncPasswords = `#!/bin/sh
q=${3#--cache-ldb=}
echo start >> "$q/../starts"
while :; do
	for f in "$q"/*.ldif; do
		[ -e "$f" ] || continue
		reply=$("$q/../pwsync-hook" < "$f" 2>&1)
		case "$reply" in
		"DONE-EXIT: "*) rm -f "$f" ;;
		*) echo "ERROR: 1 - $reply"; exit 1 ;;
		esac
	done
	sleep 0.05
done
`

func TestRunRestartsSyncPasswordsAndLosesNothing(t *testing.T) {
	e := newSyncEnv(t, &pwsync.Options{RetryInterval: 50 * time.Millisecond})
	ann, bob := e.addMapped("ann"), e.addMapped("bob")
	dir := shortDir(t)
	queue := filepath.Join(dir, "queue")
	require.NoError(t, os.Mkdir(queue, 0o700))
	tool := filepath.Join(dir, "samba-tool")
	require.NoError(t, os.WriteFile(tool, []byte(fakeSyncPasswords), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pwsync-hook"), []byte(pwsync.HookScript), 0o700))
	self, err := os.Executable()
	require.NoError(t, err)

	// The directory fails the first lookups: the first delivery is refused,
	// syncpasswords stops, and the agent starts it again.
	e.dir.FailNext("GetUser", 2, &backend.Error{Kind: backend.Unavailable, Msg: "the DC does not answer"})
	require.NoError(t, e.dir.ResetPassword(e.ctx, ann.ID, "Supervised-01", false))
	require.NoError(t, e.dir.ResetPassword(e.ctx, bob.ID, "Supervised-02", false))
	require.NoError(t, os.WriteFile(filepath.Join(queue, "1.ldif"), []byte(ldifText(ann, "Supervised-01", 3, 512)), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(queue, "2.ldif"), []byte(ldifText(bob, "Supervised-02", 3, 512)), 0o600))

	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() {
		done <- e.agent.Run(ctx, pwsync.SyncPasswords{
			Command: tool, CacheLDB: queue, GNUPGHome: dir, HookProgram: self, Socket: filepath.Join(dir, "a.sock"),
			MinRestartDelay: 10 * time.Millisecond, MaxRestartDelay: 50 * time.Millisecond,
		})
	}()
	require.Eventually(t, func() bool {
		return e.tenant.CheckPassword("ann@contoso.com", "Supervised-01") && e.tenant.CheckPassword("bob@contoso.com", "Supervised-02")
	}, 20*time.Second, 20*time.Millisecond)
	starts, err := os.ReadFile(filepath.Join(dir, "starts"))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, strings.Count(string(starts), "start"), 2, "syncpasswords was started again after the refused change")
	assert.Equal(t, accounts.PasswordSyncModeAgent, e.svc.DirectorySyncMode(e.ctx), "the agent reports itself")

	// A change while the cloud is down lands once it is back.
	e.tenant.FailNext("UpdateUser", 1000, &backend.Error{Kind: backend.Unavailable, Msg: "service unavailable"})
	require.NoError(t, e.dir.ResetPassword(e.ctx, ann.ID, "Supervised-03", false))
	require.NoError(t, os.WriteFile(filepath.Join(queue, "3.ldif"), []byte(ldifText(ann, "Supervised-03", 4, 512)), 0o600))
	require.Eventually(t, func() bool {
		p, _ := e.svc.PendingPasswords(e.ctx)
		return len(p) == 1
	}, 10*time.Second, 20*time.Millisecond)
	e.tenant.ClearFaults()
	require.Eventually(t, func() bool { return e.tenant.CheckPassword("ann@contoso.com", "Supervised-03") }, 10*time.Second, 20*time.Millisecond)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
	e.noLeak("Supervised-01", "Supervised-02", "Supervised-03")
}
