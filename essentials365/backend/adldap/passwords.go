package adldap

import (
	"context"
	"errors"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ResetPassword replaces unicodePwd as an administrator does (history is
// not checked) and sets pwdLastSet to 0 when the user must change it.
func (d *Directory) ResetPassword(ctx context.Context, id backend.GUID, password string, mustChange bool) error {
	const op = backend.OpDirectoryResetPassword
	if err := backend.CtxErr(ctx, op); err != nil {
		return err
	}
	if err := d.needTLS(op, id.String()); err != nil {
		return err
	}
	var sam, name string
	err := d.modifyUser(ctx, op, id, func(u backend.DirectoryUser, _ *ldap.Entry, m *ldap.ModifyRequest) (bool, error) {
		sam, name = u.SAMAccountName, u.DisplayName
		m.Replace("unicodePwd", []string{encodePassword(password)})
		if mustChange {
			m.Replace("pwdLastSet", []string{"0"})
		}
		return true, nil
	})
	return d.passwordError(err, password, sam, name)
}

// ChangePassword changes the password as the user does: one modify that
// deletes the old unicodePwd value and adds the new one, which AD accepts
// only when the old value is right and the new one passes the policy,
// history included.
func (d *Directory) ChangePassword(ctx context.Context, id backend.GUID, oldPassword, newPassword string) error {
	const op = backend.OpDirectoryChangePassword
	if err := backend.CtxErr(ctx, op); err != nil {
		return err
	}
	if err := d.needTLS(op, id.String()); err != nil {
		return err
	}
	var user backend.DirectoryUser
	err := d.modifyUser(ctx, op, id, func(u backend.DirectoryUser, _ *ldap.Entry, m *ldap.ModifyRequest) (bool, error) {
		user = u
		m.Delete("unicodePwd", []string{encodePassword(oldPassword)})
		m.Add("unicodePwd", []string{encodePassword(newPassword)})
		return true, nil
	})
	if backend.ReasonOf(err) == backend.ReasonPasswordMinAge {
		return d.minAgeError(ctx, err, user)
	}
	return d.passwordError(err, newPassword, user.SAMAccountName, user.DisplayName)
}

// SetMustChangePassword writes pwdLastSet: 0 to require a change, -1 (AD
// stores the current time) to clear the requirement.
func (d *Directory) SetMustChangePassword(ctx context.Context, id backend.GUID, mustChange bool) error {
	return d.modifyUser(ctx, backend.OpDirectorySetMustChangePassword, id, func(u backend.DirectoryUser, _ *ldap.Entry, m *ldap.ModifyRequest) (bool, error) {
		if u.MustChangePassword == mustChange {
			return false, nil
		}
		v := "-1"
		if mustChange {
			v = "0"
		}
		m.Replace("pwdLastSet", []string{v})
		return true, nil
	})
}

// passwordError refines a password-complexity rejection: AD's complexity
// rule includes "does not contain the account name or a part of the full
// name", which Samba reports with the same message as a missing character
// class. When the password has three classes and does contain a name, the
// reason becomes password-contains-name.
func (d *Directory) passwordError(err error, password, sam, displayName string) error {
	var be *backend.Error
	if !errors.As(err, &be) || be.Reason != backend.ReasonPasswordComplexity {
		return err
	}
	if backend.PasswordClasses(password) >= 3 && backend.PasswordContainsName(password, sam, displayName) {
		be.Reason = backend.ReasonPasswordContainsName
	}
	return err
}

// minAgeError rewrites a refusal under the minimum password age so that it
// says when the user can change the password: the user's policy
// (fine-grained or the domain's) gives the minimum age, its pwdLastSet the
// start. The server's error stays the cause.
func (d *Directory) minAgeError(ctx context.Context, err error, u backend.DirectoryUser) error {
	p, perr := d.UserPasswordPolicy(ctx, u.ID)
	if perr != nil {
		return err
	}
	e := p.MinAgeError(backend.OpDirectoryChangePassword, u.ID.String(), u.PasswordLastSet)
	e.Err = errors.Unwrap(err)
	return e
}

// Authenticate checks a password with a simple bind on a new connection
// (never a pooled one). samOrUPN is a UPN when it holds "@", a DN when it
// holds "=", DOMAIN\name, or a bare sAMAccountName, which is sent as
// NETBIOS\name. Failures are PermissionDenied with the reason decoded from
// the bind result's data code: invalid-credentials (52e, unknown user or
// wrong password), account-disabled (533), password-must-change (773),
// password-expired (532), account-expired (701), account-locked (775).
// An empty password is refused without a bind, since AD would treat it as
// an anonymous bind and succeed.
func (d *Directory) Authenticate(ctx context.Context, samOrUPN, password string) error {
	const op = backend.OpDirectoryAuthenticate
	if err := backend.CtxErr(ctx, op); err != nil {
		return err
	}
	if err := backend.CheckName(op, samOrUPN, "the logon name", samOrUPN); err != nil {
		return err
	}
	if samOrUPN == "" || password == "" {
		return &backend.Error{Kind: backend.PermissionDenied, Op: op, Key: samOrUPN,
			Reason: backend.ReasonInvalidCredentials, Msg: "the user name or password is empty"}
	}
	name := samOrUPN
	if !strings.ContainsAny(name, `@\=`) {
		name = d.netbiosName + `\` + name
	}
	c, err := dial(ctx, d.s, name, password)
	if err != nil {
		err = classify(ctx, err, op, samOrUPN)
		var be *backend.Error
		if errors.As(err, &be) && be.Kind == backend.PermissionDenied {
			// Keep the result code reachable but not the server's text,
			// which may echo the bind name.
			be.Msg = "the logon was refused"
		}
		return err
	}
	_ = c.Close()
	return nil
}
