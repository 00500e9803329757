package pwsync_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/pwsync"
)

// sample is a record as syncpasswords writes it (attribute order varies,
// virtual attributes are base64, long lines are folded).
const sample = `dn: CN=Ann Lee,CN=Users,DC=ad,DC=e365,DC=test
objectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7
sAMAccountName: ann
# a comment
userPrincipalName: ann@ad.e365.test
pwdLastSet: 134408932079248360
userAccountControl: 512
msDS-KeyVersionNumber: 3
virtualClearTextUTF8:: UmVzZXQtQW5
 uMiF4

`

func TestParseLDIF(t *testing.T) {
	c, err := pwsync.ParseLDIF(strings.NewReader(sample))
	require.NoError(t, err)
	assert.Equal(t, "CN=Ann Lee,CN=Users,DC=ad,DC=e365,DC=test", c.DN)
	assert.Equal(t, "d36e8b4b-a393-49b2-b050-bf63a785e0c7", c.ID.String())
	assert.Equal(t, "ann", c.SAMAccountName)
	assert.Equal(t, "ann@ad.e365.test", c.UserPrincipalName)
	assert.Equal(t, 512, c.UserAccountControl)
	assert.False(t, c.Disabled())
	assert.Equal(t, 3, c.KeyVersion)
	assert.Equal(t, "Reset-Ann2!x", c.Password.Reveal())
	assert.Equal(t, time.Date(2026, 12, 4, 21, 26, 47, 924836000, time.UTC), c.PasswordLastSet)
	assert.False(t, c.Deleted)

	deleted, err := pwsync.ParseLDIF(strings.NewReader("dn: CN=x\\0ADEL:1,CN=Deleted Objects,DC=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\nisDeleted: TRUE\n"))
	require.NoError(t, err)
	assert.True(t, deleted.Deleted)
	assert.True(t, deleted.Password.IsZero())

	disabled, err := pwsync.ParseLDIF(strings.NewReader(strings.Replace(sample, "userAccountControl: 512", "userAccountControl: 514", 1)))
	require.NoError(t, err)
	assert.True(t, disabled.Disabled())
}

func TestThePasswordNeverPrints(t *testing.T) {
	c, err := pwsync.ParseLDIF(strings.NewReader(sample))
	require.NoError(t, err)
	const pw = "Reset-Ann2!x"
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("change", "change", c, "password", c.Password)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("change", "change", c, "password", c.Password)
	js, err := json.Marshal(c)
	require.NoError(t, err)
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c.Password, c.Password, c.Password),
		logs.String(), string(js),
	} {
		assert.NotContains(t, s, pw)
		assert.NotContains(t, s, "UmVzZXQtQW5")
	}
	assert.Contains(t, fmt.Sprintf("%+v", c), "[redacted]")
}

func TestParseLDIFErrorsNameNoValue(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "\n\n", "empty"},
		{"no guid", "dn: CN=x\nvirtualClearTextUTF8:: U2VjcmV0LTEyMyE=\n", "objectGUID"},
		{"bad base64", "dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\nvirtualClearTextUTF8:: Secret-123!?\n", "line 3: virtualClearTextUTF8 is not valid base64"},
		{"bad number", "dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\nmsDS-KeyVersionNumber: Secret-123!\n", "line 3: msDS-KeyVersionNumber is not a number"},
		{"two records", sample + "dn: CN=y\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\n", "more than one record"},
		{"not an attribute", "dn: CN=x\nSecret-123!\n", "line 2: not an attribute line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pwsync.ParseLDIF(strings.NewReader(tc.in))
			require.ErrorIs(t, err, backend.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "Secret-123")
			assert.Contains(t, []backend.Reason{pwsync.ReasonLDIFSyntax}, backend.ReasonOf(err))
		})
	}
	_, err := pwsync.ParseLDIF(strings.NewReader("dn: x\n" + strings.Repeat("a", pwsync.MaxRecordSize)))
	assert.Equal(t, pwsync.ReasonLDIFTooLarge, backend.ReasonOf(err))
}
