package backend

import (
	"context"
	"iter"
	"time"
)

// Directory is the on-premises Active Directory domain: its users, their
// passwords, and the attribute where each user's online account is recorded.
//
// Users are addressed by their objectGUID ([GUID]), which never changes;
// lookups by sAMAccountName and UPN find that GUID.
//
// Every name a driver takes (sAMAccountName, userPrincipalName, display,
// given and surname) and every lookup key is checked with [CheckName]
// before any I/O: a control character gives InvalidArgument with
// [ReasonNameCharacters], never a lookup of another user.
type Directory interface {
	// Info returns facts about the domain and the server the driver talks to.
	Info(ctx context.Context) (DomainInfo, error)

	// ListUsers streams the domain's user accounts (not computers, not
	// built-in service accounts such as krbtgt). Drivers page through the
	// directory; the whole list is never held in memory. Iteration stops at
	// the first error, which is yielded with a zero User.
	ListUsers(ctx context.Context) iter.Seq2[DirectoryUser, error]

	// GetUser returns the user with that objectGUID, or NotFound.
	GetUser(ctx context.Context, id GUID) (DirectoryUser, error)
	// GetUserBySAMAccountName finds a user by its pre-Windows 2000 logon
	// name (case-insensitive), or NotFound.
	GetUserBySAMAccountName(ctx context.Context, sam string) (DirectoryUser, error)
	// GetUserByUPN finds a user by its userPrincipalName
	// (case-insensitive), or NotFound.
	GetUserByUPN(ctx context.Context, upn string) (DirectoryUser, error)

	// CreateUser creates an enabled user (unless u.Disabled) with the given
	// password, which must satisfy the domain's password policy
	// (InvalidArgument with the failed rule otherwise). A taken
	// sAMAccountName or UPN gives AlreadyExists.
	//
	// The user's relative name (CN) is its display name, else its
	// sAMAccountName. When another object of the container already has
	// that CN (two people called Jean Martin), the CN becomes the display
	// name followed by the sAMAccountName in parentheses, "Jean Martin
	// (jmartin2)", the display name cut so that the CN keeps within 64
	// characters ([UniqueCN]); the returned user's DN shows the CN used,
	// and its DisplayName stays as given.
	CreateUser(ctx context.Context, u NewDirectoryUser) (DirectoryUser, error)
	// SetEnabled enables or disables the account, keeping its other flags.
	SetEnabled(ctx context.Context, id GUID, enabled bool) error
	// DeleteUser deletes the account.
	DeleteUser(ctx context.Context, id GUID) error

	// ResetPassword sets a new password as an administrator does, and
	// whether the user must change it at next logon.
	ResetPassword(ctx context.Context, id GUID, password string, mustChange bool) error
	// ChangePassword changes the password as the user does: the old one
	// must be right ([ReasonOldPassword] otherwise), the password must be
	// older than the policy's minimum age unless the user must change it
	// at next logon ([ReasonPasswordMinAge], whose message says when a
	// change becomes possible), and the new one must satisfy the policy
	// and not be in the history ([ReasonPasswordHistory]). The rules are
	// checked in that order, as Active Directory does.
	ChangePassword(ctx context.Context, id GUID, oldPassword, newPassword string) error
	// SetMustChangePassword sets or clears "user must change password at
	// next logon" without changing the password.
	SetMustChangePassword(ctx context.Context, id GUID, mustChange bool) error

	// PasswordPolicy returns the domain's password policy: minimum length,
	// complexity, history length, minimum and maximum age, lockout.
	PasswordPolicy(ctx context.Context) (PasswordPolicy, error)
	// UserPasswordPolicy returns the policy that applies to the user id:
	// its resultant fine-grained policy (msDS-ResultantPSO) when one
	// applies, with Source set to the policy's DN, else the domain's. A
	// caller pre-checks a new password with it ([PasswordPolicy.CheckPassword],
	// [PasswordPolicy.CheckMinAge] against the user's PasswordLastSet).
	UserPasswordPolicy(ctx context.Context, id GUID) (PasswordPolicy, error)

	// SetOnlineAccount writes the attribute where the user's online
	// account is recorded; "" clears it.
	SetOnlineAccount(ctx context.Context, id GUID, value string) error

	// Changes returns what changed since the watermark: created, modified,
	// disabled, enabled and deleted users. An empty watermark returns every
	// current user as an upsert. The returned Watermark is opaque; pass it
	// to the next call. When More is set, call again at once with it.
	Changes(ctx context.Context, watermark string) (DirectoryChanges, error)
}

// DomainInfo describes the domain, for the integration's requirements check.
type DomainInfo struct {
	// DNSName is the domain's DNS name, e.g. "contoso.local".
	DNSName string
	// NetBIOSName is the short domain name, e.g. "CONTOSO".
	NetBIOSName string
	// BaseDN is the domain's naming context, e.g. "DC=contoso,DC=local".
	BaseDN string
	// DomainControllers counts the domain controllers of the domain.
	DomainControllers int
	// ServerIsDomainController reports whether the server the driver talks
	// to is a domain controller.
	ServerIsDomainController bool
	// FunctionalLevel is the domain functional level (e.g. 4 for Windows
	// Server 2008 R2).
	FunctionalLevel int
}

// DirectoryUser is a user account in Active Directory.
type DirectoryUser struct {
	// ID is the objectGUID.
	ID GUID
	// DN is the distinguished name; it changes when the user is renamed or
	// moved.
	DN                string
	SAMAccountName    string
	UserPrincipalName string
	DisplayName       string
	GivenName         string
	Surname           string
	Mail              string
	Enabled           bool
	// MustChangePassword is set when the user must change password at next
	// logon (pwdLastSet is 0).
	MustChangePassword bool
	// PasswordLastSet is when the password was last set; zero when it must
	// be changed at next logon.
	PasswordLastSet time.Time
	// OnlineAccount is the value of the attribute where the online account
	// is recorded, "" when none.
	OnlineAccount string
}

// NewDirectoryUser is what [Directory.CreateUser] takes.
type NewDirectoryUser struct {
	SAMAccountName     string
	UserPrincipalName  string
	DisplayName        string
	GivenName          string
	Surname            string
	Password           string
	MustChangePassword bool
	Disabled           bool
	// OnlineAccount is written to the mapping attribute at creation.
	OnlineAccount string
}

// DirectoryChanges is one answer of [Directory.Changes].
type DirectoryChanges struct {
	Changes   []DirectoryChange
	Watermark string
	More      bool
}

// ChangeType says what happened to a user.
type ChangeType int

const (
	// Upserted: the user was created or modified; User holds its state now.
	Upserted ChangeType = iota + 1
	// Deleted: the user was deleted; only User.ID (and, when the driver
	// knows them, its names) are set.
	Deleted
)

func (c ChangeType) String() string {
	switch c {
	case Upserted:
		return "upserted"
	case Deleted:
		return "deleted"
	}
	return "unknown"
}

// DirectoryChange is one changed user.
type DirectoryChange struct {
	Type ChangeType
	User DirectoryUser
}
