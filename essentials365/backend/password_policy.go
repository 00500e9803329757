package backend

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// PasswordPolicy is a password policy as Active Directory applies it: the
// domain's (the attributes of the domain object) or a fine-grained one (a
// password settings object, PSO, that applies to the user through
// msDS-ResultantPSO). Durations are positive; zero means "none".
type PasswordPolicy struct {
	// MinLength is the fewest characters a password has (minPwdLength).
	MinLength int
	// Complexity is the complexity rule (pwdProperties bit 1): characters
	// of three kinds among upper case, lower case, digits, letters without
	// case and symbols, and neither the account name nor a 3+ character
	// part of the user's name.
	Complexity bool
	// HistoryLength is how many passwords are remembered, the current one
	// included: a user's change to one of them is refused
	// (pwdHistoryLength). An administrator's reset is not checked.
	HistoryLength int
	// MinAge is how long a user keeps a password before changing it
	// (minPwdAge). It does not apply to an administrator's reset, nor when
	// the user must change the password at next logon.
	MinAge time.Duration
	// MaxAge is when a password expires (maxPwdAge); zero: never.
	MaxAge time.Duration
	// LockoutThreshold is how many bad passwords lock the account
	// (lockoutThreshold); zero: never locked.
	LockoutThreshold int
	// LockoutDuration is how long a locked account stays locked
	// (lockoutDuration); zero: until an administrator unlocks it.
	LockoutDuration time.Duration
	// LockoutWindow is the time after which the bad-password count is
	// reset (lockOutObservationWindow).
	LockoutWindow time.Duration
	// Source is the distinguished name of the password settings object the
	// policy comes from, or "" for the domain's policy.
	Source string
}

// DefaultPasswordPolicy returns Windows' default domain policy, which
// Samba also provisions: 7 characters, complexity, 24 remembered
// passwords, a minimum age of 1 day, a maximum of 42 days, no lockout
// (with a 30-minute duration and window should a threshold be set).
func DefaultPasswordPolicy() PasswordPolicy {
	return PasswordPolicy{
		MinLength:       7,
		Complexity:      true,
		HistoryLength:   24,
		MinAge:          24 * time.Hour,
		MaxAge:          42 * 24 * time.Hour,
		LockoutDuration: 30 * time.Minute,
		LockoutWindow:   30 * time.Minute,
	}
}

// CheckPassword applies the policy's length and complexity rules to a new
// password of the user named sam (display name displayName), as a domain
// controller does on a reset or a change, and returns the first rule
// broken: [ReasonPasswordLength], [ReasonPasswordComplexity] or
// [ReasonPasswordContainsName], as InvalidArgument errors for op and key.
// History and minimum age depend on the user's state; see [ChangeAllowedAt].
func (p PasswordPolicy) CheckPassword(op, key, password, sam, displayName string) error {
	if n := utf8.RuneCountInString(password); n < p.MinLength {
		return Invalid(op, key, ReasonPasswordLength, "a password has at least %d characters", p.MinLength)
	}
	if !p.Complexity {
		return nil
	}
	if PasswordClasses(password) < 3 {
		return Invalid(op, key, ReasonPasswordComplexity,
			"a password holds characters of 3 kinds: upper case, lower case, digits, symbols")
	}
	if PasswordContainsName(password, sam, displayName) {
		return Invalid(op, key, ReasonPasswordContainsName, "a password cannot contain the account name or part of the user's name")
	}
	return nil
}

// ChangeAllowedAt returns when a user whose password was last set at
// lastSet may change it under the policy's minimum age. A zero lastSet
// (the user must change the password at next logon) or a zero MinAge
// allows a change at once: the zero time is returned.
func (p PasswordPolicy) ChangeAllowedAt(lastSet time.Time) time.Time {
	if lastSet.IsZero() || p.MinAge <= 0 {
		return time.Time{}
	}
	return lastSet.Add(p.MinAge)
}

// CheckMinAge refuses a user's change at now when the password was last
// set less than the policy's minimum age ago, with [PasswordPolicy.MinAgeError].
func (p PasswordPolicy) CheckMinAge(op, key string, lastSet, now time.Time) error {
	at := p.ChangeAllowedAt(lastSet)
	if at.IsZero() || !now.Before(at) {
		return nil
	}
	return p.MinAgeError(op, key, lastSet)
}

// MinAgeError is the refusal of a change under the minimum password age:
// an InvalidArgument error with [ReasonPasswordMinAge] whose message gives
// the minimum age, the time (UTC) from which the user can change the
// password, and that an administrator can reset it meanwhile.
func (p PasswordPolicy) MinAgeError(op, key string, lastSet time.Time) *Error {
	at := p.ChangeAllowedAt(lastSet)
	if at.IsZero() {
		return Invalid(op, key, ReasonPasswordMinAge,
			"the password is too recent to change (the minimum password age); an administrator can reset it meanwhile")
	}
	return Invalid(op, key, ReasonPasswordMinAge,
		"the password was set less than %s ago (the minimum password age): the user can change it from %s; an administrator can reset it meanwhile",
		formatAge(p.MinAge), at.UTC().Format(time.RFC3339))
}

// formatAge writes a policy duration in days when it is whole days.
func formatAge(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}
