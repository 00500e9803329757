// Command pwsync-agent is the password sync agent of a Samba Active
// Directory domain controller: every password changed in the domain (at
// Ctrl+Alt+Del, by an administrator, over Kerberos or SAMR) reaches the
// user's Microsoft 365 account within seconds. Run it as root on one DC
// (the PDC emulator).
//
//	pwsync-agent diagnose [-smbconf F] [-dir D]   what is missing, changes nothing
//	pwsync-agent setup    [-smbconf F] [-dir D]   key, keyrings, smb.conf option, cache
//	pwsync-agent run      [-smbconf F] [-dir D] [-graph-url U -tenant-id T -client-id C]
//	pwsync-agent hook                              run by syncpasswords, never by hand
//
// After setup, restart samba with GNUPGHOME set to the public keyring it
// prints (a systemd drop-in: Environment=GNUPGHOME=...), and set the same
// smb.conf option and keyring on every other DC.
//
// run reads the directory connection from E365_LDAP_URL, E365_LDAP_USER,
// E365_LDAP_PASSWORD, E365_LDAP_BASE_DN and E365_LDAP_CA_FILE, and the
// app registration's secret from E365_CLIENT_SECRET; with a loopback
// -graph-url (the emulator, examples/m365emulator) no secret is needed.
// Its state (pending updates sealed with the key in DIR/state.key) lives
// in DIR/state.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/pwsync"
	"github.com/essentials365/sdk/essentials365/retry"
	"github.com/essentials365/sdk/essentials365/state"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "hook" {
		// Run by syncpasswords: hand stdin and stdout to the agent. The
		// reply is on stdout; the exit code is ignored by syncpasswords.
		if err := pwsync.RunHook(os.Getenv(pwsync.EnvHookSocket), os.Stdin, os.Stdout, 5*time.Minute); err != nil {
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pwsync-agent:", err)
		os.Exit(1)
	}
}

const usage = "usage: pwsync-agent diagnose|setup|run [flags] (see -h of each)"

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("pwsync-agent "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	smbconf := fs.String("smbconf", "/etc/samba/smb.conf", "the DC's smb.conf")
	dir := fs.String("dir", "/var/lib/essentials365/pwsync", "the agent's directory (keys, cache, state)")
	sambaTool := fs.String("samba-tool", "samba-tool", "samba-tool")
	graphURL := fs.String("graph-url", graphtenant.DefaultBaseURL, "Graph's root URL (an emulator's for offline use)")
	tenantID := fs.String("tenant-id", "", "the directory (tenant) id of the app registration")
	clientID := fs.String("client-id", "", "the application (client) id; its secret is read from E365_CLIENT_SECRET")
	retryEvery := fs.Duration("retry-interval", 30*time.Second, "how often pending online updates are retried")
	verbose := fs.Bool("v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := pwsync.SetupConfig{SMBConf: *smbconf, Dir: *dir, SambaTool: *sambaTool, Logger: log}

	switch cmd {
	case "diagnose":
		d, err := pwsync.Diagnose(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Samba %s; key %s; %q = %s\n", d.SambaVersion, orNone(d.KeyID), pwsync.OptionGPGKeyIDs, orNone(d.OptionValue))
		for _, p := range d.Problems {
			fix := "needs you"
			if p.Fixable {
				fix = "setup fixes it"
			}
			fmt.Fprintf(stdout, "  - [%s] %s (%s)\n", p.Reason, p.Msg, fix)
		}
		if !d.OK() {
			return errors.New("password sync is not ready")
		}
		fmt.Fprintln(stdout, "ready")
		return nil
	case "setup":
		res, err := pwsync.Setup(ctx, cfg)
		if err != nil {
			return err
		}
		if _, err := sealKey(filepath.Join(*dir, "state.key"), true); err != nil {
			return err
		}
		for _, d := range res.Done {
			fmt.Fprintln(stdout, "done:", d)
		}
		fmt.Fprintf(stdout, "key %s (%s)\npublic keyring for samba: %s\n", res.KeyID, res.Fingerprint, res.PublicKeyring)
		if res.RestartSamba {
			fmt.Fprintf(stdout, "restart samba with GNUPGHOME=%s in its environment (systemd: Environment=GNUPGHOME=%s), "+
				"or password changes will fail; set %q = %s and that keyring on every other DC\n",
				res.PublicKeyring, res.PublicKeyring, pwsync.OptionGPGKeyIDs, res.KeyID)
		}
		return nil
	case "run":
		return runAgent(ctx, cfg, *graphURL, *tenantID, *clientID, *retryEvery, getenv, log)
	}
	return errors.New(usage)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func runAgent(ctx context.Context, cfg pwsync.SetupConfig, graphURL, tenantID, clientID string, retryEvery time.Duration, getenv func(string) string, log *slog.Logger) error {
	d, err := pwsync.Diagnose(ctx, cfg)
	if err != nil {
		return err
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w (run setup first)", err)
	}
	key, err := sealKey(filepath.Join(cfg.Dir, "state.key"), false)
	if err != nil {
		return err
	}
	sealer, err := state.NewAESSealer(key)
	if err != nil {
		return err
	}
	store, err := state.NewFileStore(filepath.Join(cfg.Dir, "state"))
	if err != nil {
		return err
	}
	dcfg := adldap.Config{URL: getenv("E365_LDAP_URL"), User: getenv("E365_LDAP_USER"), Password: getenv("E365_LDAP_PASSWORD"),
		BaseDN: getenv("E365_LDAP_BASE_DN"), CAFile: getenv("E365_LDAP_CA_FILE")}
	if dcfg.URL == "" || dcfg.User == "" || dcfg.Password == "" {
		return errors.New("set E365_LDAP_URL, E365_LDAP_USER and E365_LDAP_PASSWORD (and E365_LDAP_CA_FILE for a private CA)")
	}
	dir, err := adldap.Open(ctx, dcfg)
	if err != nil {
		return err
	}
	defer dir.Close()
	cred, err := credential(graphURL, tenantID, clientID, getenv("E365_CLIENT_SECRET"))
	if err != nil {
		return err
	}
	tenant, err := graphtenant.New(graphtenant.Config{Credential: cred, BaseURL: graphURL, Logger: log})
	if err != nil {
		return err
	}
	// Few attempts per change: a cloud that does not answer makes the
	// update pending at once (retried every -retry-interval), so the
	// other users' changes are not held up.
	svc, err := accounts.New(dir, tenant, &accounts.Options{Store: store, Sealer: sealer, Logger: log,
		Retry: retry.Policy{MaxAttempts: 3, BaseDelay: 200 * time.Millisecond, MaxDelay: 2 * time.Second}})
	if err != nil {
		return err
	}
	agent, err := pwsync.New(svc, &pwsync.Options{Store: store, Logger: log, RetryInterval: retryEvery})
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	paths := pwsync.PathsOf(cfg.Dir)
	log.InfoContext(ctx, "password sync agent running", "dir", cfg.Dir, "key", d.KeyID)
	return agent.Run(ctx, pwsync.SyncPasswords{
		Command: cfg.SambaTool, SMBConf: cfg.SMBConf, CacheLDB: paths.CacheLDB, GNUPGHome: paths.SecretKeyring,
		HookProgram: self, Socket: filepath.Join(cfg.Dir, "agent.sock"),
	})
}

// sealKey reads the 32-byte key that seals pending updates, creating it
// (mode 0600) when create is set and it does not exist.
func sealKey(path string, create bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("%s holds %d bytes, not a 32-byte key: restore it from a backup (pending updates need it)", path, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, fmt.Errorf("no sealing key %s (run setup): %w", path, err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

func credential(baseURL, tenantID, clientID, secret string) (azcore.TokenCredential, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("-graph-url: %w", err)
	}
	if h := u.Hostname(); h == "127.0.0.1" || h == "localhost" || h == "::1" {
		return graphtenant.StaticToken("emulator"), nil
	}
	if tenantID == "" || clientID == "" || secret == "" {
		return nil, errors.New("a real tenant needs -tenant-id, -client-id and E365_CLIENT_SECRET (or a loopback -graph-url with the emulator)")
	}
	return azidentity.NewClientSecretCredential(tenantID, clientID, secret, nil)
}
