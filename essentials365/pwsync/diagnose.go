package pwsync

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

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
