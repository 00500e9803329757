package adldap

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

// testEntry encodes the content of a SearchResultEntry.
func testEntry(dn string, attrs map[string][]string) []byte {
	var list []byte
	for name, vals := range attrs {
		var set []byte
		for _, v := range vals {
			set = appendTLV(set, tagOctetString, []byte(v))
		}
		list = appendTLV(list, tagSequence, appendTLV(nil, tagOctetString, []byte(name)), appendTLV(nil, tagSet, set))
	}
	return append(appendTLV(nil, tagOctetString, []byte(dn)), appendTLV(nil, tagSequence, list)...)
}

func TestEntryUser(t *testing.T) {
	d := &Directory{s: &settings{mapping: DefaultMappingAttribute}}
	entryUser := func(entry []byte) (backend.DirectoryUser, error) {
		a, err := d.entryAttrs(entry)
		if err != nil {
			return backend.DirectoryUser{}, err
		}
		return a.user()
	}
	guid := backend.NewGUID()
	attrs := map[string][]string{
		"objectGUID":                    {string(guid[:])},
		"sAMAccountName":                {"ann"},
		"userPrincipalName":             {"ann@contoso.local"},
		"displayName":                   {"Ann " + strings.Repeat("Lee", 60)}, // long-form lengths
		"givenName":                     {"Ann"},
		"sn":                            {"Lee"},
		"mail":                          {"ann@contoso.com"},
		"userAccountControl":            {"514"},
		"pwdLastSet":                    {"134397609499807050"},
		"msDS-cloudExtensionAttribute1": {"e365:1;id=x"},
		"description":                   {"ignored"},
		"otherEmpty":                    {},
	}
	got, err := entryUser(testEntry("CN=Ann,CN=Users,DC=contoso,DC=local", attrs))
	require.NoError(t, err)

	// The go-ldap path gives the same user.
	e := ldap.NewEntry("CN=Ann,CN=Users,DC=contoso,DC=local", map[string][]string{})
	for name, vals := range attrs {
		e.Attributes = append(e.Attributes, ldap.NewEntryAttribute(name, vals))
	}
	want, err := d.toUser(e)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, guid, got.ID)
	assert.False(t, got.Enabled)
	assert.Equal(t, "e365:1;id=x", got.OnlineAccount)
	assert.False(t, got.PasswordLastSet.IsZero())

	t.Run("attribute names in any case", func(t *testing.T) {
		u, err := entryUser(testEntry("CN=Ann", map[string][]string{"objectguid": {string(guid[:])}, "SAMACCOUNTNAME": {"ann"}}))
		require.NoError(t, err)
		assert.Equal(t, "ann", u.SAMAccountName)
	})
	t.Run("must change", func(t *testing.T) {
		attrs["pwdLastSet"] = []string{"0"}
		u, err := entryUser(testEntry("CN=Ann", attrs))
		require.NoError(t, err)
		assert.True(t, u.MustChangePassword)
	})
	t.Run("no objectGUID", func(t *testing.T) {
		delete(attrs, "objectGUID")
		_, err := entryUser(testEntry("CN=Ann", attrs))
		assert.Error(t, err)
	})
	t.Run("truncated anywhere", func(t *testing.T) {
		full := testEntry("CN=Ann", map[string][]string{"sAMAccountName": {"ann"}, "displayName": {strings.Repeat("x", 300)}})
		for i := range full {
			_, err := entryUser(full[:i])
			assert.Error(t, err, "cut at %d", i)
		}
	})
}

func TestReadMessage(t *testing.T) {
	small := appendTLV(nil, tagSequence, appendTLV(nil, tagInteger, berInt(7)))
	large := appendTLV(nil, tagSequence, appendTLV(nil, tagOctetString, bytes.Repeat([]byte("a"), 70000)))
	r := bufio.NewReader(bytes.NewReader(append(append([]byte(nil), small...), large...)))
	var buf []byte
	msg, buf, err := readMessage(r, buf)
	require.NoError(t, err)
	id, _, err := expect(msg, tagInteger)
	require.NoError(t, err)
	n, err := parseInt(id)
	require.NoError(t, err)
	assert.Equal(t, int64(7), n)
	msg, _, err = readMessage(r, buf)
	require.NoError(t, err)
	v, _, err := expect(msg, tagOctetString)
	require.NoError(t, err)
	assert.Len(t, v, 70000)
	_, _, err = readMessage(r, nil)
	assert.Error(t, err, "end of stream")

	for i := 1; i < len(small); i++ {
		_, _, err := readMessage(bufio.NewReader(bytes.NewReader(small[:i])), nil)
		assert.True(t, errors.Is(err, errMalformed) || errors.Is(err, io.ErrUnexpectedEOF), "cut at %d: %v", i, err)
	}
	_, _, err = readMessage(bufio.NewReader(bytes.NewReader([]byte{0x04, 0x00})), nil)
	assert.ErrorIs(t, err, errMalformed, "not a SEQUENCE")
}

func TestBerInt(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 65535, 1 << 31} {
		got, err := parseInt(berInt(v))
		require.NoError(t, err)
		assert.Equal(t, v, got)
	}
	assert.Equal(t, int64(-1), must(parseInt([]byte{0xff})))
	assert.Equal(t, int64(-9), parseDecimal([]byte("-9")))
	assert.Equal(t, int64(0), parseDecimal([]byte("12x")))
	assert.True(t, equalFoldASCII([]byte("SAMAccountName"), "sAMAccountName"))
	assert.False(t, equalFoldASCII([]byte("sAMAccountNam"), "sAMAccountName"))
	assert.False(t, equalFoldASCII([]byte("["), "{"), "only letters fold")
}

func must(v int64, err error) int64 {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPagingCookie(t *testing.T) {
	p := ldap.NewControlPaging(500)
	p.SetCookie([]byte("next-page"))
	cookie, err := pagingCookie(p.Encode().Bytes())
	require.NoError(t, err)
	assert.Equal(t, []byte("next-page"), cookie)
	other := ldap.NewControlString("1.2.3", true, "x").Encode().Bytes()
	cookie, err = pagingCookie(append(other, p.Encode().Bytes()...))
	require.NoError(t, err)
	assert.Equal(t, []byte("next-page"), cookie, "found after another control")
	cookie, err = pagingCookie(other)
	require.NoError(t, err)
	assert.Empty(t, cookie)
}

func TestLDAPResult(t *testing.T) {
	res := appendTLV(nil, tagEnumerated, berInt(49))
	res = appendTLV(res, tagOctetString, nil)
	res = appendTLV(res, tagOctetString, []byte("80090308: LdapErr: AcceptSecurityContext error, data 52e, v1db1"))
	err := ldapResult(res)
	var le *ldap.Error
	require.ErrorAs(t, err, &le)
	assert.Equal(t, uint16(49), le.ResultCode)
	assert.Equal(t, backend.ReasonInvalidCredentials, backend.ReasonOf(classify(t.Context(), err, "op", "")))
	assert.NoError(t, ldapResult(append(appendTLV(nil, tagEnumerated, berInt(0)), 4, 0, 4, 0)))
}
