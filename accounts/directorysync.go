package accounts

import (
	"context"
	"strconv"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// PasswordSyncMode says how password changes made in the directory itself
// (at Ctrl+Alt+Del, by an administrator in the directory's own tools, over
// Kerberos) reach the online accounts. There are two modes
// (DirectorySyncMode says which is running):
//
//   - PasswordSyncModeAgent: a password sync agent on the domain controller
//     (package essentials365/pwsync) receives every change from the
//     directory (Samba's syncpasswords hook) and calls
//     SyncDirectoryPassword within seconds;
//   - PasswordSyncModeDetect: no agent runs; the SDK cannot read passwords
//     back, so UnsyncedPasswords and DirectoryPasswordStatus report the
//     users whose network password changed after the last push (pwdLastSet
//     later than the last sync): "network password changed, online
//     password not synced" (PasswordNotSyncedAdvice).
type PasswordSyncMode string

const (
	// PasswordSyncModeAgent: a password sync agent reported itself within
	// DirectorySyncAgentTimeout; every directory change is pushed.
	PasswordSyncModeAgent PasswordSyncMode = "agent"
	// PasswordSyncModeDetect: no agent; changes made outside the SDK are
	// only detected.
	PasswordSyncModeDetect PasswordSyncMode = "detect"
)

// More outcomes of a password push (see SyncState), for changes that come
// from the directory.
const (
	// SyncSkippedUnassigned: the user's online account is unassigned (or
	// the user has none recorded); nothing was pushed.
	SyncSkippedUnassigned SyncState = "skipped-unassigned"
	// SyncSkippedDisabled: the network account is disabled; nothing was
	// pushed.
	SyncSkippedDisabled SyncState = "skipped-disabled"
	// SyncRejected: Microsoft 365's password rules refuse the password
	// (they differ from the domain's); the online password is unchanged.
	SyncRejected SyncState = "rejected"
)

// Reasons of directory password sync.
const (
	// ReasonPasswordRequired (InvalidArgument): the change carried no
	// password.
	ReasonPasswordRequired backend.Reason = "password-required"
)

// DirectorySyncAgentTimeout is how long after its last heartbeat an agent
// still counts as running (PasswordSyncModeAgent).
const DirectorySyncAgentTimeout = 5 * time.Minute

// PasswordSyncAgentAdvice and PasswordNotSyncedAdvice are what to tell an
// administrator about a user whose network password is not on the online
// account, in each mode.
const (
	PasswordNotSyncedAdvice = "The network password was changed outside this program (at a domain-joined computer or in the directory's tools) " +
		"and the online password was not synced: password synchronization on every change is not running on the domain controller. " +
		"Install the password sync agent on the domain controller, or have the user change the password through a program that uses this SDK."
	PasswordSyncAgentAdvice = "The network password was changed and the password sync agent has not pushed it yet; " +
		"if this lasts more than a few minutes, check the agent on the domain controller."
)

const (
	keyDirectorySyncAgent    = "accounts/directorysync/agent"
	keyDirectorySyncRejected = "accounts/directorysync/rejected/"
)

// SyncDirectoryPassword pushes a password that was set in the directory
// (the directory already has it) to the user's online account. user is an
// objectGUID, a UPN or a sAMAccountName; keyVersion is the directory's
// msDS-KeyVersionNumber for that password (0 if unknown), recorded with a
// rejection.
//
// Only an enabled user with an assigned online account is pushed
// (SyncSkippedDisabled, SyncSkippedUnassigned, SyncNoOnlineAccount otherwise,
// nil error). A password Microsoft 365 refuses gives SyncRejected and an
// InvalidArgument error with ReasonOnlinePasswordPolicy, remembered for
// DirectoryPasswordStatus until a later password goes through. A cloud
// failure gives Pending: the update is kept sealed and retried by
// RetryPendingPasswords, as for SetPassword. A push clears "password sync
// broken". The password is never logged, stored in clear or returned.
func (s *Service) SyncDirectoryPassword(ctx context.Context, user, password string, keyVersion int) (SyncState, error) {
	const op = "accounts: sync directory password"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return "", err
	}
	if password == "" {
		return "", backend.Invalid(op, u.SAMAccountName, ReasonPasswordRequired, "the change carried no password")
	}
	m, _ := ParseMapping(u.OnlineAccount)
	switch {
	case m.ID == "":
		return SyncNoOnlineAccount, nil
	case m.State != MappingAssigned:
		return SyncSkippedUnassigned, nil
	case !u.Enabled:
		return SyncSkippedDisabled, nil
	}
	if !backend.OnlinePasswordOK(password) {
		if err := s.store.Put(ctx, keyDirectorySyncRejected+u.ID.String(), []byte(strconv.Itoa(keyVersion))); err != nil {
			s.log.WarnContext(ctx, "cannot record a rejected password", "user", u.SAMAccountName, "err", err)
		}
		return SyncRejected, backend.Invalid(op, u.SAMAccountName, ReasonOnlinePasswordPolicy,
			"the domain accepted a password that Microsoft 365 refuses (it needs 8 to 256 characters with 3 of: upper-case, lower-case, digits, symbols); "+
				"the online password is unchanged: have the user choose a password that meets both policies")
	}
	st, err := s.syncPassword(ctx, op, u, password)
	if err != nil {
		return st, err
	}
	_ = s.store.Delete(ctx, keyDirectorySyncRejected+u.ID.String())
	return st, nil
}

// DirectorySyncHeartbeat records that a password sync agent is running;
// an agent calls it at least every DirectorySyncAgentTimeout/2.
func (s *Service) DirectorySyncHeartbeat(ctx context.Context) error {
	err := s.store.Put(ctx, keyDirectorySyncAgent, []byte(s.now().UTC().Format(time.RFC3339Nano)))
	return backend.WithOp(err, "accounts: record directory sync heartbeat", "")
}

// DirectorySyncMode says which mode is running: PasswordSyncModeAgent when
// an agent sharing this Store reported within DirectorySyncAgentTimeout,
// PasswordSyncModeDetect otherwise.
func (s *Service) DirectorySyncMode(ctx context.Context) PasswordSyncMode {
	b, err := s.store.Get(ctx, keyDirectorySyncAgent)
	if err != nil {
		return PasswordSyncModeDetect
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil || s.now().Sub(t) > DirectorySyncAgentTimeout {
		return PasswordSyncModeDetect
	}
	return PasswordSyncModeAgent
}

// DirectoryPassword is where a mapped user's network password stands with
// respect to the online account.
type DirectoryPassword struct {
	UserID         backend.GUID
	SAMAccountName string
	// OnlineID is the online account's UPN.
	OnlineID string
	// PasswordLastSet is the directory's pwdLastSet (zero: must change at
	// next logon); LastSync the last push to the online account (zero:
	// never).
	PasswordLastSet time.Time
	LastSync        time.Time
	// NotSynced: the network password changed after the last push.
	NotSynced bool
	// Rejected: the last password pushed from the directory was refused
	// by Microsoft 365's rules.
	Rejected bool
	// Pending: an online update waits to be retried.
	Pending bool
	// Mode is the mode running; Advice says what to do (empty when in
	// step).
	Mode   PasswordSyncMode
	Advice string
}

// DirectoryPasswordStatus compares a user's network password time with its
// last push to the online account.
func (s *Service) DirectoryPasswordStatus(ctx context.Context, user string) (DirectoryPassword, error) {
	const op = "accounts: get directory password status"
	u, err := s.findUser(ctx, op, user)
	if err != nil {
		return DirectoryPassword{}, err
	}
	return s.directoryPassword(ctx, u, s.DirectorySyncMode(ctx)), nil
}

// UnsyncedPasswords lists the enabled users with an assigned online
// account whose network password changed after the last push ("network
// password changed, online password not synced"), whose last directory
// password was rejected by Microsoft 365, or whose update is pending. It
// reads the directory and the local state only.
func (s *Service) UnsyncedPasswords(ctx context.Context) ([]DirectoryPassword, error) {
	const op = "accounts: list unsynced passwords"
	mode := s.DirectorySyncMode(ctx)
	var out []DirectoryPassword
	for u, err := range s.dir.ListUsers(ctx) {
		if err != nil {
			return nil, backend.WithOp(err, op, "")
		}
		if m, _ := ParseMapping(u.OnlineAccount); m.State != MappingAssigned || m.ID == "" || !u.Enabled {
			continue
		}
		if dp := s.directoryPassword(ctx, u, mode); dp.NotSynced || dp.Rejected || dp.Pending {
			out = append(out, dp)
		}
	}
	return out, nil
}

func (s *Service) directoryPassword(ctx context.Context, u backend.DirectoryUser, mode PasswordSyncMode) DirectoryPassword {
	m, _ := ParseMapping(u.OnlineAccount)
	dp := DirectoryPassword{UserID: u.ID, SAMAccountName: u.SAMAccountName, OnlineID: m.UPN, PasswordLastSet: u.PasswordLastSet, Mode: mode}
	if m.ID == "" || m.State != MappingAssigned {
		return dp
	}
	last, ok := s.lastSync(ctx, u.ID)
	if ok {
		dp.LastSync = last
	}
	// The directory's clock and the tenant's may differ: SyncSkew is the
	// tolerance, as for a change made in the portal.
	dp.NotSynced = !u.PasswordLastSet.IsZero() && (!ok || u.PasswordLastSet.After(last.Add(s.opts.SyncSkew)))
	if _, err := s.store.Get(ctx, keyDirectorySyncRejected+u.ID.String()); err == nil {
		dp.Rejected = true
	}
	if _, err := s.store.Get(ctx, keyPending+u.ID.String()); err == nil {
		dp.Pending = true
	}
	switch {
	case dp.Rejected:
		dp.Advice = "Microsoft 365 refused the user's new network password (its rules differ from the domain's); " +
			"the online password is the previous one. Have the user choose a password of 8 to 256 characters with 3 of: upper-case, lower-case, digits, symbols."
	case dp.Pending:
		dp.Advice = "An online password update is pending; it is retried by RetryPendingPasswords and Reconcile."
	case dp.NotSynced && mode == PasswordSyncModeAgent:
		dp.Advice = PasswordSyncAgentAdvice
	case dp.NotSynced:
		dp.Advice = PasswordNotSyncedAdvice
	}
	return dp
}
