package pwsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/internal/atomicfile"
)

// The smb.conf option that makes Samba keep each new password encrypted
// to a GPG key (Samba 4.5 and later, built with gpgme).
const OptionGPGKeyIDs = "password hash gpg key ids"

// Attributes are what Setup asks syncpasswords to hand the hook.
const Attributes = "objectGUID,sAMAccountName,userPrincipalName,userAccountControl,pwdLastSet,msDS-KeyVersionNumber,virtualClearTextUTF8"

// Reasons of Diagnose and Setup (FailedPrecondition unless said).
const (
	// ReasonSambaTooOld (FailedPrecondition): Samba older than 4.12 cannot run a sync script
	// under Python 3 (Samba bug 14154).
	ReasonSambaTooOld backend.Reason = "samba-too-old"
	// ReasonSambaMissing: samba or samba-tool is not installed.
	ReasonSambaMissing backend.Reason = "samba-missing"
	// ReasonNoGPGME: Samba was built without gpgme and cannot keep
	// passwords encrypted.
	ReasonNoGPGME backend.Reason = "samba-without-gpgme"
	// ReasonNoPythonGPG: samba-tool's Python has no gpg module (Debian:
	// python3-gpg) and cannot decrypt the passwords.
	ReasonNoPythonGPG backend.Reason = "python-gpg-missing"
	// ReasonGPGMissing: the gpg program is not installed.
	ReasonGPGMissing backend.Reason = "gpg-missing"
	// ReasonOptionNotSet: smb.conf does not set "password hash gpg key
	// ids" to the agent's key; it must be set on every domain controller.
	ReasonOptionNotSet backend.Reason = "gpg-option-not-set"
	// ReasonOptionForeign: smb.conf sets the option to other keys; Setup
	// does not change a value it did not write.
	ReasonOptionForeign backend.Reason = "gpg-option-foreign"
	// ReasonKeyMissing: the agent's secret key (with an encryption subkey)
	// or its public-only keyring is missing.
	ReasonKeyMissing backend.Reason = "gpg-key-missing"
	// ReasonCacheMissing: the syncpasswords cache is not initialised.
	ReasonCacheMissing backend.Reason = "syncpasswords-cache-missing"
	// ReasonSambaWithoutKeyring: the running samba was started without
	// GNUPGHOME set to the public keyring while the option is set: every
	// password change fails until samba is restarted with it.
	ReasonSambaWithoutKeyring backend.Reason = "samba-without-keyring"
	// ReasonSetupConfig (InvalidArgument): SetupConfig lacks a field.
	ReasonSetupConfig backend.Reason = "setup-config"
)

// DefaultKeyUID is the user id of the key Setup generates.
const DefaultKeyUID = "Essentials365 password sync <pwsync@localhost>"

// SetupConfig says where the agent keeps its keys and cache.
type SetupConfig struct {
	// SMBConf is the DC's smb.conf. Required.
	SMBConf string
	// Dir is the agent's directory (created with mode 0700): the secret
	// keyring, the public-only keyring for samba, the hook script and the
	// syncpasswords cache. Required.
	Dir string
	// KeyUID is the key's user id; default DefaultKeyUID.
	KeyUID string
	// Samba, SambaTool and GPG are the programs; default "samba",
	// "samba-tool", "gpg", looked up in Path.
	Samba, SambaTool, GPG string
	// Path is where programs are looked up; default DefaultPath.
	Path string
	// Logger receives what Setup does; default discard.
	Logger *slog.Logger
}

func (c SetupConfig) withDefaults() (SetupConfig, error) {
	if c.SMBConf == "" || c.Dir == "" {
		return c, backend.Invalid("pwsync: setup", "", ReasonSetupConfig, "SetupConfig needs SMBConf (the DC's smb.conf) and Dir (the agent's directory)")
	}
	if c.KeyUID == "" {
		c.KeyUID = DefaultKeyUID
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Samba == "" {
		c.Samba = "samba"
	}
	if c.SambaTool == "" {
		c.SambaTool = "samba-tool"
	}
	if c.GPG == "" {
		c.GPG = "gpg"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Paths are the files of the agent's directory.
type Paths struct {
	SecretKeyring string // GNUPGHOME for the agent (and syncpasswords)
	PublicKeyring string // GNUPGHOME for samba and any local samba-tool
	Hook          string // the script syncpasswords runs
	CacheLDB      string // the syncpasswords cache
}

// PathsOf returns the files Setup creates in dir.
func PathsOf(dir string) Paths {
	return Paths{
		SecretKeyring: filepath.Join(dir, "gpg-secret"),
		PublicKeyring: filepath.Join(dir, "gpg-public"),
		Hook:          filepath.Join(dir, "pwsync-hook"),
		CacheLDB:      filepath.Join(dir, "syncpasswords.ldb"),
	}
}

// SetupResult says what Setup found and did.
type SetupResult struct {
	Paths
	// KeyID is the 64-bit id of the agent's key, as set in smb.conf.
	KeyID       string
	Fingerprint string
	// Done lists what this run changed (empty when all was in place).
	Done []string
	// RestartSamba is set when smb.conf changed: samba must be restarted
	// with GNUPGHOME=PublicKeyring in its environment (a systemd drop-in:
	// Environment=GNUPGHOME=...), and so must any local samba-tool that
	// sets passwords, or password changes fail.
	RestartSamba bool
}

// Setup makes this domain controller ready for password sync, doing only
// what is missing: a GPG key with an encryption subkey (no passphrase, in
// Dir, mode 0700), a public-only keyring for samba, the smb.conf option
// (added when absent; a value naming other keys is left alone and is an
// error), the hook script and the syncpasswords cache. Problems it cannot
// fix (Samba too old, no gpgme, no python3-gpg) are a FailedPrecondition
// error listing them, before anything is changed.
func Setup(ctx context.Context, cfg SetupConfig) (SetupResult, error) {
	const op = "pwsync: setup"
	cfg, err := cfg.withDefaults()
	if err != nil {
		return SetupResult{}, err
	}
	d, err := Diagnose(ctx, cfg)
	if err != nil {
		return SetupResult{}, err
	}
	var blocking Diagnosis
	for _, p := range d.Problems {
		if !p.Fixable && p.Reason != ReasonSambaWithoutKeyring {
			blocking.Problems = append(blocking.Problems, p)
		}
	}
	if err := blocking.Err(); err != nil {
		return SetupResult{}, backend.WithOp(err, op, cfg.SMBConf)
	}
	res := SetupResult{Paths: PathsOf(cfg.Dir)}
	did := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		res.Done = append(res.Done, s)
		cfg.Logger.InfoContext(ctx, s)
	}
	for _, dir := range []string{cfg.Dir, res.SecretKeyring, res.PublicKeyring} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return res, backend.Wrap(err, backend.PermissionDenied, op, dir)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return res, backend.Wrap(err, backend.PermissionDenied, op, dir)
		}
	}
	defer killAgents(cfg, res.SecretKeyring, res.PublicKeyring)

	if err := setupKeys(ctx, op, cfg, &res, did); err != nil {
		return res, err
	}
	if err := writeIfChanged(res.Hook, []byte(HookScript), 0o700); err != nil {
		return res, backend.Wrap(err, backend.PermissionDenied, op, res.Hook)
	}

	if err := setupOption(ctx, op, cfg, &res, did); err != nil {
		return res, err
	}
	if err := setupCache(ctx, op, cfg, &res, did); err != nil {
		return res, err
	}
	return res, nil
}

// setupKeys makes the agent's key pair, with an encryption subkey, in the
// secret keyring, and its public key alone in samba's keyring; it sets
// res.KeyID and res.Fingerprint.
func setupKeys(ctx context.Context, op string, cfg SetupConfig, res *SetupResult, did func(string, ...any)) error {
	fpr, keyID, enc, err := secretKey(ctx, cfg)
	if err != nil {
		return backend.WithOp(err, op, res.SecretKeyring)
	}
	if fpr == "" {
		if _, err := run(ctx, cfg, res.SecretKeyring, cfg.GPG, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
			"--quick-gen-key", cfg.KeyUID, "rsa3072", "sign,cert", "never"); err != nil {
			return backend.WithOp(err, op, res.SecretKeyring)
		}
		did("generated the key %q", cfg.KeyUID)
		if fpr, keyID, enc, err = secretKey(ctx, cfg); err != nil || fpr == "" {
			return backend.Errorf(backend.FailedPrecondition, op, res.SecretKeyring, "gpg generated no key (%v)", err)
		}
	}
	if !enc {
		if _, err := run(ctx, cfg, res.SecretKeyring, cfg.GPG, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
			"--quick-add-key", fpr, "rsa3072", "encr", "never"); err != nil {
			return backend.WithOp(err, op, res.SecretKeyring)
		}
		did("added an encryption subkey to %s", keyID)
	}
	res.KeyID, res.Fingerprint = keyID, fpr

	if ok, err := hasPublicKey(ctx, cfg, res.PublicKeyring, fpr); err != nil {
		return backend.WithOp(err, op, res.PublicKeyring)
	} else if !ok || !enc {
		pub, err := run(ctx, cfg, res.SecretKeyring, cfg.GPG, "--batch", "--armor", "--export", fpr)
		if err != nil {
			return backend.WithOp(err, op, res.SecretKeyring)
		}
		if _, err := runIn(ctx, cfg, res.PublicKeyring, strings.NewReader(pub), cfg.GPG, "--batch", "--import"); err != nil {
			return backend.WithOp(err, op, res.PublicKeyring)
		}
		did("imported the public key into %s", res.PublicKeyring)
	}
	if out, _ := run(ctx, cfg, res.PublicKeyring, cfg.GPG, "--batch", "--with-colons", "--list-secret-keys"); strings.Contains(out, "sec:") {
		return backend.Errorf(backend.FailedPrecondition, op, res.PublicKeyring, "the keyring for samba holds a secret key: it must hold the public key only; empty it and run setup again")
	}
	return nil
}

// setupOption adds the smb.conf option naming the agent's key when it is
// absent; a value naming other keys only is an error, left alone.
func setupOption(ctx context.Context, op string, cfg SetupConfig, res *SetupResult, did func(string, ...any)) error {
	keyID := res.KeyID
	value, err := testparm(ctx, cfg, OptionGPGKeyIDs)
	if err != nil {
		return backend.WithOp(err, op, cfg.SMBConf)
	}
	switch {
	case value == "":
		if err := addGlobalOption(cfg.SMBConf, OptionGPGKeyIDs, keyID); err != nil {
			return backend.WithOp(err, op, cfg.SMBConf)
		}
		did("set %q = %s in %s", OptionGPGKeyIDs, keyID, cfg.SMBConf)
		res.RestartSamba = true
	case !optionHasKey(value, keyID):
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: cfg.SMBConf, Reason: ReasonOptionForeign,
			Msg: fmt.Sprintf("smb.conf sets %q to %s, which does not name the agent's key %s; add it to the list yourself (Setup does not change a value it did not write)",
				OptionGPGKeyIDs, value, keyID)}
	}
	return nil
}

// setupCache initialises the syncpasswords cache when it is missing.
func setupCache(ctx context.Context, op string, cfg SetupConfig, res *SetupResult, did func(string, ...any)) error {
	if _, err := os.Stat(res.CacheLDB); errors.Is(err, os.ErrNotExist) {
		args := []string{"user", "syncpasswords", "--cache-ldb-initialize", "--cache-ldb=" + res.CacheLDB,
			"--decrypt-samba-gpg", "--script=" + res.Hook, "--attributes=" + Attributes, "-s", cfg.SMBConf}
		if _, err := run(ctx, cfg, res.SecretKeyring, cfg.SambaTool, args...); err != nil {
			_ = os.Remove(res.CacheLDB)
			return backend.WithOp(err, op, res.CacheLDB)
		}
		did("initialised the syncpasswords cache %s", res.CacheLDB)
	}
	return nil
}

// HookScript is the script Setup writes for syncpasswords to run for each
// change: it execs the agent's program ("PROGRAM hook"), which hands its
// standard input and output to the agent (RunHook).
const HookScript = `#!/bin/sh
# Password sync hook, run by samba-tool user syncpasswords under the agent
# (which sets both variables). It hands this change to the agent; it never
# reads the password itself.
exec "${` + EnvHookProgram + `:?run by the password sync agent only}" hook
`

func writeIfChanged(path string, data []byte, perm os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return os.Chmod(path, perm)
	}
	return atomicfile.Write(path, data, perm)
}

// addGlobalOption adds "name = value" under [global] of an smb.conf,
// keeping everything else as it is.
func addGlobalOption(path, name, value string) error {
	const op = "pwsync: edit smb.conf"
	fi, err := os.Stat(path)
	if err != nil {
		return backend.Wrap(err, backend.NotFound, op, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return backend.Wrap(err, backend.PermissionDenied, op, path)
	}
	lines := strings.SplitAfter(string(b), "\n")
	for i, l := range lines {
		if strings.EqualFold(strings.TrimSpace(l), "[global]") {
			nl := "\t" + name + " = " + value + "\n"
			if !strings.HasSuffix(l, "\n") {
				nl = "\n" + nl
			}
			out := strings.Join(lines[:i+1], "") + nl + strings.Join(lines[i+1:], "")
			return backend.Wrap(atomicfile.Write(path, []byte(out), fi.Mode().Perm()), backend.PermissionDenied, op, path)
		}
	}
	return backend.Errorf(backend.FailedPrecondition, op, path, "smb.conf has no [global] section")
}

// secretKey finds the agent's key in the secret keyring by user id: its
// fingerprint, 64-bit id and whether it has a usable encryption subkey.
func secretKey(ctx context.Context, cfg SetupConfig) (fpr, keyID string, enc bool, err error) {
	home := PathsOf(cfg.Dir).SecretKeyring
	if _, err := os.Stat(home); err != nil {
		return "", "", false, nil
	}
	out, err := run(ctx, cfg, home, cfg.GPG, "--batch", "--with-colons", "--list-secret-keys", "="+cfg.KeyUID)
	if err != nil {
		// No such key: gpg fails with "No secret key".
		return "", "", false, nil
	}
	inKey := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, ":")
		switch {
		case len(f) > 4 && f[0] == "sec":
			if fpr != "" {
				return fpr, keyID, enc, nil // the first key with that uid
			}
			inKey, keyID = true, f[4]
		case len(f) > 9 && f[0] == "fpr" && inKey && fpr == "":
			fpr = f[9]
		case len(f) > 11 && f[0] == "ssb" && inKey:
			if strings.Contains(f[11], "e") && f[1] != "r" && f[1] != "e" {
				enc = true
			}
		}
	}
	return fpr, keyID, enc, nil
}

func hasPublicKey(ctx context.Context, cfg SetupConfig, home, fpr string) (bool, error) {
	if _, err := os.Stat(home); err != nil {
		return false, nil
	}
	out, err := run(ctx, cfg, home, cfg.GPG, "--batch", "--with-colons", "--list-keys", fpr)
	if err != nil {
		return false, nil
	}
	return strings.Contains(out, "sub:") && strings.Contains(out, fpr), nil
}

func testparm(ctx context.Context, cfg SetupConfig, name string) (string, error) {
	out, err := run(ctx, cfg, "", cfg.SambaTool, "testparm", "-s", cfg.SMBConf, "--parameter-name="+name)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

func killAgents(cfg SetupConfig, homes ...string) {
	for _, h := range homes {
		_, _ = run(context.Background(), cfg, h, "gpgconf", "--kill", "gpg-agent")
	}
}

func run(ctx context.Context, cfg SetupConfig, gnupgHome, prog string, args ...string) (string, error) {
	return runIn(ctx, cfg, gnupgHome, nil, prog, args...)
}

// runIn runs a program with a minimal environment (PATH, locale, and
// GNUPGHOME when given) and returns its standard output. Its error names
// the program and its standard error's last line, never the arguments.
func runIn(ctx context.Context, cfg SetupConfig, gnupgHome string, stdin *strings.Reader, prog string, args ...string) (string, error) {
	path, err := lookPath(prog, cfg.Path)
	if err != nil {
		return "", backend.Errorf(backend.FailedPrecondition, "pwsync: run", prog, "%s is not installed (not found in %s)", prog, cfg.Path)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{"PATH=" + cfg.Path, "LC_ALL=C.UTF-8"}
	if gnupgHome != "" {
		cmd.Env = append(cmd.Env, "GNUPGHOME="+gnupgHome)
	}
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		last := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		return stdout.String(), backend.Errorf(backend.FailedPrecondition, "pwsync: run", filepath.Base(prog), "%v: %s", err, last)
	}
	return stdout.String(), nil
}

// lookPath finds prog in the directories of path (not the process's PATH).
func lookPath(prog, path string) (string, error) {
	if strings.Contains(prog, "/") {
		if _, err := os.Stat(prog); err != nil {
			return "", err
		}
		return prog, nil
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}
