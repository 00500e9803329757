package memory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof that *Directory is a backend.Directory.
var _ backend.Directory = (*Directory)(nil)

// DirectoryOptions configures a [Directory]. The zero value (or a nil
// pointer) gives a single-DC domain "contoso.local" answered by a domain
// controller.
type DirectoryOptions struct {
	// DNSName is the domain's DNS name; default "contoso.local".
	DNSName string
	// NetBIOSName is the short domain name; default the first label of
	// DNSName in upper case, at most 15 characters ("CONTOSO").
	NetBIOSName string
	// DomainControllers is the number of domain controllers Info reports;
	// default 1.
	DomainControllers int
	// NotDomainController makes Info report that the server the driver
	// talks to is not a domain controller (a member server).
	NotDomainController bool
	// FunctionalLevel is the domain functional level Info reports; default
	// 4 (Windows Server 2008 R2, what Samba provisions by default).
	FunctionalLevel int
	// Now is the clock used for PasswordLastSet; default time.Now.
	Now func() time.Time
	// Logger receives debug records of every write; default discards.
	Logger *slog.Logger
	// PageSize is how many users ListUsers copies per page and the most
	// changes one Changes call returns; default 100.
	PageSize int
}

// dirHistoryLength is how many passwords a user's history keeps, the
// current one included (AD's default pwdHistoryLength).
const dirHistoryLength = 24

// dirMaxCN is the longest common name (rangeUpper of cn) AD accepts.
const dirMaxCN = 64

// dirEntry is one user object, live or deleted (a tombstone).
type dirEntry struct {
	seq     uint64 // creation order, for ListUsers
	usn     uint64 // change number of the last write
	deleted bool
	user    backend.DirectoryUser
	salt    [16]byte
	history [][32]byte // hashes of recent passwords, the current one last
}

// dirLogItem records that the object id was written at change number usn.
// An item is stale once the object has been written again.
type dirLogItem struct {
	usn uint64
	id  backend.GUID
}

// Directory is an in-memory Active Directory domain implementing
// [backend.Directory]. It keeps AD's rules for account names, UPNs, the
// default password policy, account flags and change tracking (see the
// package documentation).
//
// It embeds the fault injector and call log: FailNext, AddFault,
// ClearFaults, Calls, ResetCalls and CountCalls, with operations named
// after the methods ("CreateUser", "ListUsers", "Authenticate", ...).
//
// A Directory is safe for concurrent use by multiple goroutines.
type Directory struct {
	recorder

	info     backend.DomainInfo
	now      func() time.Time
	log      *slog.Logger
	pageSize int

	mu      sync.RWMutex
	usn     uint64 // highest change number handed out
	seq     uint64 // highest creation number handed out
	objects map[backend.GUID]*dirEntry
	bySAM   map[string]*dirEntry // folded sAMAccountName -> live entry
	byUPN   map[string]*dirEntry // folded UPN -> live entry
	byCN    map[string]*dirEntry // folded DN -> live entry
	order   []*dirEntry          // live entries by seq
	changes []dirLogItem         // by usn, with stale items
	stale   int                  // stale items in changes

	reqs dirRequirements // settable requirement facts (requirements.go)
}

// NewDirectory returns an empty in-memory domain. A nil opts gives the
// defaults described on [DirectoryOptions].
func NewDirectory(opts *DirectoryOptions) *Directory {
	var o DirectoryOptions
	if opts != nil {
		o = *opts
	}
	o.DNSName = strings.Trim(strings.TrimSpace(o.DNSName), ".")
	if o.DNSName == "" {
		o.DNSName = "contoso.local"
	}
	if o.NetBIOSName == "" {
		label, _, _ := strings.Cut(o.DNSName, ".")
		label = strings.ToUpper(label)
		if len(label) > 15 {
			label = label[:15]
		}
		o.NetBIOSName = label
	}
	if o.DomainControllers <= 0 {
		o.DomainControllers = 1
	}
	if o.FunctionalLevel <= 0 {
		o.FunctionalLevel = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	labels := strings.Split(o.DNSName, ".")
	for i, l := range labels {
		labels[i] = "DC=" + dirEscapeRDN(l)
	}
	return &Directory{
		recorder: newRecorder("Directory", directoryOps...),
		info: backend.DomainInfo{
			DNSName:                  o.DNSName,
			NetBIOSName:              o.NetBIOSName,
			BaseDN:                   strings.Join(labels, ","),
			DomainControllers:        o.DomainControllers,
			ServerIsDomainController: !o.NotDomainController,
			FunctionalLevel:          o.FunctionalLevel,
		},
		now:      o.Now,
		log:      o.Logger,
		pageSize: o.PageSize,
		objects:  map[backend.GUID]*dirEntry{},
		bySAM:    map[string]*dirEntry{},
		byUPN:    map[string]*dirEntry{},
		byCN:     map[string]*dirEntry{},
	}
}

// dirEnter checks the context and the injected faults on entry to op.
func (d *Directory) dirEnter(ctx context.Context, op, eop, key string) error {
	if err := backend.CtxErr(ctx, eop); err != nil {
		return err
	}
	return d.fault(ctx, op, key)
}

// Info returns the domain's facts as configured by [DirectoryOptions].
func (d *Directory) Info(ctx context.Context) (info backend.DomainInfo, err error) {
	const op, eop = "Info", "directory: info"
	defer func() { d.record(op, "", err) }()
	if err = d.dirEnter(ctx, op, eop, ""); err != nil {
		return backend.DomainInfo{}, err
	}
	return d.info, nil
}

// ListUsers streams the users in creation order, copying PageSize users at
// a time under the lock. Users created during iteration after the current
// position are seen; users deleted before they are reached are not.
func (d *Directory) ListUsers(ctx context.Context) iter.Seq2[backend.DirectoryUser, error] {
	const op, eop = "ListUsers", "directory: list users"
	return func(yield func(backend.DirectoryUser, error) bool) {
		var err error
		defer func() { d.record(op, "", err) }()
		if err = d.dirEnter(ctx, op, eop, ""); err != nil {
			yield(backend.DirectoryUser{}, err)
			return
		}
		var after uint64
		page := make([]backend.DirectoryUser, 0, d.pageSize)
		for {
			if err = backend.CtxErr(ctx, eop); err != nil {
				yield(backend.DirectoryUser{}, err)
				return
			}
			page, after = d.dirPage(page[:0], after)
			if len(page) == 0 {
				return
			}
			for _, u := range page {
				if !yield(u, nil) {
					return
				}
			}
		}
	}
}

// dirPage appends up to PageSize live users created after seq after.
func (d *Directory) dirPage(page []backend.DirectoryUser, after uint64) ([]backend.DirectoryUser, uint64) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(d.order, after+1, func(e *dirEntry, seq uint64) int {
		return compareUint(e.seq, seq)
	})
	for ; i < len(d.order) && len(page) < d.pageSize; i++ {
		page = append(page, d.order[i].user)
		after = d.order[i].seq
	}
	return page, after
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// GetUser returns the user with that objectGUID, or NotFound.
func (d *Directory) GetUser(ctx context.Context, id backend.GUID) (u backend.DirectoryUser, err error) {
	const op, eop = "GetUser", "directory: get user"
	key := id.String()
	defer func() { d.record(op, key, err) }()
	if err = d.dirEnter(ctx, op, eop, key); err != nil {
		return u, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, err := d.dirLive(eop, id)
	if err != nil {
		return u, err
	}
	return e.user, nil
}

// GetUserBySAMAccountName finds a user by sAMAccountName, ignoring case.
func (d *Directory) GetUserBySAMAccountName(ctx context.Context, sam string) (u backend.DirectoryUser, err error) {
	const op, eop = "GetUserBySAMAccountName", "directory: get user by sAMAccountName"
	defer func() { d.record(op, sam, err) }()
	if err = d.dirEnter(ctx, op, eop, sam); err != nil {
		return u, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.bySAM[dirFold(sam)]
	if !ok {
		return u, backend.Errorf(backend.NotFound, eop, sam, "no user has this sAMAccountName")
	}
	return e.user, nil
}

// GetUserByUPN finds a user by userPrincipalName, ignoring case.
func (d *Directory) GetUserByUPN(ctx context.Context, upn string) (u backend.DirectoryUser, err error) {
	const op, eop = "GetUserByUPN", "directory: get user by UPN"
	defer func() { d.record(op, upn, err) }()
	if err = d.dirEnter(ctx, op, eop, upn); err != nil {
		return u, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.byUPN[dirFold(upn)]
	if !ok || upn == "" {
		return u, backend.Errorf(backend.NotFound, eop, upn, "no user has this userPrincipalName")
	}
	return e.user, nil
}

// CreateUser creates a user after checking the account-name, UPN, name
// uniqueness and password rules.
func (d *Directory) CreateUser(ctx context.Context, nu backend.NewDirectoryUser) (u backend.DirectoryUser, err error) {
	const op, eop = "CreateUser", "directory: create user"
	key := nu.SAMAccountName
	defer func() { d.record(op, key, err) }()
	if err = d.dirEnter(ctx, op, eop, key); err != nil {
		return u, err
	}
	if err = backend.CheckSAMAccountName(eop, nu.SAMAccountName); err != nil {
		return u, err
	}
	if nu.UserPrincipalName != "" {
		if err = dirCheckUPN(eop, nu.UserPrincipalName); err != nil {
			return u, err
		}
	}
	cn := nu.DisplayName
	if cn == "" {
		cn = nu.SAMAccountName
	}
	if utf8.RuneCountInString(cn) > dirMaxCN {
		return u, backend.Invalid(eop, key, "cn-length", "the common name (display name) is longer than %d characters", dirMaxCN)
	}
	if err = dirCheckPassword(eop, key, nu.Password, nu.SAMAccountName, nu.DisplayName); err != nil {
		return u, err
	}
	dn := "CN=" + dirEscapeRDN(cn) + ",CN=Users," + d.info.BaseDN

	e := &dirEntry{user: backend.DirectoryUser{
		ID:                backend.NewGUID(),
		DN:                dn,
		SAMAccountName:    nu.SAMAccountName,
		UserPrincipalName: nu.UserPrincipalName,
		DisplayName:       nu.DisplayName,
		GivenName:         nu.GivenName,
		Surname:           nu.Surname,
		Enabled:           !nu.Disabled,
		OnlineAccount:     nu.OnlineAccount,
	}}
	_, _ = rand.Read(e.salt[:])
	e.history = [][32]byte{dirHash(e.salt, nu.Password)}

	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.bySAM[dirFold(nu.SAMAccountName)]; ok {
		return u, backend.Errorf(backend.AlreadyExists, eop, key, "the sAMAccountName is taken")
	}
	if nu.UserPrincipalName != "" {
		if _, ok := d.byUPN[dirFold(nu.UserPrincipalName)]; ok {
			return u, backend.Errorf(backend.AlreadyExists, eop, key, "the userPrincipalName %q is taken", nu.UserPrincipalName)
		}
	}
	if _, ok := d.byCN[dirFold(dn)]; ok {
		return u, backend.Errorf(backend.AlreadyExists, eop, key, "an object named %q exists in CN=Users", cn)
	}
	for d.objects[e.user.ID] != nil { // a GUID collision is not going to happen, but stay correct
		e.user.ID = backend.NewGUID()
	}
	if nu.MustChangePassword {
		e.user.MustChangePassword = true
	} else {
		e.user.PasswordLastSet = d.dirNow()
	}
	d.seq++
	e.seq = d.seq
	d.objects[e.user.ID] = e
	d.bySAM[dirFold(nu.SAMAccountName)] = e
	if nu.UserPrincipalName != "" {
		d.byUPN[dirFold(nu.UserPrincipalName)] = e
	}
	d.byCN[dirFold(dn)] = e
	d.order = append(d.order, e)
	d.dirTouch(e)
	d.log.Debug("directory: user created", "sam", nu.SAMAccountName, "id", e.user.ID.String())
	return e.user, nil
}

// SetEnabled enables or disables the account.
func (d *Directory) SetEnabled(ctx context.Context, id backend.GUID, enabled bool) error {
	return d.dirUpdate(ctx, "SetEnabled", "directory: set enabled", id, func(e *dirEntry) (bool, error) {
		if e.user.Enabled == enabled {
			return false, nil
		}
		e.user.Enabled = enabled
		return true, nil
	})
}

// DeleteUser deletes the account, leaving a tombstone for Changes.
func (d *Directory) DeleteUser(ctx context.Context, id backend.GUID) (err error) {
	const op, eop = "DeleteUser", "directory: delete user"
	key := id.String()
	defer func() { d.record(op, key, err) }()
	if err = d.dirEnter(ctx, op, eop, key); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e, err := d.dirLive(eop, id)
	if err != nil {
		return err
	}
	delete(d.bySAM, dirFold(e.user.SAMAccountName))
	if e.user.UserPrincipalName != "" {
		delete(d.byUPN, dirFold(e.user.UserPrincipalName))
	}
	delete(d.byCN, dirFold(e.user.DN))
	if i, ok := slices.BinarySearchFunc(d.order, e.seq, func(x *dirEntry, seq uint64) int {
		return compareUint(x.seq, seq)
	}); ok {
		d.order = slices.Delete(d.order, i, i+1)
	}
	e.deleted = true
	e.history = nil
	e.user = backend.DirectoryUser{
		ID:                e.user.ID,
		DN:                e.user.DN,
		SAMAccountName:    e.user.SAMAccountName,
		UserPrincipalName: e.user.UserPrincipalName,
		DisplayName:       e.user.DisplayName,
	}
	d.dirTouch(e)
	d.log.Debug("directory: user deleted", "id", key)
	return nil
}

// ResetPassword sets a password as an administrator does: the policy is
// checked, the history is not.
func (d *Directory) ResetPassword(ctx context.Context, id backend.GUID, password string, mustChange bool) error {
	const eop = "directory: reset password"
	return d.dirUpdate(ctx, "ResetPassword", eop, id, func(e *dirEntry) (bool, error) {
		if err := dirCheckPassword(eop, e.user.SAMAccountName, password, e.user.SAMAccountName, e.user.DisplayName); err != nil {
			return false, err
		}
		e.dirSetPassword(password)
		d.dirSetMustChange(e, mustChange, true)
		return true, nil
	})
}

// ChangePassword changes the password as the user does: the old password
// must be right, and the new one must satisfy the policy and differ from
// the last 24.
func (d *Directory) ChangePassword(ctx context.Context, id backend.GUID, oldPassword, newPassword string) error {
	const eop = "directory: change password"
	return d.dirUpdate(ctx, "ChangePassword", eop, id, func(e *dirEntry) (bool, error) {
		if !e.dirPasswordIs(oldPassword) {
			return false, backend.Invalid(eop, e.user.SAMAccountName, "old-password", "the old password is wrong")
		}
		if err := dirCheckPassword(eop, e.user.SAMAccountName, newPassword, e.user.SAMAccountName, e.user.DisplayName); err != nil {
			return false, err
		}
		h := dirHash(e.salt, newPassword)
		for _, old := range e.history {
			if subtle.ConstantTimeCompare(old[:], h[:]) == 1 {
				return false, backend.Invalid(eop, e.user.SAMAccountName, "password-history", "the new password was used recently")
			}
		}
		e.dirSetPassword(newPassword)
		d.dirSetMustChange(e, false, true)
		return true, nil
	})
}

// SetMustChangePassword sets or clears "must change password at next
// logon". Clearing it stamps PasswordLastSet with the current time, as
// writing pwdLastSet -1 does in AD.
func (d *Directory) SetMustChangePassword(ctx context.Context, id backend.GUID, mustChange bool) error {
	return d.dirUpdate(ctx, "SetMustChangePassword", "directory: set must change password", id, func(e *dirEntry) (bool, error) {
		if e.user.MustChangePassword == mustChange {
			return false, nil
		}
		d.dirSetMustChange(e, mustChange, false)
		return true, nil
	})
}

// SetOnlineAccount writes the online-account attribute; "" clears it.
func (d *Directory) SetOnlineAccount(ctx context.Context, id backend.GUID, value string) error {
	return d.dirUpdate(ctx, "SetOnlineAccount", "directory: set online account", id, func(e *dirEntry) (bool, error) {
		if e.user.OnlineAccount == value {
			return false, nil
		}
		e.user.OnlineAccount = value
		return true, nil
	})
}

// Changes returns the users written since the watermark, oldest change
// first, each once with its latest state; deleted users come as
// tombstones. An empty watermark returns every current user.
func (d *Directory) Changes(ctx context.Context, watermark string) (out backend.DirectoryChanges, err error) {
	const op, eop = "Changes", "directory: changes"
	defer func() { d.record(op, watermark, err) }()
	if err = d.dirEnter(ctx, op, eop, watermark); err != nil {
		return out, err
	}
	var from uint64
	if watermark != "" {
		if from, err = dirParseWatermark(eop, watermark); err != nil {
			return out, err
		}
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if from > d.usn {
		return out, backend.Invalid(eop, watermark, "watermark", "the watermark is not from this directory")
	}
	i, _ := slices.BinarySearchFunc(d.changes, from+1, func(it dirLogItem, usn uint64) int {
		return compareUint(it.usn, usn)
	})
	last := from
	for ; i < len(d.changes); i++ {
		it := d.changes[i]
		e := d.objects[it.id]
		if e == nil || e.usn != it.usn {
			continue // stale: the object was written again later
		}
		if watermark == "" && e.deleted {
			continue
		}
		if len(out.Changes) == d.pageSize {
			out.More = true
			break
		}
		c := backend.DirectoryChange{Type: backend.Upserted, User: e.user}
		if e.deleted {
			c.Type = backend.Deleted
		}
		out.Changes = append(out.Changes, c)
		last = it.usn
	}
	if !out.More {
		last = d.usn
	}
	out.Watermark = dirFormatWatermark(last)
	return out, nil
}

// Authenticate checks a password as an LDAP simple bind does: a wrong
// password (or unknown user) gives PermissionDenied with rule
// "invalid-credentials"; a right password on a disabled account
// "account-disabled"; on an account that must change its password
// "password-must-change". samOrUPN is a UPN when it holds an "@", a
// sAMAccountName otherwise (optionally as DOMAIN\name).
func (d *Directory) Authenticate(ctx context.Context, samOrUPN, password string) (err error) {
	const op, eop = "Authenticate", "directory: authenticate"
	defer func() { d.record(op, samOrUPN, err) }()
	if err = d.dirEnter(ctx, op, eop, samOrUPN); err != nil {
		return err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	var e *dirEntry
	if strings.Contains(samOrUPN, "@") {
		e = d.byUPN[dirFold(samOrUPN)]
	} else {
		name := samOrUPN
		if dom, rest, ok := strings.Cut(samOrUPN, `\`); ok {
			if !strings.EqualFold(dom, d.info.NetBIOSName) && !strings.EqualFold(dom, d.info.DNSName) {
				name = ""
			} else {
				name = rest
			}
		}
		if name != "" {
			e = d.bySAM[dirFold(name)]
		}
	}
	if e == nil || password == "" || !e.dirPasswordIs(password) {
		return &backend.Error{Kind: backend.PermissionDenied, Op: eop, Key: samOrUPN, Reason: "invalid-credentials", Msg: "the user name or password is wrong"}
	}
	if !e.user.Enabled {
		return &backend.Error{Kind: backend.PermissionDenied, Op: eop, Key: samOrUPN, Reason: "account-disabled", Msg: "the account is disabled"}
	}
	if e.user.MustChangePassword {
		return &backend.Error{Kind: backend.PermissionDenied, Op: eop, Key: samOrUPN, Reason: "password-must-change", Msg: "the user must change the password before logging on"}
	}
	return nil
}

// dirUpdate runs f on the live user id under the write lock; when f
// reports a change, the user's change number moves.
func (d *Directory) dirUpdate(ctx context.Context, op, eop string, id backend.GUID, f func(*dirEntry) (bool, error)) (err error) {
	key := id.String()
	defer func() { d.record(op, key, err) }()
	if err = d.dirEnter(ctx, op, eop, key); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e, err := d.dirLive(eop, id)
	if err != nil {
		return err
	}
	changed, err := f(e)
	if err != nil {
		return err
	}
	if changed {
		d.dirTouch(e)
		d.log.Debug("directory: user modified", "op", op, "id", key)
	}
	return nil
}

// dirLive returns the live entry id. The caller holds d.mu.
func (d *Directory) dirLive(eop string, id backend.GUID) (*dirEntry, error) {
	e := d.objects[id]
	if e == nil || e.deleted {
		return nil, backend.Errorf(backend.NotFound, eop, id.String(), "no user has this objectGUID")
	}
	return e, nil
}

// dirTouch gives e the next change number. The caller holds d.mu for
// writing.
func (d *Directory) dirTouch(e *dirEntry) {
	if e.usn != 0 {
		d.stale++
	}
	d.usn++
	e.usn = d.usn
	d.changes = append(d.changes, dirLogItem{usn: e.usn, id: e.user.ID})
	if d.stale > 64 && d.stale > len(d.changes)/2 {
		d.changes = slices.DeleteFunc(d.changes, func(it dirLogItem) bool {
			return d.objects[it.id].usn != it.usn
		})
		d.stale = 0
	}
}

// dirNow returns the clock's time at AD's precision (100 ns), in UTC.
func (d *Directory) dirNow() time.Time {
	return d.now().UTC().Truncate(100 * time.Nanosecond)
}

// dirSetMustChange applies pwdLastSet semantics: 0 when the user must
// change the password, otherwise now (when stamp is set or the flag was on).
func (d *Directory) dirSetMustChange(e *dirEntry, mustChange, stamp bool) {
	if mustChange {
		e.user.MustChangePassword = true
		e.user.PasswordLastSet = time.Time{}
		return
	}
	if stamp || e.user.MustChangePassword {
		e.user.PasswordLastSet = d.dirNow()
	}
	e.user.MustChangePassword = false
}

func (e *dirEntry) dirSetPassword(password string) {
	e.history = append(e.history, dirHash(e.salt, password))
	if len(e.history) > dirHistoryLength {
		e.history = slices.Delete(e.history, 0, len(e.history)-dirHistoryLength)
	}
}

func (e *dirEntry) dirPasswordIs(password string) bool {
	if len(e.history) == 0 {
		return false
	}
	h := dirHash(e.salt, password)
	cur := e.history[len(e.history)-1]
	return subtle.ConstantTimeCompare(cur[:], h[:]) == 1
}

func dirHash(salt [16]byte, password string) [32]byte {
	h := sha256.New()
	h.Write(salt[:])
	h.Write([]byte(password))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// dirFold folds a name for case-insensitive comparison.
func dirFold(s string) string { return strings.ToLower(s) }

const dirWatermarkPrefix = "memdir1."

func dirFormatWatermark(usn uint64) string {
	return dirWatermarkPrefix + strconv.FormatUint(usn, 36)
}

func dirParseWatermark(eop, w string) (uint64, error) {
	rest, ok := strings.CutPrefix(w, dirWatermarkPrefix)
	if !ok || rest == "" {
		return 0, backend.Invalid(eop, w, "watermark", "the watermark is malformed")
	}
	n, err := strconv.ParseUint(rest, 36, 64)
	if err != nil {
		return 0, backend.Invalid(eop, w, "watermark", "the watermark is malformed")
	}
	return n, nil
}

// dirCheckUPN checks that upn reads name@suffix.
func dirCheckUPN(eop, upn string) error {
	local, suffix, ok := strings.Cut(upn, "@")
	if !ok || local == "" || suffix == "" || strings.Contains(suffix, "@") {
		return backend.Invalid(eop, upn, "upn-syntax", "a userPrincipalName reads name@suffix")
	}
	for _, r := range upn {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || unicode.IsSpace(r) {
			return backend.Invalid(eop, upn, "upn-characters", "a userPrincipalName cannot hold %q", r)
		}
	}
	return nil
}

// dirCheckPassword applies AD's default password policy: length,
// complexity, and not containing the account name or display-name tokens.
func dirCheckPassword(eop, key, password, sam, displayName string) error {
	if utf8.RuneCountInString(password) < 7 {
		return backend.Invalid(eop, key, "password-length", "a password has at least 7 characters")
	}
	if backend.PasswordClasses(password) < 3 {
		return backend.Invalid(eop, key, "password-complexity",
			"a password holds characters of 3 kinds: upper case, lower case, digits, symbols")
	}
	if backend.PasswordContainsName(password, sam, displayName) {
		return backend.Invalid(eop, key, "password-contains-name", "a password cannot contain the account name or part of the user's name")
	}
	return nil
}

// dirEscapeRDN escapes an attribute value for a DN as RFC 4514 says.
func dirEscapeRDN(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case r == ',' || r == '+' || r == '"' || r == '\\' || r == '<' || r == '>' || r == ';':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '#' && i == 0:
			b.WriteString(`\#`)
		case r == ' ' && (i == 0 || i == len(v)-1):
			b.WriteString(`\ `)
		case r == 0:
			b.WriteString(`\00`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
