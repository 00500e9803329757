package sambatest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that records Skip and Fatal instead of stopping.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()           {}
func (r *recorder) Skip(args ...any)  { r.skipped = args[0].(string) }
func (r *recorder) Fatal(args ...any) { r.failed = args[0].(string) }

func TestSettings(t *testing.T) {
	full := map[string]string{
		EnvURL: "ldaps://127.0.0.1:636", EnvUser: "CN=Administrator,CN=Users,DC=x", EnvPassword: "pw",
		EnvBaseDN: "DC=x", EnvCAFile: "ca.pem",
	}
	tests := []struct {
		name    string
		unset   string
		require string
		want    string // "ok", "skip" or "fail"
	}{
		{"all set", "", "", "ok"},
		{"one missing", EnvCAFile, "", "skip"},
		{"one missing, required", EnvPassword, "1", "fail"},
		{"all set, required", "", "1", "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range full {
				if k == tc.unset {
					v = ""
				}
				t.Setenv(k, v)
			}
			t.Setenv(EnvRequire, tc.require)
			r := &recorder{TB: t}
			got := Settings(r)
			switch tc.want {
			case "ok":
				assert.Empty(t, r.skipped)
				assert.Empty(t, r.failed)
				assert.Equal(t, DC{URL: full[EnvURL], User: full[EnvUser], Password: "pw", BaseDN: "DC=x", CAFile: "ca.pem"}, got)
			case "skip":
				assert.Contains(t, r.skipped, SkipMessage)
				assert.Contains(t, r.skipped, tc.unset)
				assert.Empty(t, r.failed)
			case "fail":
				assert.Contains(t, r.failed, SkipMessage)
				assert.Contains(t, r.failed, EnvRequire)
				assert.Empty(t, r.skipped)
			}
		})
	}
}
