package adldap

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof that *Directory is a backend.Directory.
var _ backend.Directory = (*Directory)(nil)

// userAccountControl bits the driver reads and writes.
const (
	uacAccountDisable = 0x0002
	uacNormalAccount  = 0x0200
)

// Filters selecting user accounts. samNormalUser is sAMAccountType
// SAM_NORMAL_USER_ACCOUNT: people and service users, not computers,
// trusts or managed service accounts.
const (
	samNormalUser = "(sAMAccountType=805306368)"
	// listFilter adds the exclusion of critical system objects
	// (Administrator, Guest, krbtgt and Samba's dns-<host> account), as
	// Entra Connect's default rules do.
	listFilter = "(&" + samNormalUser + "(!(isCriticalSystemObject=TRUE)))"
)

// Directory is an Active Directory domain reached over LDAP. It
// implements [backend.Directory]; see the package documentation for TLS,
// errors and change tracking.
//
// A Directory is safe for concurrent use by multiple goroutines.
type Directory struct {
	s    *settings
	pool *pool

	// Read at Open and immutable afterwards.
	baseDN      string
	configDN    string
	usersDN     string
	dnsName     string
	netbiosName string
	attrs       []string
}

// Open connects to the domain controller, binds, and reads the naming
// contexts. The connection pool is filled lazily afterwards.
//
// Config.BaseDN, when set, must be the naming context of a domain: the
// Configuration and Schema partitions, application partitions (such as
// DomainDnsZones), OUs and unknown DNs are refused with InvalidArgument
// ([ReasonBaseDN]), since users live in the domain partition only.
func Open(ctx context.Context, cfg Config) (*Directory, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	return openSettings(ctx, s, cfg.URL)
}

func openSettings(ctx context.Context, s *settings, url string) (*Directory, error) {
	const op = backend.OpDirectoryOpen
	d := &Directory{s: s, pool: newPool(s), baseDN: s.baseDN}
	var root *ldap.Entry
	err := d.do(ctx, op, url, func(c *ldap.Conn) error {
		var err error
		root, err = readRootDSE(c)
		return err
	})
	if err != nil {
		d.pool.close()
		return nil, err
	}
	if d.baseDN == "" {
		d.baseDN = root.GetAttributeValue("defaultNamingContext")
	}
	d.configDN = root.GetAttributeValue("configurationNamingContext")
	if d.baseDN == "" || d.configDN == "" {
		d.pool.close()
		return nil, &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: url, Reason: ReasonNotActiveDirectory,
			Msg: "the server has no default or configuration naming context: not Active Directory"}
	}
	err = d.do(ctx, op, url, func(c *ldap.Conn) error { return d.readDomain(c, root) })
	if err != nil {
		d.pool.close()
		return nil, err
	}
	d.usersDN = s.usersDN
	if d.usersDN == "" {
		d.usersDN = "CN=Users," + d.baseDN
	}
	d.attrs = []string{"objectGUID", "sAMAccountName", "userPrincipalName", "displayName",
		"givenName", "sn", "mail", "userAccountControl", "pwdLastSet", s.mapping}
	s.log.Debug("adldap: opened", "base", d.baseDN, "domain", d.dnsName)
	return d, nil
}

// crossRef systemFlags bits (MS-ADTS 2.2.14).
const (
	crNTDSNC     = 0x1 // the naming context is in this forest
	crNTDSDomain = 0x2 // ... and is a domain
)

// readDomain checks that d.baseDN is a domain's naming context, by its
// crossRef in CN=Partitions, and reads the domain's names from it.
func (d *Directory) readDomain(c *ldap.Conn, root *ldap.Entry) error {
	const op = backend.OpDirectoryOpen
	res, err := c.Search(ldap.NewSearchRequest("CN=Partitions,"+d.configDN,
		ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(&(objectClass=crossRef)(nCName="+escapeFilter(d.baseDN)+"))",
		[]string{"dnsRoot", "nETBIOSName", "systemFlags", "nCName"}, nil))
	if err != nil {
		return err
	}
	what := ""
	switch {
	case strings.EqualFold(d.baseDN, d.configDN):
		what = "the Configuration partition"
	case strings.EqualFold(d.baseDN, root.GetAttributeValue("schemaNamingContext")):
		what = "the Schema partition"
	case len(res.Entries) == 0:
		what = "not the naming context of a partition (an OU, a container or a mistyped DN)"
	default:
		flags, _ := strconv.ParseInt(res.Entries[0].GetAttributeValue("systemFlags"), 10, 64)
		if flags&crNTDSNC == 0 || flags&crNTDSDomain == 0 {
			what = "an application partition, not a domain"
		}
	}
	if what != "" {
		return backend.Invalid(op, d.baseDN, ReasonBaseDN,
			"the base DN is %s: set BaseDN to the domain's naming context (%s), or leave it empty to use it",
			what, root.GetAttributeValue("defaultNamingContext"))
	}
	d.dnsName = res.Entries[0].GetAttributeValue("dnsRoot")
	d.netbiosName = res.Entries[0].GetAttributeValue("nETBIOSName")
	// Keep the server's spelling of the DN.
	if nc := res.Entries[0].GetAttributeValue("nCName"); nc != "" {
		d.baseDN = nc
	}
	return nil
}

// Close closes the pooled connections. Calls after Close fail with
// FailedPrecondition.
func (d *Directory) Close() error {
	d.pool.close()
	return nil
}

// BaseDN returns the domain's naming context.
func (d *Directory) BaseDN() string { return d.baseDN }

// MappingAttribute returns the attribute where the online account is
// recorded.
func (d *Directory) MappingAttribute() string { return d.s.mapping }

func readRootDSE(c *ldap.Conn) (*ldap.Entry, error) {
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{
			"defaultNamingContext", "configurationNamingContext", "schemaNamingContext", "dsServiceName",
			"domainFunctionality", "supportedCapabilities", "highestCommittedUSN",
		}, nil))
	if err != nil {
		return nil, err
	}
	if len(res.Entries) != 1 {
		return nil, errors.New("adldap: the rootDSE was not returned")
	}
	return res.Entries[0], nil
}

// LDAP_CAP_ACTIVE_DIRECTORY_OID and LDAP_CAP_ACTIVE_DIRECTORY_ADAM_OID.
const (
	capActiveDirectory = "1.2.840.113556.1.4.800"
	capADAM            = "1.2.840.113556.1.4.1851"
)

// Info reads the domain's facts: names from the crossRef, the functional
// level and the server's role from the rootDSE, and the number of domain
// controllers from the nTDSDSA objects under CN=Sites that hold this
// domain's naming context.
func (d *Directory) Info(ctx context.Context) (backend.DomainInfo, error) {
	const op = backend.OpDirectoryInfo
	info := backend.DomainInfo{DNSName: d.dnsName, NetBIOSName: d.netbiosName, BaseDN: d.baseDN}
	err := d.do(ctx, op, "", func(c *ldap.Conn) error {
		root, err := readRootDSE(c)
		if err != nil {
			return err
		}
		caps := root.GetAttributeValues("supportedCapabilities")
		info.ServerIsDomainController = root.GetAttributeValue("dsServiceName") != "" &&
			contains(caps, capActiveDirectory) && !contains(caps, capADAM)
		info.FunctionalLevel, _ = strconv.Atoi(root.GetAttributeValue("domainFunctionality"))
		dn := escapeFilter(d.baseDN)
		res, err := c.Search(ldap.NewSearchRequest("CN=Sites,"+d.configDN, ldap.ScopeWholeSubtree,
			ldap.NeverDerefAliases, 0, 0, false,
			"(&(objectClass=nTDSDSA)(|(msDS-HasDomainNCs="+dn+")(hasMasterNCs="+dn+")))",
			[]string{"objectGUID"}, nil))
		if err != nil {
			return err
		}
		info.DomainControllers = len(res.Entries)
		return nil
	})
	if err != nil {
		return backend.DomainInfo{}, err
	}
	return info, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// userAttrs holds the attributes of a user entry the driver reads.
type userAttrs struct {
	guid                                 []byte
	dn, sam, upn, displayName, givenName string
	surname, mail, online                string
	uac, pwdLastSet                      int64
	deleted                              bool // a tombstone (isDeleted)
}

// toUser converts a search entry.
func (d *Directory) toUser(e *ldap.Entry) (backend.DirectoryUser, error) {
	uac, _ := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64)
	pls, _ := strconv.ParseInt(e.GetAttributeValue("pwdLastSet"), 10, 64)
	return userAttrs{
		guid:        e.GetRawAttributeValue("objectGUID"),
		dn:          e.DN,
		sam:         e.GetAttributeValue("sAMAccountName"),
		upn:         e.GetAttributeValue("userPrincipalName"),
		displayName: e.GetAttributeValue("displayName"),
		givenName:   e.GetAttributeValue("givenName"),
		surname:     e.GetAttributeValue("sn"),
		mail:        e.GetAttributeValue("mail"),
		online:      e.GetAttributeValue(d.s.mapping),
		uac:         uac,
		pwdLastSet:  pls,
	}.user()
}

// user builds the DirectoryUser.
func (a userAttrs) user() (backend.DirectoryUser, error) {
	var u backend.DirectoryUser
	if len(a.guid) != len(u.ID) {
		return u, backend.Errorf(backend.Unknown, opReadUser, a.dn, "objectGUID has %d bytes, want 16", len(a.guid))
	}
	copy(u.ID[:], a.guid)
	u.DN = a.dn
	u.SAMAccountName = a.sam
	u.UserPrincipalName = a.upn
	u.DisplayName = a.displayName
	u.GivenName = a.givenName
	u.Surname = a.surname
	u.Mail = a.mail
	u.OnlineAccount = a.online
	u.Enabled = a.uac&uacAccountDisable == 0
	u.MustChangePassword = a.pwdLastSet == 0
	u.PasswordLastSet = fileTime(a.pwdLastSet)
	return u, nil
}

// fileTime converts a Windows FILETIME (100 ns since 1601) to a time;
// 0 and the "never" value give the zero time.
func fileTime(ft int64) time.Time {
	if ft <= 0 || ft == 1<<63-1 {
		return time.Time{}
	}
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	// Seconds and remainder apart: (ft-epochDiff)*100 overflows an int64
	// for dates after 2262.
	d := ft - epochDiff
	return time.Unix(d/1e7, d%1e7*100).UTC()
}

// findUser searches the domain for the one user matching filter (ANDed
// with the user-account filter).
func (d *Directory) findUser(ctx context.Context, op, key, filter string) (backend.DirectoryUser, error) {
	var u backend.DirectoryUser
	err := d.do(ctx, op, key, func(c *ldap.Conn) error {
		e, err := d.searchOne(c, op, key, "(&"+samNormalUser+filter+")")
		if err != nil {
			return err
		}
		u, err = d.toUser(e)
		return err
	})
	return u, err
}

func (d *Directory) searchOne(c *ldap.Conn, op, key, filter string) (*ldap.Entry, error) {
	res, err := c.Search(ldap.NewSearchRequest(d.baseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, 0, false, filter, d.attrs, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, err
	}
	switch {
	case res == nil || len(res.Entries) == 0:
		return nil, backend.Errorf(backend.NotFound, op, key, "no such user")
	case len(res.Entries) > 1:
		return nil, backend.Errorf(backend.FailedPrecondition, op, key, "more than one user matches")
	}
	return res.Entries[0], nil
}

// GetUser returns the user account with that objectGUID.
func (d *Directory) GetUser(ctx context.Context, id backend.GUID) (backend.DirectoryUser, error) {
	return d.findUser(ctx, backend.OpDirectoryGetUser, id.String(), guidFilter(id))
}

// GetUserBySAMAccountName finds a user account by sAMAccountName.
func (d *Directory) GetUserBySAMAccountName(ctx context.Context, sam string) (backend.DirectoryUser, error) {
	const op = backend.OpDirectoryGetUserBySAM
	if err := backend.CheckName(op, sam, "a sAMAccountName", sam); err != nil {
		return backend.DirectoryUser{}, err
	}
	if sam == "" {
		return backend.DirectoryUser{}, backend.Errorf(backend.NotFound, op, sam, "no such user")
	}
	return d.findUser(ctx, op, sam, "(sAMAccountName="+escapeFilter(sam)+")")
}

// GetUserByUPN finds a user account by userPrincipalName.
func (d *Directory) GetUserByUPN(ctx context.Context, upn string) (backend.DirectoryUser, error) {
	const op = backend.OpDirectoryGetUserByUPN
	if err := backend.CheckName(op, upn, "a userPrincipalName", upn); err != nil {
		return backend.DirectoryUser{}, err
	}
	if upn == "" {
		return backend.DirectoryUser{}, backend.Errorf(backend.NotFound, op, upn, "no such user")
	}
	return d.findUser(ctx, op, upn, "(userPrincipalName="+escapeFilter(upn)+")")
}

// checkNewUser applies the rules AD enforces on a new user's names before
// any I/O, so that the errors name the rule.
func checkNewUser(op string, u backend.NewDirectoryUser) error {
	sam := u.SAMAccountName
	if err := backend.CheckSAMAccountName(op, sam); err != nil {
		return err
	}
	for _, f := range []struct{ what, v string }{
		{"a userPrincipalName", u.UserPrincipalName},
		{"the display name", u.DisplayName},
		{"the given name", u.GivenName},
		{"the surname", u.Surname},
		{"the online account value", u.OnlineAccount},
	} {
		if err := backend.CheckName(op, sam, f.what, f.v); err != nil {
			return err
		}
	}
	if upn := u.UserPrincipalName; upn != "" {
		local, suffix, ok := strings.Cut(upn, "@")
		if !ok || local == "" || suffix == "" || strings.Contains(suffix, "@") {
			return backend.Invalid(op, upn, backend.ReasonUPNSyntax, "a userPrincipalName reads name@suffix")
		}
		for _, r := range upn {
			if unicode.IsSpace(r) {
				return backend.Invalid(op, upn, backend.ReasonUPNCharacters, "a userPrincipalName cannot hold %q", r)
			}
		}
	}
	cn := u.DisplayName
	if cn == "" {
		cn = sam
	}
	if utf8.RuneCountInString(cn) > backend.MaxCN {
		return backend.Invalid(op, sam, backend.ReasonCNLength, "the common name (display name) is longer than %d characters", backend.MaxCN)
	}
	return nil
}

// opReadUser is the Op of an entry the driver cannot decode.
const opReadUser = "directory: read user"

// CreateUser adds the user in UsersDN, named (CN) after its display name or
// else its sAMAccountName, with its password (the quoted UTF-16LE
// unicodePwd, so over TLS only), userAccountControl NORMAL_ACCOUNT (plus
// ACCOUNTDISABLE when u.Disabled) and pwdLastSet 0 when the password must
// change. The sAMAccountName and UPN are checked to be free first. When
// another object of UsersDN has the CN, the user is named as
// [backend.UniqueCN] says ("Jean Martin (jmartin2)"); the returned DN
// shows the name used.
func (d *Directory) CreateUser(ctx context.Context, u backend.NewDirectoryUser) (backend.DirectoryUser, error) {
	const op = backend.OpDirectoryCreateUser
	key := u.SAMAccountName
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.DirectoryUser{}, err
	}
	if err := checkNewUser(op, u); err != nil {
		return backend.DirectoryUser{}, err
	}
	if err := d.needTLS(op, key); err != nil {
		return backend.DirectoryUser{}, err
	}
	cn := u.DisplayName
	if cn == "" {
		cn = u.SAMAccountName
	}
	var out backend.DirectoryUser
	err := d.do(ctx, op, key, func(c *ldap.Conn) error {
		if err := d.checkFree(c, op, u); err != nil {
			return err
		}
		err := c.Add(d.addRequest(cn, u))
		if ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
			// The sAMAccountName and UPN are free: the CN is taken.
			alt := backend.UniqueCN(cn, u.SAMAccountName)
			d.s.log.Debug("adldap: common name taken, using another", "cn", cn, "instead", alt)
			if err = c.Add(d.addRequest(alt, u)); ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
				return &backend.Error{Kind: backend.AlreadyExists, Op: op, Key: key, Err: err,
					Msg: fmt.Sprintf("objects named %q and %q exist in %s", cn, alt, d.usersDN)}
			}
		}
		if err != nil {
			return err
		}
		e, err := d.searchOne(c, op, key, "(&"+samNormalUser+"(sAMAccountName="+escapeFilter(u.SAMAccountName)+"))")
		if err != nil {
			return err
		}
		out, err = d.toUser(e)
		return err
	})
	if err != nil {
		return backend.DirectoryUser{}, d.passwordError(err, u.Password, u.SAMAccountName, u.DisplayName)
	}
	d.s.log.Debug("adldap: user created", "sam", u.SAMAccountName, "dn", out.DN)
	return out, nil
}

// checkFree refuses a new user whose sAMAccountName or UPN is taken in the
// domain (compared case-insensitively, as AD does).
func (d *Directory) checkFree(c *ldap.Conn, op string, u backend.NewDirectoryUser) error {
	key := u.SAMAccountName
	filter := "(sAMAccountName=" + escapeFilter(u.SAMAccountName) + ")"
	if u.UserPrincipalName != "" {
		filter = "(|" + filter + "(userPrincipalName=" + escapeFilter(u.UserPrincipalName) + "))"
	}
	res, err := c.Search(ldap.NewSearchRequest(d.baseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		1, 0, false, filter, []string{"sAMAccountName", "userPrincipalName"}, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return err
	}
	if res == nil || len(res.Entries) == 0 {
		return nil
	}
	taken := res.Entries[0]
	if strings.EqualFold(taken.GetAttributeValue("sAMAccountName"), u.SAMAccountName) {
		return backend.Errorf(backend.AlreadyExists, op, key, "the sAMAccountName is taken by %s", taken.DN)
	}
	return backend.Errorf(backend.AlreadyExists, op, key, "the userPrincipalName %q is taken by %s", u.UserPrincipalName, taken.DN)
}

// addRequest builds the add of user u named cn in UsersDN.
func (d *Directory) addRequest(cn string, u backend.NewDirectoryUser) *ldap.AddRequest {
	uac := uacNormalAccount
	if u.Disabled {
		uac |= uacAccountDisable
	}
	req := ldap.NewAddRequest("CN="+escapeRDNValue(cn)+","+d.usersDN, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	req.Attribute("sAMAccountName", []string{u.SAMAccountName})
	for _, a := range []struct{ name, value string }{
		{"userPrincipalName", u.UserPrincipalName},
		{"displayName", u.DisplayName},
		{"givenName", u.GivenName},
		{"sn", u.Surname},
		{d.s.mapping, u.OnlineAccount},
	} {
		if a.value != "" {
			req.Attribute(a.name, []string{a.value})
		}
	}
	req.Attribute("unicodePwd", []string{encodePassword(u.Password)})
	req.Attribute("userAccountControl", []string{strconv.Itoa(uac)})
	if u.MustChangePassword {
		req.Attribute("pwdLastSet", []string{"0"})
	}
	return req
}

// needTLS refuses a password write on a connection without TLS.
func (d *Directory) needTLS(op, key string) error {
	if d.s.encrypted() {
		return nil
	}
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: key, Reason: ReasonTLSRequired,
		Msg: "Active Directory accepts passwords over LDAPS or StartTLS only"}
}

// modifyUser finds the user id and applies the changes made by build to a
// modify request of its DN. build may read the user's current state.
func (d *Directory) modifyUser(ctx context.Context, op string, id backend.GUID,
	build func(u backend.DirectoryUser, e *ldap.Entry, m *ldap.ModifyRequest) (bool, error)) error {
	key := id.String()
	return d.do(ctx, op, key, func(c *ldap.Conn) error {
		e, err := d.searchOne(c, op, key, "(&"+samNormalUser+guidFilter(id)+")")
		if err != nil {
			return err
		}
		u, err := d.toUser(e)
		if err != nil {
			return err
		}
		m := ldap.NewModifyRequest(e.DN, nil)
		write, err := build(u, e, m)
		if err != nil || !write {
			return err
		}
		return c.Modify(m)
	})
}

// SetEnabled flips the ACCOUNTDISABLE bit of userAccountControl, keeping
// the other bits. Nothing is written when the bit already has that value.
func (d *Directory) SetEnabled(ctx context.Context, id backend.GUID, enabled bool) error {
	return d.modifyUser(ctx, backend.OpDirectorySetEnabled, id, func(u backend.DirectoryUser, e *ldap.Entry, m *ldap.ModifyRequest) (bool, error) {
		uac, err := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64)
		if err != nil {
			return false, backend.Errorf(backend.Unknown, backend.OpDirectorySetEnabled, id.String(), "unreadable userAccountControl %q", e.GetAttributeValue("userAccountControl"))
		}
		next := uac &^ uacAccountDisable
		if !enabled {
			next |= uacAccountDisable
		}
		if next == uac {
			return false, nil
		}
		m.Replace("userAccountControl", []string{strconv.FormatInt(next, 10)})
		return true, nil
	})
}

// DeleteUser deletes the account; AD keeps a tombstone, which Changes
// reports.
func (d *Directory) DeleteUser(ctx context.Context, id backend.GUID) error {
	const op = backend.OpDirectoryDeleteUser
	key := id.String()
	return d.do(ctx, op, key, func(c *ldap.Conn) error {
		e, err := d.searchOne(c, op, key, "(&"+samNormalUser+guidFilter(id)+")")
		if err != nil {
			return err
		}
		return c.Del(ldap.NewDelRequest(e.DN, nil))
	})
}

// SetOnlineAccount replaces the mapping attribute, or deletes it for "".
func (d *Directory) SetOnlineAccount(ctx context.Context, id backend.GUID, value string) error {
	const op = backend.OpDirectorySetOnlineAccount
	if err := backend.CheckName(op, id.String(), "the online account value", value); err != nil {
		return err
	}
	return d.modifyUser(ctx, op, id, func(u backend.DirectoryUser, _ *ldap.Entry, m *ldap.ModifyRequest) (bool, error) {
		if u.OnlineAccount == value {
			return false, nil
		}
		if value == "" {
			m.Delete(d.s.mapping, nil)
		} else {
			m.Replace(d.s.mapping, []string{value})
		}
		return true, nil
	})
}

// guidFromBytes reads a 16-byte objectGUID.
func guidFromBytes(b []byte) (backend.GUID, bool) {
	var g backend.GUID
	if len(b) != len(g) {
		return g, false
	}
	copy(g[:], b)
	return g, true
}
