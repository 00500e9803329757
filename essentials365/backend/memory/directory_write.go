package memory

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/essentials365/sdk/essentials365/backend"
)

// CreateUser creates a user after checking the account-name, UPN, name
// uniqueness and password rules. When the common name (display name, else
// sAMAccountName) is taken in CN=Users, the user is named as
// [backend.UniqueCN] says ("Jean Martin (jmartin2)"); the returned DN shows
// it.
func (d *Directory) CreateUser(ctx context.Context, nu backend.NewDirectoryUser) (u backend.DirectoryUser, err error) {
	const op = OpCreateUser
	key := nu.SAMAccountName
	defer func() { d.record(string(op), key, err) }()
	if err = d.dirEnterOp(ctx, op, key); err != nil {
		return u, err
	}
	return d.createUser(nu)
}

// dirCheckNewUser applies the naming rules to a new user.
func dirCheckNewUser(eop string, nu backend.NewDirectoryUser) error {
	key := nu.SAMAccountName
	if err := backend.CheckSAMAccountName(eop, nu.SAMAccountName); err != nil {
		return err
	}
	for _, f := range []struct{ what, v string }{
		{"a userPrincipalName", nu.UserPrincipalName},
		{"the display name", nu.DisplayName},
		{"the given name", nu.GivenName},
		{"the surname", nu.Surname},
		{"the online account value", nu.OnlineAccount},
	} {
		if err := backend.CheckName(eop, key, f.what, f.v); err != nil {
			return err
		}
	}
	if nu.UserPrincipalName != "" {
		if err := dirCheckUPN(eop, nu.UserPrincipalName); err != nil {
			return err
		}
	}
	cn := nu.DisplayName
	if cn == "" {
		cn = nu.SAMAccountName
	}
	if utf8.RuneCountInString(cn) > backend.MaxCN {
		return backend.Invalid(eop, key, backend.ReasonCNLength, "the common name (display name) is longer than %d characters", backend.MaxCN)
	}
	return nil
}

// createUser checks and adds the user; the caller recorded the call.
func (d *Directory) createUser(nu backend.NewDirectoryUser) (backend.DirectoryUser, error) {
	eop := dirErrOp(OpCreateUser)
	key := nu.SAMAccountName
	if err := dirCheckNewUser(eop, nu); err != nil {
		return backend.DirectoryUser{}, err
	}
	if err := d.policy.CheckPassword(eop, key, nu.Password, nu.SAMAccountName, nu.DisplayName); err != nil {
		return backend.DirectoryUser{}, err
	}
	cn := nu.DisplayName
	if cn == "" {
		cn = nu.SAMAccountName
	}
	e := &dirEntry{user: backend.DirectoryUser{
		ID:                backend.NewGUID(),
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
		return backend.DirectoryUser{}, backend.Errorf(backend.AlreadyExists, eop, key, "the sAMAccountName is taken")
	}
	if nu.UserPrincipalName != "" {
		if _, ok := d.byUPN[dirFold(nu.UserPrincipalName)]; ok {
			return backend.DirectoryUser{}, backend.Errorf(backend.AlreadyExists, eop, key, "the userPrincipalName %q is taken", nu.UserPrincipalName)
		}
	}
	container := ",CN=Users," + d.info.BaseDN
	dn := "CN=" + dirEscapeRDN(cn) + container
	if _, ok := d.byCN[dirFold(dn)]; ok {
		dn = "CN=" + dirEscapeRDN(backend.UniqueCN(cn, nu.SAMAccountName)) + container
		if _, ok := d.byCN[dirFold(dn)]; ok {
			return backend.DirectoryUser{}, backend.Errorf(backend.AlreadyExists, eop, key, "objects named %q and %q exist in CN=Users", cn, backend.UniqueCN(cn, nu.SAMAccountName))
		}
	}
	e.user.DN = dn
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
	return d.dirUpdate(ctx, OpSetEnabled, id, func(e *dirEntry) (bool, error) {
		if e.user.Enabled == enabled {
			return false, nil
		}
		e.user.Enabled = enabled
		return true, nil
	})
}

// DeleteUser deletes the account, leaving a tombstone for Changes.
func (d *Directory) DeleteUser(ctx context.Context, id backend.GUID) error {
	return d.dirWrite(ctx, OpDeleteUser, id, func(e *dirEntry) error {
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
		e.pso = nil
		e.user = backend.DirectoryUser{
			ID:                e.user.ID,
			DN:                e.user.DN,
			SAMAccountName:    e.user.SAMAccountName,
			UserPrincipalName: e.user.UserPrincipalName,
			DisplayName:       e.user.DisplayName,
		}
		d.dirTouch(e)
		d.log.Debug("directory: user deleted", "id", id.String())
		return nil
	})
}

// SetOnlineAccount writes the online-account attribute; "" clears it. A
// value holding a control character is refused
// ([backend.ReasonNameCharacters]).
func (d *Directory) SetOnlineAccount(ctx context.Context, id backend.GUID, value string) error {
	const op = OpSetOnlineAccount
	return d.dirUpdate(ctx, op, id, func(e *dirEntry) (bool, error) {
		if err := backend.CheckName(dirErrOp(op), id.String(), "the online account value", value); err != nil {
			return false, err
		}
		if e.user.OnlineAccount == value {
			return false, nil
		}
		e.user.OnlineAccount = value
		return true, nil
	})
}

// dirCheckUPN checks that upn reads name@suffix.
func dirCheckUPN(eop, upn string) error {
	local, suffix, ok := strings.Cut(upn, "@")
	if !ok || local == "" || suffix == "" || strings.Contains(suffix, "@") {
		return backend.Invalid(eop, upn, backend.ReasonUPNSyntax, "a userPrincipalName reads name@suffix")
	}
	for _, r := range upn {
		if unicode.IsSpace(r) {
			return backend.Invalid(eop, upn, backend.ReasonUPNCharacters, "a userPrincipalName cannot hold %q", r)
		}
	}
	return nil
}
