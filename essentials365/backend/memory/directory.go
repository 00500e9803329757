package memory

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof that *Directory is a backend.Directory.
var _ backend.Directory = (*Directory)(nil)

// DirectoryOptions configures a [Directory]. The zero value (or a nil
// pointer) gives an empty single-DC domain "contoso.local" answered by a
// domain controller, with Windows' default password policy.
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
	// PasswordPolicy is the domain's password policy; nil gives Windows'
	// default domain policy ([backend.DefaultPasswordPolicy]: 7 characters,
	// complexity, 24 remembered passwords, a minimum age of 1 day). Give
	// a policy with MinAge 0 to let users change a password more than
	// once a day.
	PasswordPolicy *backend.PasswordPolicy
	// Users are created, in order, when the directory is made, as
	// CreateUser would (the same rules apply; their passwords are set at
	// the clock's time). A seed that breaks a rule is a programming error:
	// NewDirectory panics with the rule.
	Users []backend.NewDirectoryUser
	// Now is the clock used for PasswordLastSet and the minimum password
	// age; default time.Now.
	Now func() time.Time
	// Logger receives debug records of every write; default discards.
	Logger *slog.Logger
	// PageSize is how many users ListUsers copies per page and the most
	// changes one Changes call returns; default 100.
	PageSize int
}

// dirMaxHistory is the most passwords a user's history keeps (AD's
// highest pwdHistoryLength).
const dirMaxHistory = 24

// dirEntry is one user object, live or deleted (a tombstone).
type dirEntry struct {
	seq     uint64 // creation order, for ListUsers
	usn     uint64 // change number of the last write
	deleted bool
	user    backend.DirectoryUser
	salt    [16]byte
	history [][32]byte // hashes of recent passwords, the current one last
	// pso is the fine-grained policy that applies to the user, nil for
	// the domain's.
	pso *backend.PasswordPolicy
}

// dirLogItem records that the object id was written at change number usn.
// An item is stale once the object has been written again.
type dirLogItem struct {
	usn uint64
	id  backend.GUID
}

// Directory is an in-memory Active Directory domain implementing
// [backend.Directory]. It keeps AD's rules for account names, UPNs, the
// password policy, account flags and change tracking (see the package
// documentation).
//
// It embeds the fault injector and call log: FailNext, AddFault,
// ClearFaults, Calls, ResetCalls and CountCalls, with operations named
// after the methods ("CreateUser", "ListUsers", "Authenticate", ...).
//
// A Directory is safe for concurrent use by multiple goroutines.
type Directory struct {
	recorder

	info     backend.DomainInfo
	policy   backend.PasswordPolicy
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

// NewDirectory returns an in-memory domain holding the seed users of
// opts. A nil opts gives the defaults described on [DirectoryOptions].
func NewDirectory(opts *DirectoryOptions) *Directory {
	d := newDirectory(opts)
	d.recorder = newRecorder("Directory", dirOps()...)
	if opts != nil {
		for _, u := range opts.Users {
			if _, err := d.createUser(u); err != nil {
				panic(fmt.Sprintf("memory: NewDirectory: seed user %q: %v", u.SAMAccountName, err))
			}
		}
	}
	return d
}

// newDirectory returns an empty in-memory domain configured by opts.
func newDirectory(opts *DirectoryOptions) *Directory {
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
	policy := backend.DefaultPasswordPolicy()
	if o.PasswordPolicy != nil {
		policy = *o.PasswordPolicy
		policy.Source = ""
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
		policy:   policy,
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
	const op = OpInfo
	defer func() { d.record(string(op), "", err) }()
	if err = d.dirEnterOp(ctx, op, ""); err != nil {
		return backend.DomainInfo{}, err
	}
	return d.info, nil
}

// ListUsers streams the users in creation order, copying PageSize users at
// a time under the lock. Users created during iteration after the current
// position are seen; users deleted before they are reached are not.
func (d *Directory) ListUsers(ctx context.Context) iter.Seq2[backend.DirectoryUser, error] {
	const op = OpListUsers
	return func(yield func(backend.DirectoryUser, error) bool) {
		var err error
		defer func() { d.record(string(op), "", err) }()
		if err = d.dirEnterOp(ctx, op, ""); err != nil {
			yield(backend.DirectoryUser{}, err)
			return
		}
		var after uint64
		page := make([]backend.DirectoryUser, 0, d.pageSize)
		for {
			if err = backend.CtxErr(ctx, dirErrOp(op)); err != nil {
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
	err = d.dirRead(ctx, OpGetUser, id, func(e *dirEntry) { u = e.user })
	return u, err
}

// GetUserBySAMAccountName finds a user by sAMAccountName, ignoring case.
// A name holding a control character is refused (InvalidArgument,
// [backend.ReasonNameCharacters]).
func (d *Directory) GetUserBySAMAccountName(ctx context.Context, sam string) (u backend.DirectoryUser, err error) {
	const op = OpGetUserBySAMAccountName
	defer func() { d.record(string(op), sam, err) }()
	if err = d.dirEnterOp(ctx, op, sam); err != nil {
		return u, err
	}
	if err = backend.CheckName(dirErrOp(op), sam, "a sAMAccountName", sam); err != nil {
		return u, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.bySAM[dirFold(sam)]
	if !ok {
		return u, backend.Errorf(backend.NotFound, dirErrOp(op), sam, "no user has this sAMAccountName")
	}
	return e.user, nil
}

// GetUserByUPN finds a user by userPrincipalName, ignoring case. A name
// holding a control character is refused (InvalidArgument,
// [backend.ReasonNameCharacters]).
func (d *Directory) GetUserByUPN(ctx context.Context, upn string) (u backend.DirectoryUser, err error) {
	const op = OpGetUserByUPN
	defer func() { d.record(string(op), upn, err) }()
	if err = d.dirEnterOp(ctx, op, upn); err != nil {
		return u, err
	}
	if err = backend.CheckName(dirErrOp(op), upn, "a userPrincipalName", upn); err != nil {
		return u, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.byUPN[dirFold(upn)]
	if !ok || upn == "" {
		return u, backend.Errorf(backend.NotFound, dirErrOp(op), upn, "no user has this userPrincipalName")
	}
	return e.user, nil
}

// dirUpdate runs f on the live user id under the write lock; when f
// reports a change, the user's change number moves.
func (d *Directory) dirUpdate(ctx context.Context, op Op, id backend.GUID, f func(*dirEntry) (bool, error)) error {
	return d.dirWrite(ctx, op, id, func(e *dirEntry) error {
		changed, err := f(e)
		if err != nil {
			return err
		}
		if changed {
			d.dirTouch(e)
			d.log.Debug("directory: user modified", "op", string(op), "id", id.String())
		}
		return nil
	})
}

// dirRead runs f on the live user id under the read lock, recording the
// call as op; an unknown or deleted id is NotFound.
func (d *Directory) dirRead(ctx context.Context, op Op, id backend.GUID, f func(*dirEntry)) (err error) {
	key := id.String()
	defer func() { d.record(string(op), key, err) }()
	if err = d.dirEnterOp(ctx, op, key); err != nil {
		return err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, err := d.dirLive(op, id)
	if err != nil {
		return err
	}
	f(e)
	return nil
}

// dirWrite runs f on the live user id under the write lock, recording the
// call as op; an unknown or deleted id is NotFound. f moves the change
// number itself when it changes the user.
func (d *Directory) dirWrite(ctx context.Context, op Op, id backend.GUID, f func(*dirEntry) error) (err error) {
	key := id.String()
	defer func() { d.record(string(op), key, err) }()
	if err = d.dirEnterOp(ctx, op, key); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e, err := d.dirLive(op, id)
	if err != nil {
		return err
	}
	return f(e)
}

// dirLive returns the live entry id. The caller holds d.mu.
func (d *Directory) dirLive(op Op, id backend.GUID) (*dirEntry, error) {
	e := d.objects[id]
	if e == nil || e.deleted {
		return nil, backend.Errorf(backend.NotFound, dirErrOp(op), id.String(), "no user has this objectGUID")
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

// dirFold folds a name for case-insensitive comparison.
func dirFold(s string) string { return strings.ToLower(s) }

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
