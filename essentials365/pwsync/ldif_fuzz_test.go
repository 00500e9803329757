package pwsync_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/pwsync"
)

// checkLDIFError asserts the shape every ParseLDIF error has: an
// InvalidArgument *backend.Error with one of the package's reasons.
func checkLDIFError(t *testing.T, err error) {
	t.Helper()
	var be *backend.Error
	if !errors.As(err, &be) {
		t.Fatalf("error is not a *backend.Error: %T %v", err, err)
	}
	if backend.KindOf(err) != backend.InvalidArgument {
		t.Fatalf("kind %v, want invalid argument: %v", backend.KindOf(err), err)
	}
	if r := backend.ReasonOf(err); r != pwsync.ReasonLDIFSyntax && r != pwsync.ReasonLDIFTooLarge {
		t.Fatalf("reason %q is not one of the package's: %v", r, err)
	}
}

var ldifSeeds = []string{
	sample,
	"dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\n",
	"dn: CN=x\r\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\r\n\r\n",
	"dn:: Q049w6l0w6ksREM9eA==\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\n",
	"# only a comment\n continued comment\n",
	" leading continuation\n",
	"dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\nobjectGUID: 00000000-0000-0000-0000-000000000001\n",
	"dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\nvirtualClearTextUTF8:: /w==\n",
	"dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\nuserAccountControl: 4294967810\n",
	"dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\npwdLastSet: 9223372036854775806\n",
	"dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\nvirtualClearTextUTF8:< file:///etc/shadow\n",
	"dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\nvirtualClearTextUTF8: Pa\nss:word\n",
	"dn: CN=x\n\ndn: CN=y\n",
	"\x00\xff\xfe:\n",
}

// FuzzParseLDIF feeds arbitrary bytes to the hook's parser: it never
// panics, errors have the package's shape, and a record it accepts has a
// dn, and UTF-8 strings.
func FuzzParseLDIF(f *testing.F) {
	for _, s := range ldifSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := pwsync.ParseLDIF(bytes.NewReader(data))
		if err != nil {
			checkLDIFError(t, err)
			return
		}
		if c.DN == "" {
			t.Fatal("accepted a record without a dn")
		}
		for _, s := range []string{c.DN, c.SAMAccountName, c.UserPrincipalName, c.Password.Reveal()} {
			if !utf8.ValidString(s) {
				t.Fatalf("accepted a value that is not UTF-8: %q", s)
			}
		}
	})
}

// FuzzParseLDIFSecret places a password line (base64 or plain, possibly
// folded at any point) among arbitrary lines: the password never appears
// in an error, and when the record is accepted it carries exactly that
// password.
func FuzzParseLDIFSecret(f *testing.F) {
	f.Add("dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\n", "Secret-123!", true, 3)
	f.Add("dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\nmsDS-KeyVersionNumber: x\n", "Pa:ss:word", false, 5)
	f.Add("dn: CN=x\n", "Zz9-long-Secret", true, 0)
	f.Add("objectGUID: nope\ndn: CN=x\n", "héllo-wörld-1", true, 7)
	f.Add("dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\n", "abcd::efgh", false, 2)
	f.Fuzz(func(t *testing.T, head, pw string, b64 bool, fold int) {
		if len(pw) < 6 || strings.ContainsAny(pw, "\r\n") || strings.Contains(head, pw) {
			t.Skip()
		}
		val := pw
		line := "virtualClearTextUTF8: " + pw
		if b64 {
			val = base64.StdEncoding.EncodeToString([]byte(pw))
			line = "virtualClearTextUTF8:: " + val
		}
		if fold > 0 && fold < len(line) {
			line = line[:fold] + "\n " + line[fold:]
		}
		in := head
		if in != "" && !strings.HasSuffix(in, "\n") {
			in += "\n"
		}
		in += line + "\n"
		c, err := pwsync.ParseLDIF(strings.NewReader(in))
		if err != nil {
			checkLDIFError(t, err)
			msg := err.Error()
			if strings.Contains(msg, pw) || (len(val) >= 6 && strings.Contains(msg, val)) {
				t.Fatalf("the error shows the password: %v", err)
			}
			// No piece of the password of 6 bytes or more either.
			for i := 0; i+6 <= len(pw); i++ {
				if strings.Contains(msg, pw[i:i+6]) && !strings.Contains(head, pw[i:i+6]) && !strings.Contains("virtualClearTextUTF8", pw[i:i+6]) {
					t.Fatalf("the error shows part of the password (%q): %v", pw[i:i+6], err)
				}
			}
			return
		}
		if got := c.Password.Reveal(); got != strings.TrimLeft(pw, " ") && !(b64 && got == pw) {
			t.Fatalf("password %q, want %q", got, pw)
		}
	})
}

// TestParseLDIFHostile pins the cases the fuzzing found: a duplicated
// attribute, a password that is not UTF-8, an out-of-range flags word, a
// far-future pwdLastSet, and a wrongly folded password line whose piece
// would have been printed as an attribute name.
func TestParseLDIFHostile(t *testing.T) {
	const head = "dn: CN=x\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\n"
	for _, tc := range []struct{ name, in, want string }{
		{"two guids", head + "objectGUID: 00000000-0000-0000-0000-000000000001\n", "line 3: objectGUID appears more than once"},
		{"two passwords", head + "virtualClearTextUTF8:: U2VjcmV0LTEyMyE=\nvirtualClearTextUTF8:: U2VjcmV0LTEyMyE=\n", "line 4: virtualClearTextUTF8 appears more than once"},
		{"password not utf-8", head + "virtualClearTextUTF8:: U2VjcmV0LTEyMyH/\n", "line 3: virtualClearTextUTF8 is not UTF-8 text"},
		{"uac too large", head + "userAccountControl: 4294967810\n", "line 3: userAccountControl is not a 32-bit number"},
		{"misfolded password", head + "virtualClearTextUTF8: Pa\nSecret-123!::xx\n", "line 4: not an attribute line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pwsync.ParseLDIF(strings.NewReader(tc.in))
			checkLDIFError(t, err)
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "Secret-123") {
				t.Fatalf("error %q, want it to contain %q and no password", err, tc.want)
			}
		})
	}
	c, err := pwsync.ParseLDIF(strings.NewReader(head + "pwdLastSet: 9223372036854775806\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.PasswordLastSet.Year() != 30828 {
		t.Fatalf("pwdLastSet far in the future gave %v (overflow)", c.PasswordLastSet)
	}
	big := "dn: " + strings.Repeat("A", 70000) + "\nobjectGUID: d36e8b4b-a393-49b2-b050-bf63a785e0c7\n"
	if c, err := pwsync.ParseLDIF(strings.NewReader(big)); err != nil || len(c.DN) != 70004-4 {
		t.Fatalf("a 70 kB line: %v (dn %d bytes)", err, len(c.DN))
	}
}
