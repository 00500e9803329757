//go:build unix

package pwsync

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// The environment the hook script reads: the program to run ("PROGRAM
// hook") and the agent's socket. Run sets both for syncpasswords, whose
// hook inherits its environment.
const (
	EnvHookProgram = "E365_PWSYNC_AGENT"
	EnvHookSocket  = "E365_PWSYNC_SOCKET"
)

// DefaultPath is the PATH given to samba-tool when SyncPasswords.Path is
// empty.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ReasonSyncPasswordsConfig (InvalidArgument): a required field of
// SyncPasswords is empty.
const ReasonSyncPasswordsConfig backend.Reason = "syncpasswords-config"

// SyncPasswords says how Run starts `samba-tool user syncpasswords` (in
// the foreground, as a child it supervises).
type SyncPasswords struct {
	// Command is samba-tool; default "samba-tool" (looked up in Path).
	Command string
	// SMBConf is smb.conf (-s); default Samba's own.
	SMBConf string
	// CacheLDB is the cache Setup initialised (SetupResult.CacheLDB).
	// Required.
	CacheLDB string
	// GNUPGHome is the keyring holding the secret key
	// (SetupResult.SecretKeyring). Required.
	GNUPGHome string
	// HookProgram is the program the hook script runs as "PROGRAM hook"
	// (the agent's own executable, which then calls RunHook). Required.
	HookProgram string
	// Socket is the agent's socket, created by Run. Required.
	Socket string
	// Path is the child's PATH; default DefaultPath.
	Path string
	// MinRestartDelay and MaxRestartDelay bound the wait before
	// syncpasswords is started again after it stopped (default 1 s and
	// 30 s; the delay doubles while it keeps stopping within a minute).
	MinRestartDelay, MaxRestartDelay time.Duration
}

func (sp SyncPasswords) withDefaults() (SyncPasswords, error) {
	const op = "pwsync: run"
	for _, f := range []struct{ name, v string }{{"CacheLDB", sp.CacheLDB}, {"GNUPGHome", sp.GNUPGHome}, {"HookProgram", sp.HookProgram}, {"Socket", sp.Socket}} {
		if f.v == "" {
			return sp, backend.Invalid(op, f.name, ReasonSyncPasswordsConfig, "SyncPasswords.%s is required (see Setup)", f.name)
		}
	}
	if sp.Command == "" {
		sp.Command = "samba-tool"
	}
	if sp.Path == "" {
		sp.Path = DefaultPath
	}
	if sp.MinRestartDelay <= 0 {
		sp.MinRestartDelay = time.Second
	}
	if sp.MaxRestartDelay < sp.MinRestartDelay {
		sp.MaxRestartDelay = 30 * time.Second
	}
	return sp, nil
}

// Run is the agent: it listens on sp.Socket, runs syncpasswords as a
// supervised child (started again whenever it stops: a failed hook, a
// crash, Samba restarted), retries pending online updates every
// RetryInterval and reports itself every HeartbeatInterval, until ctx
// ends. syncpasswords is stopped with the agent (and killed if the agent
// dies, on Linux).
func (a *Agent) Run(ctx context.Context, sp SyncPasswords) error {
	sp, err := sp.withDefaults()
	if err != nil {
		return err
	}
	ln, err := Listen(sp.Socket)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := a.Serve(ctx, ln); err != nil {
			a.log.ErrorContext(ctx, "hook socket failed", "err", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		a.background(ctx)
	}()
	a.supervise(ctx, sp)
	cancel()
	wg.Wait()
	return nil
}

// background retries pending updates and sends heartbeats.
func (a *Agent) background(ctx context.Context) {
	retry := time.NewTicker(a.opts.RetryInterval)
	defer retry.Stop()
	beat := time.NewTicker(a.opts.HeartbeatInterval)
	defer beat.Stop()
	a.heartbeat(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-retry.C:
			if _, err := a.RetryPending(ctx); err != nil && ctx.Err() == nil {
				a.log.WarnContext(ctx, "pending online password updates still pending", "err", err)
			}
		case <-beat.C:
			a.heartbeat(ctx)
		}
	}
}

func (a *Agent) heartbeat(ctx context.Context) {
	if err := a.pusher.DirectorySyncHeartbeat(ctx); err != nil && ctx.Err() == nil {
		a.log.WarnContext(ctx, "cannot report the agent as running", "err", err)
	}
}

// supervise runs syncpasswords until ctx ends, starting it again after
// each stop.
func (a *Agent) supervise(ctx context.Context, sp SyncPasswords) {
	delay := sp.MinRestartDelay
	for ctx.Err() == nil {
		started := time.Now()
		err := a.runChild(ctx, sp)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			delay = sp.MinRestartDelay
		}
		a.log.WarnContext(ctx, "syncpasswords stopped; starting it again", "err", err, "after", delay.String())
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, sp.MaxRestartDelay)
	}
}

// runChild runs syncpasswords once, in the foreground, until it exits or
// ctx ends.
func (a *Agent) runChild(ctx context.Context, sp SyncPasswords) error {
	args := []string{"user", "syncpasswords", "--cache-ldb=" + sp.CacheLDB}
	if sp.SMBConf != "" {
		args = append(args, "-s", sp.SMBConf)
	}
	cmd := exec.CommandContext(ctx, sp.Command, args...)
	cmd.Env = []string{
		"PATH=" + sp.Path, "LC_ALL=C.UTF-8", "GNUPGHOME=" + sp.GNUPGHome,
		EnvHookProgram + "=" + sp.HookProgram, EnvHookSocket + "=" + sp.Socket,
	}
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return backend.Wrap(err, backend.FailedPrecondition, "pwsync: start syncpasswords", sp.Command)
	}
	a.log.InfoContext(ctx, "syncpasswords started", "pid", cmd.Process.Pid)
	a.watchOutput(ctx, out)
	return cmd.Wait()
}

// watchOutput reads syncpasswords' output to its end. Only its error lines
// are logged: the rest is its DirSync trace. (Secrets are redacted there
// by Samba, and the password LDIF goes to the hook, never to this output,
// once the cache names a script.)
func (a *Agent) watchOutput(ctx context.Context, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "ERROR") || strings.Contains(line, "already running") {
			if len(line) > 300 {
				line = line[:300]
			}
			a.log.WarnContext(ctx, "syncpasswords", "line", line)
		}
	}
	_, _ = io.Copy(io.Discard, r)
}
