package pwsync

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

// Problem is one thing missing for password sync.
type Problem struct {
	Reason backend.Reason
	// Msg says what is wrong and what to do.
	Msg string
	// Fixable problems are fixed by Setup; the others need the
	// administrator (install a package, upgrade Samba).
	Fixable bool
}

// Diagnosis is what Diagnose found.
type Diagnosis struct {
	SambaVersion string
	// KeyID is the 64-bit id of the agent's key ("" when none yet), and
	// OptionValue the value of the smb.conf option.
	KeyID       string
	OptionValue string
	Paths       Paths
	Problems    []Problem
}

// OK reports whether nothing is missing.
func (d Diagnosis) OK() bool { return len(d.Problems) == 0 }

// Err returns nil when nothing is missing, else a FailedPrecondition error
// listing every problem (the reason of the first).
func (d Diagnosis) Err() error {
	if d.OK() {
		return nil
	}
	msgs := make([]string, len(d.Problems))
	for i, p := range d.Problems {
		msgs[i] = p.Msg
	}
	return &backend.Error{Kind: backend.FailedPrecondition, Op: "pwsync: diagnose", Reason: d.Problems[0].Reason, Msg: strings.Join(msgs, "; ")}
}

func (d *Diagnosis) add(r backend.Reason, fixable bool, format string, args ...any) {
	d.Problems = append(d.Problems, Problem{Reason: r, Fixable: fixable, Msg: fmt.Sprintf(format, args...)})
}

// Diagnose checks, without changing anything, what password sync needs on
// this domain controller: Samba 4.12 or later built with gpgme, the gpg
// module of samba-tool's Python, gpg, the agent's keys, the smb.conf
// option and the syncpasswords cache.
func Diagnose(ctx context.Context, cfg SetupConfig) (Diagnosis, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Diagnosis{}, err
	}
	d := Diagnosis{Paths: PathsOf(cfg.Dir)}
	d.checkSamba(ctx, cfg)
	if _, err := lookPath(cfg.GPG, cfg.Path); err != nil {
		d.add(ReasonGPGMissing, false, "gpg is not installed (Debian: apt-get install gpg)")
	} else if fpr, keyID, enc, err := secretKey(ctx, cfg); err != nil || fpr == "" || !enc {
		d.add(ReasonKeyMissing, true, "the agent has no secret key with an encryption subkey in %s (run setup)", d.Paths.SecretKeyring)
	} else {
		d.KeyID = keyID
		if ok, _ := hasPublicKey(ctx, cfg, d.Paths.PublicKeyring, fpr); !ok {
			d.add(ReasonKeyMissing, true, "the public-only keyring for samba (%s) lacks the agent's key (run setup)", d.Paths.PublicKeyring)
		}
	}
	d.OptionValue, _ = testparm(ctx, cfg, OptionGPGKeyIDs)
	switch {
	case d.OptionValue == "":
		d.add(ReasonOptionNotSet, true, "smb.conf does not set %q: Samba keeps no recoverable password (run setup, then restart samba; set it on every domain controller)", OptionGPGKeyIDs)
	case d.KeyID != "" && !optionHasKey(d.OptionValue, d.KeyID):
		d.add(ReasonOptionForeign, false, "smb.conf sets %q to %s, which does not name the agent's key %s: add it to the list yourself", OptionGPGKeyIDs, d.OptionValue, d.KeyID)
	}
	if d.OptionValue != "" {
		d.checkRunningSamba(ctx, cfg)
	}
	if _, err := os.Stat(d.Paths.CacheLDB); err != nil {
		d.add(ReasonCacheMissing, true, "the syncpasswords cache %s is not initialised (run setup)", d.Paths.CacheLDB)
	}
	return d, nil
}

// checkRunningSamba reads the environment of the running samba (Linux
// /proc) for GNUPGHOME: without the keyring every password change fails.
// Samba may overwrite that memory with its process title; then nothing can
// be told and nothing is reported.
func (d *Diagnosis) checkRunningSamba(ctx context.Context, cfg SetupConfig) {
	pidDir, err := testparm(ctx, cfg, "pid directory")
	if err != nil || pidDir == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(pidDir, "samba.pid"))
	if err != nil {
		return
	}
	pid := strings.TrimSpace(string(b))
	env, err := os.ReadFile(filepath.Join("/proc", pid, "environ"))
	if err != nil {
		return // not running, or not Linux
	}
	home, vars := "", 0
	for _, kv := range bytes.Split(env, []byte{0}) {
		if bytes.IndexByte(kv, '=') > 0 {
			vars++
		}
		if v, ok := bytes.CutPrefix(kv, []byte("GNUPGHOME=")); ok {
			home = string(v)
		}
	}
	if vars == 0 {
		return // samba overwrote its environment with its process title: unknown
	}
	if filepath.Clean(home) != filepath.Clean(d.Paths.PublicKeyring) {
		d.add(ReasonSambaWithoutKeyring, false, "samba (pid %s) runs with GNUPGHOME=%q, not the public keyring %s: password changes fail until samba is restarted with GNUPGHOME=%s",
			pid, home, d.Paths.PublicKeyring, d.Paths.PublicKeyring)
	}
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)(\.\d+)?`)

func (d *Diagnosis) checkSamba(ctx context.Context, cfg SetupConfig) {
	out, err := run(ctx, cfg, "", cfg.Samba, "--version")
	if err != nil {
		d.add(ReasonSambaMissing, false, "samba is not installed or does not run (%v)", err)
		return
	}
	d.SambaVersion = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "Version "))
	if m := versionRE.FindStringSubmatch(d.SambaVersion); m != nil {
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		if major < 4 || major == 4 && minor < 12 {
			d.add(ReasonSambaTooOld, false, "Samba %s cannot run a password sync script (needs 4.12 or later)", d.SambaVersion)
		}
	}
	if build, err := run(ctx, cfg, "", cfg.Samba, "-b"); err == nil {
		if dir := buildValue(build, "MODULESDIR"); dir != "" {
			mod := filepath.Join(dir, "ldb", "password_hash.so")
			if b, err := os.ReadFile(mod); err == nil && !bytes.Contains(b, []byte("gpgme_op_encrypt")) {
				d.add(ReasonNoGPGME, false, "this Samba was built without gpgme (%s does not use it): it cannot keep passwords for sync; install a Samba built --with-gpgme", mod)
			}
		}
	}
	tool, err := lookPath(cfg.SambaTool, cfg.Path)
	if err != nil {
		d.add(ReasonSambaMissing, false, "samba-tool is not installed")
		return
	}
	py := "python3"
	if f, err := os.Open(tool); err == nil {
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "#!"); ok {
			if fields := strings.Fields(s); len(fields) > 0 {
				py = fields[0]
				if filepath.Base(py) == "env" && len(fields) > 1 {
					py = fields[1]
				}
			}
		}
	}
	if _, err := run(ctx, cfg, "", py, "-c", "import gpg"); err != nil {
		d.add(ReasonNoPythonGPG, false, "samba-tool's Python (%s) has no gpg module: install python3-gpg", py)
	}
}

func buildValue(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func optionHasKey(value, keyID string) bool {
	for _, f := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' }) {
		f = strings.TrimPrefix(strings.ToUpper(f), "0X")
		if f == keyID || strings.HasSuffix(f, keyID) {
			return true
		}
	}
	return false
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

	fpr, keyID, enc, err := secretKey(ctx, cfg)
	if err != nil {
		return res, backend.WithOp(err, op, res.SecretKeyring)
	}
	if fpr == "" {
		if _, err := run(ctx, cfg, res.SecretKeyring, cfg.GPG, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
			"--quick-gen-key", cfg.KeyUID, "rsa3072", "sign,cert", "never"); err != nil {
			return res, backend.WithOp(err, op, res.SecretKeyring)
		}
		did("generated the key %q", cfg.KeyUID)
		if fpr, keyID, enc, err = secretKey(ctx, cfg); err != nil || fpr == "" {
			return res, backend.Errorf(backend.FailedPrecondition, op, res.SecretKeyring, "gpg generated no key (%v)", err)
		}
	}
	if !enc {
		if _, err := run(ctx, cfg, res.SecretKeyring, cfg.GPG, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
			"--quick-add-key", fpr, "rsa3072", "encr", "never"); err != nil {
			return res, backend.WithOp(err, op, res.SecretKeyring)
		}
		did("added an encryption subkey to %s", keyID)
	}
	res.KeyID, res.Fingerprint = keyID, fpr

	if ok, err := hasPublicKey(ctx, cfg, res.PublicKeyring, fpr); err != nil {
		return res, backend.WithOp(err, op, res.PublicKeyring)
	} else if !ok || !enc {
		pub, err := run(ctx, cfg, res.SecretKeyring, cfg.GPG, "--batch", "--armor", "--export", fpr)
		if err != nil {
			return res, backend.WithOp(err, op, res.SecretKeyring)
		}
		if _, err := runIn(ctx, cfg, res.PublicKeyring, strings.NewReader(pub), cfg.GPG, "--batch", "--import"); err != nil {
			return res, backend.WithOp(err, op, res.PublicKeyring)
		}
		did("imported the public key into %s", res.PublicKeyring)
	}
	if out, _ := run(ctx, cfg, res.PublicKeyring, cfg.GPG, "--batch", "--with-colons", "--list-secret-keys"); strings.Contains(out, "sec:") {
		return res, backend.Errorf(backend.FailedPrecondition, op, res.PublicKeyring, "the keyring for samba holds a secret key: it must hold the public key only; empty it and run setup again")
	}

	if err := writeIfChanged(res.Hook, []byte(HookScript), 0o700); err != nil {
		return res, backend.Wrap(err, backend.PermissionDenied, op, res.Hook)
	}

	value, err := testparm(ctx, cfg, OptionGPGKeyIDs)
	if err != nil {
		return res, backend.WithOp(err, op, cfg.SMBConf)
	}
	switch {
	case value == "":
		if err := addGlobalOption(cfg.SMBConf, OptionGPGKeyIDs, keyID); err != nil {
			return res, backend.WithOp(err, op, cfg.SMBConf)
		}
		did("set %q = %s in %s", OptionGPGKeyIDs, keyID, cfg.SMBConf)
		res.RestartSamba = true
	case !optionHasKey(value, keyID):
		return res, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: cfg.SMBConf, Reason: ReasonOptionForeign,
			Msg: fmt.Sprintf("smb.conf sets %q to %s, which does not name the agent's key %s; add it to the list yourself (Setup does not change a value it did not write)",
				OptionGPGKeyIDs, value, keyID)}
	}

	if _, err := os.Stat(res.CacheLDB); errors.Is(err, os.ErrNotExist) {
		args := []string{"user", "syncpasswords", "--cache-ldb-initialize", "--cache-ldb=" + res.CacheLDB,
			"--decrypt-samba-gpg", "--script=" + res.Hook, "--attributes=" + Attributes, "-s", cfg.SMBConf}
		if _, err := run(ctx, cfg, res.SecretKeyring, cfg.SambaTool, args...); err != nil {
			_ = os.Remove(res.CacheLDB)
			return res, backend.WithOp(err, op, res.CacheLDB)
		}
		did("initialised the syncpasswords cache %s", res.CacheLDB)
	}
	return res, nil
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
