package memory

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"slices"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ResetPassword sets a password as an administrator does: the user's
// policy (fine-grained or the domain's) is checked, the history and the
// minimum age are not.
func (d *Directory) ResetPassword(ctx context.Context, id backend.GUID, password string, mustChange bool) error {
	const op = OpResetPassword
	return d.dirUpdate(ctx, op, id, func(e *dirEntry) (bool, error) {
		p := d.dirPolicy(e)
		if err := p.CheckPassword(dirErrOp(op), e.user.SAMAccountName, password, e.user.SAMAccountName, e.user.DisplayName); err != nil {
			return false, err
		}
		e.dirSetPassword(password)
		d.dirSetMustChange(e, mustChange, true)
		return true, nil
	})
}

// ChangePassword changes the password as the user does, checking in AD's
// order: the old password must be right, the current one must be older
// than the policy's minimum age (unless the user must change it at next
// logon), the new one must satisfy the policy and differ from the
// remembered ones (the policy's history length, the current one included).
func (d *Directory) ChangePassword(ctx context.Context, id backend.GUID, oldPassword, newPassword string) error {
	const op = OpChangePassword
	eop := dirErrOp(op)
	return d.dirUpdate(ctx, op, id, func(e *dirEntry) (bool, error) {
		key := e.user.SAMAccountName
		if !e.dirPasswordIs(oldPassword) {
			return false, backend.Invalid(eop, key, backend.ReasonOldPassword, "the old password is wrong")
		}
		p := d.dirPolicy(e)
		if err := p.CheckMinAge(eop, key, e.user.PasswordLastSet, d.dirNow()); err != nil {
			return false, err
		}
		if err := p.CheckPassword(eop, key, newPassword, e.user.SAMAccountName, e.user.DisplayName); err != nil {
			return false, err
		}
		h := dirHash(e.salt, newPassword)
		for _, old := range e.history[max(len(e.history)-p.HistoryLength, 0):] {
			if subtle.ConstantTimeCompare(old[:], h[:]) == 1 {
				return false, backend.Invalid(eop, key, backend.ReasonPasswordHistory,
					"the new password is one of the last %d passwords", p.HistoryLength)
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
	return d.dirUpdate(ctx, OpSetMustChangePassword, id, func(e *dirEntry) (bool, error) {
		if e.user.MustChangePassword == mustChange {
			return false, nil
		}
		d.dirSetMustChange(e, mustChange, false)
		return true, nil
	})
}

// PasswordPolicy returns the domain's password policy, as
// [DirectoryOptions].PasswordPolicy set it.
func (d *Directory) PasswordPolicy(ctx context.Context) (p backend.PasswordPolicy, err error) {
	const op = OpPasswordPolicy
	defer func() { d.record(string(op), "", err) }()
	if err = d.dirEnterOp(ctx, op, ""); err != nil {
		return p, err
	}
	return d.policy, nil
}

// UserPasswordPolicy returns the user's fine-grained policy when
// [Directory.SetFineGrainedPolicy] gave one, else the domain's.
func (d *Directory) UserPasswordPolicy(ctx context.Context, id backend.GUID) (p backend.PasswordPolicy, err error) {
	err = d.dirRead(ctx, OpUserPasswordPolicy, id, func(e *dirEntry) { p = d.dirPolicy(e) })
	return p, err
}

// SetFineGrainedPolicy makes p the user's resultant password policy, as a
// password settings object applied to the user (or a group of the user's)
// does in AD; nil returns the user to the domain's policy. p.Source names
// the policy; "" becomes "CN=PSO,CN=Password Settings
// Container,CN=System,<base DN>". It is not a change of the user object:
// Changes does not report it.
func (d *Directory) SetFineGrainedPolicy(ctx context.Context, id backend.GUID, p *backend.PasswordPolicy) error {
	return d.dirWrite(ctx, OpSetFineGrainedPolicy, id, func(e *dirEntry) error {
		if p == nil {
			e.pso = nil
			return nil
		}
		pso := *p
		if pso.Source == "" {
			pso.Source = "CN=PSO,CN=Password Settings Container,CN=System," + d.info.BaseDN
		}
		e.pso = &pso
		return nil
	})
}

// dirPolicy returns the policy that applies to e. The caller holds d.mu.
func (d *Directory) dirPolicy(e *dirEntry) backend.PasswordPolicy {
	if e.pso != nil {
		return *e.pso
	}
	return d.policy
}

// Authenticate checks a password as an LDAP simple bind does: a wrong
// password (or unknown user) gives PermissionDenied with
// [backend.ReasonInvalidCredentials]; a right password on a disabled
// account [backend.ReasonAccountDisabled]; on an account that must change
// its password [backend.ReasonPasswordMustChange]; on a password older than
// the policy's maximum age [backend.ReasonPasswordExpired]. samOrUPN is a
// UPN when it holds an "@", a sAMAccountName otherwise (optionally as
// DOMAIN\name); one holding a control character is refused
// (InvalidArgument, [backend.ReasonNameCharacters]).
func (d *Directory) Authenticate(ctx context.Context, samOrUPN, password string) (err error) {
	const op = OpAuthenticate
	eop := dirErrOp(op)
	defer func() { d.record(string(op), samOrUPN, err) }()
	if err = d.dirEnterOp(ctx, op, samOrUPN); err != nil {
		return err
	}
	if err = backend.CheckName(eop, samOrUPN, "the logon name", samOrUPN); err != nil {
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
		return &backend.Error{Kind: backend.PermissionDenied, Op: eop, Key: samOrUPN, Reason: backend.ReasonInvalidCredentials, Msg: "the user name or password is wrong"}
	}
	if !e.user.Enabled {
		return &backend.Error{Kind: backend.PermissionDenied, Op: eop, Key: samOrUPN, Reason: backend.ReasonAccountDisabled, Msg: "the account is disabled"}
	}
	if e.user.MustChangePassword {
		return &backend.Error{Kind: backend.PermissionDenied, Op: eop, Key: samOrUPN, Reason: backend.ReasonPasswordMustChange, Msg: "the user must change the password before logging on"}
	}
	if p := d.dirPolicy(e); p.MaxAge > 0 && !d.dirNow().Before(e.user.PasswordLastSet.Add(p.MaxAge)) {
		return &backend.Error{Kind: backend.PermissionDenied, Op: eop, Key: samOrUPN, Reason: backend.ReasonPasswordExpired, Msg: "the password has expired (the maximum password age)"}
	}
	return nil
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
	if len(e.history) > dirMaxHistory {
		e.history = slices.Delete(e.history, 0, len(e.history)-dirMaxHistory)
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
