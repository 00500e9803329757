package accounts

import (
	"context"

	"github.com/essentials365/sdk/essentials365/backend"
)

// AccountState is the state of a user's online account, as the Essentials
// dashboard showed it (a blue or a grey icon).
type AccountState string

const (
	// Active: the online account is assigned, licensed and can sign in.
	AccountActive AccountState = "active"
	// Inactive: the online account has no license, is unassigned, or its
	// sign-in is blocked.
	AccountInactive AccountState = "inactive"
	// None: the user has no online account.
	AccountNone AccountState = "none"
)

// LicenseUnusableAdvice is the Advice of a user whose licences are all on
// subscriptions that are suspended, locked out or deleted: the account is
// inactive although licensed.
const LicenseUnusableAdvice = "The user's licences are all on subscriptions that are suspended, locked out or deleted; renew the subscription or assign a licence of an active one."

// UserStatus is a user with its online account.
type UserStatus struct {
	UserID         backend.GUID
	SAMAccountName string
	DisplayName    string
	Enabled        bool
	// OnlineID and OnlineUserID identify the mapped online account.
	OnlineID     string
	OnlineUserID string
	Mapping      MappingState
	State        AccountState
	Licensed     bool
	SignIn       bool
	// PasswordSyncBroken is set when the online password was changed after
	// the last sync (in the portal); Advice says what to do.
	PasswordSyncBroken bool
	// PasswordPending is set when an online password update waits to be
	// retried.
	PasswordPending bool
	Advice          string
}

// Status returns a user's online account state.
func (s *Service) Status(ctx context.Context, user string) (UserStatus, error) {
	const op = "accounts: get status"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return UserStatus{}, err
	}
	st := s.baseStatus(u)
	s.fillPending(ctx, &st)
	if st.Mapping == "" && !hasMappingValue(u) {
		// No recorded mapping: an online account may still carry our
		// immutableId (linked by another tool, or the mapping was lost).
		ou, _, err := s.onlineOf(ctx, op, u)
		if err != nil {
			if backend.KindOf(err) == backend.NotFound {
				return st, nil
			}
			return st, err
		}
		st.Advice = "An online account (" + ou.UserPrincipalName + ") carries this user's anchor but is not recorded; use Assign to record it."
		st.OnlineID, st.OnlineUserID = ou.UserPrincipalName, ou.ID
		st.State = AccountInactive
		return st, nil
	}
	ou, _, err := s.onlineOf(ctx, op, u)
	if err != nil {
		if backend.KindOf(err) == backend.NotFound {
			st.State = AccountInactive
			st.Advice = "The recorded online account no longer exists in Microsoft 365 (deleted?); restore it with Restore or assign another."
			if st.PasswordPending {
				st.Advice += " Its pending password update cannot be pushed: drop it with DiscardPendingPassword."
			}
			return st, nil
		}
		return st, err
	}
	var skus []backend.SKU
	if ou.Licensed() {
		if skus, err = s.skus(ctx, op); err != nil {
			return st, err
		}
	}
	s.fillOnlineWith(ctx, &st, u, ou, skus)
	return st, nil
}

// fillPending sets PasswordPending from the same entries PendingPasswords
// lists.
func (s *Service) fillPending(ctx context.Context, st *UserStatus) {
	if s.pendingOf(ctx, st.UserID) {
		st.PasswordPending = true
		st.Advice = "An online password update is pending; it is retried by RetryPendingPasswords and Reconcile (see PendingPasswords)."
	}
}

func hasMappingValue(u backend.DirectoryUser) bool { return u.OnlineAccount != "" }

func (s *Service) baseStatus(u backend.DirectoryUser) UserStatus {
	st := UserStatus{UserID: u.ID, SAMAccountName: u.SAMAccountName, DisplayName: u.DisplayName, Enabled: u.Enabled, State: AccountNone}
	if m, err := ParseMapping(u.OnlineAccount); err == nil && m.ID != "" {
		st.Mapping, st.OnlineID, st.OnlineUserID = m.State, m.UPN, m.ID
	}
	return st
}

// fillOnlineWith completes st with the online account ou; skus are the
// tenant's subscriptions, needed when ou holds a licence.
func (s *Service) fillOnlineWith(ctx context.Context, st *UserStatus, u backend.DirectoryUser, ou backend.OnlineUser, skus []backend.SKU) {
	st.OnlineID, st.OnlineUserID = ou.UserPrincipalName, ou.ID
	st.Licensed, st.SignIn = ou.Licensed(), ou.AccountEnabled
	usable := st.Licensed && ou.LicensedOn(skus)
	if st.Mapping == MappingAssigned && usable && st.SignIn {
		st.State = AccountActive
	} else {
		st.State = AccountInactive
	}
	if st.Licensed && !usable {
		st.Advice = LicenseUnusableAdvice
	}
	if st.Mapping == MappingAssigned && s.syncBroken(ctx, u.ID, ou) {
		st.PasswordSyncBroken = true
		st.Advice = PasswordSyncAdvice
	}
}

// ListStatus returns the state of every user of the directory, reading the
// tenant once.
func (s *Service) ListStatus(ctx context.Context) ([]UserStatus, error) {
	const op = "accounts: list status"
	byID := map[string]backend.OnlineUser{}
	byImmutable := map[string]backend.OnlineUser{}
	for ou, err := range s.tenant.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		byID[ou.ID] = ou
		if ou.ImmutableID != "" {
			byImmutable[ou.ImmutableID] = ou
		}
	}
	skus, err := s.skus(ctx, op)
	if err != nil {
		return nil, err
	}
	var out []UserStatus
	for u, err := range s.dir.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		st := s.baseStatus(u)
		s.fillPending(ctx, &st)
		ou, ok := byID[st.OnlineUserID]
		if !ok {
			ou, ok = byImmutable[u.ID.ImmutableID()]
		}
		if ok {
			s.fillOnlineWith(ctx, &st, u, ou, skus)
		} else if st.Mapping != "" {
			st.State = AccountInactive
		}
		out = append(out, st)
	}
	return out, nil
}
