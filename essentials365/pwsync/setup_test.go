//go:build unix

package pwsync_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/pwsync"
)

// fakeSamba writes stand-ins for samba, samba-tool and samba-tool's Python
// into a bin directory: samba reports version and build (its
// password_hash module with or without gpgme), samba-tool answers testparm
// from the smb.conf and initialises a cache by creating it, and its Python
// has the gpg module or not.
type fakeSamba struct {
	version    string
	gpgme      bool
	pythonGPG  bool
	realGPG    bool // link the real gpg into the bin directory
	bin, conf  string
	dir        string
	cacheInits string // a file counting cache initialisations
}

func (f *fakeSamba) write(t *testing.T) pwsync.SetupConfig {
	t.Helper()
	root := shortDir(t)
	f.bin, f.dir = filepath.Join(root, "bin"), filepath.Join(root, "agent")
	f.conf = filepath.Join(root, "smb.conf")
	f.cacheInits = filepath.Join(root, "cache-inits")
	mods := filepath.Join(root, "modules", "ldb")
	require.NoError(t, os.MkdirAll(f.bin, 0o755))
	require.NoError(t, os.MkdirAll(mods, 0o755))
	module := "ELF ... ldb_module password_hash"
	if f.gpgme {
		module += " gpgme_new gpgme_op_encrypt"
	}
	require.NoError(t, os.WriteFile(filepath.Join(mods, "password_hash.so"), []byte(module), 0o644))
	require.NoError(t, os.WriteFile(f.conf, []byte("# test\n[global]\n\tnetbios name = DC1\n\trealm = AD.E365.TEST\n\n[netlogon]\n\tpath = /srv/netlogon\n"), 0o644))
	script := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(f.bin, name), []byte(body), 0o755))
	}
	script("samba", "#!/bin/sh\ncase \"$1\" in\n--version) echo 'Version "+f.version+"' ;;\n-b) echo 'Paths:'; echo '   MODULESDIR: "+filepath.Dir(mods)+"' ;;\nesac\n")
	gpgOK := "1"
	if f.pythonGPG {
		gpgOK = "0"
	}
	script("python3", "#!/bin/sh\nif [ \"$1\" = -c ]; then exit "+gpgOK+"; fi\nexec /bin/sh \"$@\"\n")
	script("samba-tool", "#!"+filepath.Join(f.bin, "python3")+`
case "$1" in
testparm)
	name=${4#--parameter-name=}
	sed -n "s/^[[:space:]]*$name[[:space:]]*=[[:space:]]*//p" "$3" ;;
user)
	for a; do case $a in --cache-ldb=*) touch "${a#--cache-ldb=}"; echo x >> "`+f.cacheInits+`" ;; esac; done ;;
esac
`)
	if f.realGPG {
		for _, p := range []string{"gpg", "gpgconf", "gpg-agent"} {
			if real, err := exec.LookPath(p); err == nil {
				require.NoError(t, os.Symlink(real, filepath.Join(f.bin, p)))
			}
		}
	}
	path := f.bin
	if f.realGPG {
		path += ":/usr/bin:/bin" // sed, and the programs gpg runs
	}
	return pwsync.SetupConfig{SMBConf: f.conf, Dir: f.dir, Path: path}
}

func reasons(d pwsync.Diagnosis) []backend.Reason {
	var out []backend.Reason
	for _, p := range d.Problems {
		out = append(out, p.Reason)
	}
	return out
}

func TestDiagnoseNamesWhatIsMissing(t *testing.T) {
	f := &fakeSamba{version: "4.11.17-Debian", gpgme: false, pythonGPG: false}
	cfg := f.write(t)
	d, err := pwsync.Diagnose(t.Context(), cfg)
	require.NoError(t, err)
	assert.Equal(t, "4.11.17-Debian", d.SambaVersion)
	assert.ElementsMatch(t, []backend.Reason{
		pwsync.ReasonSambaTooOld, pwsync.ReasonNoGPGME, pwsync.ReasonNoPythonGPG, pwsync.ReasonGPGMissing,
		pwsync.ReasonOptionNotSet, pwsync.ReasonCacheMissing,
	}, reasons(d))
	err = d.Err()
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	for _, want := range []string{"needs 4.12 or later", "built without gpgme", "install python3-gpg", "gpg is not installed", `does not set "password hash gpg key ids"`} {
		assert.Contains(t, err.Error(), want)
	}

	// Setup refuses, before changing anything, what it cannot fix.
	_, err = pwsync.Setup(t.Context(), cfg)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, pwsync.ReasonSambaTooOld, backend.ReasonOf(err))
	conf, _ := os.ReadFile(f.conf)
	assert.NotContains(t, string(conf), pwsync.OptionGPGKeyIDs)
	_, statErr := os.Stat(f.dir)
	assert.True(t, os.IsNotExist(statErr), "nothing created")
}

func TestSetupIsIdempotentAndLeavesForeignValues(t *testing.T) {
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Skip("gpg is not installed")
	}
	f := &fakeSamba{version: "4.17.12-Debian", gpgme: true, pythonGPG: true, realGPG: true}
	cfg := f.write(t)
	res, err := pwsync.Setup(t.Context(), cfg)
	require.NoError(t, err)
	assert.True(t, res.RestartSamba)
	assert.Len(t, res.KeyID, 16, "a 64-bit key id (32-bit ids are refused by Samba)")
	assert.Len(t, res.Done, 5, "%q", res.Done)
	conf, err := os.ReadFile(f.conf)
	require.NoError(t, err)
	assert.Contains(t, string(conf), "[global]\n\t"+pwsync.OptionGPGKeyIDs+" = "+res.KeyID+"\n\tnetbios name = DC1\n", "added under [global], the rest kept")
	assert.Contains(t, string(conf), "[netlogon]\n\tpath = /srv/netlogon\n")
	for _, p := range []string{res.SecretKeyring, res.PublicKeyring, f.dir} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), p)
	}
	hook, err := os.ReadFile(res.Hook)
	require.NoError(t, err)
	assert.Equal(t, pwsync.HookScript, string(hook))

	// The public keyring holds the public key only.
	out, err := exec.Command("gpg", "--homedir", res.PublicKeyring, "--batch", "--with-colons", "--list-secret-keys").CombinedOutput()
	assert.NotContains(t, string(out), "sec:", "%v", err)
	out, err = exec.Command("gpg", "--homedir", res.PublicKeyring, "--batch", "--with-colons", "--list-keys").CombinedOutput()
	require.NoError(t, err)
	assert.Contains(t, string(out), res.Fingerprint)
	assert.Regexp(t, `(?m)^sub:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:e:`, string(out), "an encryption subkey")

	d, err := pwsync.Diagnose(t.Context(), cfg)
	require.NoError(t, err)
	assert.True(t, d.OK(), "%v", d.Problems)
	assert.Equal(t, res.KeyID, d.KeyID)

	again, err := pwsync.Setup(t.Context(), cfg)
	require.NoError(t, err)
	assert.Empty(t, again.Done, "nothing to do the second time")
	assert.False(t, again.RestartSamba)
	assert.Equal(t, res.KeyID, again.KeyID)
	conf2, _ := os.ReadFile(f.conf)
	assert.Equal(t, string(conf), string(conf2))
	inits, _ := os.ReadFile(f.cacheInits)
	assert.Equal(t, 1, strings.Count(string(inits), "x"), "the cache is initialised once")

	// A value Setup did not write is left alone.
	foreign := strings.Replace(string(conf), res.KeyID, "0123456789ABCDEF", 1)
	require.NoError(t, os.WriteFile(f.conf, []byte(foreign), 0o644))
	_, err = pwsync.Setup(t.Context(), cfg)
	require.ErrorIs(t, err, backend.ErrFailedPrecondition)
	assert.Equal(t, pwsync.ReasonOptionForeign, backend.ReasonOf(err))
	conf3, _ := os.ReadFile(f.conf)
	assert.Equal(t, foreign, string(conf3))
	d, err = pwsync.Diagnose(t.Context(), cfg)
	require.NoError(t, err)
	assert.Equal(t, []backend.Reason{pwsync.ReasonOptionForeign}, reasons(d))
}
