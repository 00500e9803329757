// Package pwsync is the password sync agent: it runs on a Samba Active
// Directory domain controller and pushes every password change made in the
// domain (at Ctrl+Alt+Del, by an administrator, over LDAP, SAMR or
// Kerberos) to the user's Microsoft 365 account within seconds, through
// accounts.Service.SyncDirectoryPassword. Windows Server Essentials did it
// with a password filter on the DC; Entra Connect's password hash sync runs
// every 2 minutes, on Windows only.
//
// # How it works
//
// Samba keeps each new password encrypted to a GPG key when smb.conf sets
// "password hash gpg key ids" (Samba built with gpgme), and
// `samba-tool user syncpasswords` hands each changed account, with the
// decrypted password, to a script as one LDIF record on the script's
// standard input. Setup prepares this idempotently (the key with an
// encryption subkey, a public-only keyring for samba, the option, the hook
// script, the syncpasswords cache); Diagnose says what is missing (Samba
// older than 4.12, no gpgme, no python3-gpg, the option not set).
//
// Agent.Run runs syncpasswords as a supervised child and listens on a Unix
// socket. The hook script syncpasswords runs for each change execs the
// agent's program, which calls RunHook: it passes its own standard input
// and output to the agent over the socket, so the agent reads the LDIF from
// syncpasswords' pipe and answers "DONE-EXIT: ..." on it. The password
// travels only on that pipe and in the call to the tenant; it is never
// logged, written or put in an error (Change.Password is a Secret that
// prints as "[redacted]").
//
// For each change the agent skips deletions, disabled accounts, records
// without a password and replays of a key version already handled
// (msDS-KeyVersionNumber rises with each password change; a disable or a
// rename replays the same password), and pushes the others. accounts
// pushes only to users with an assigned online account; a cloud failure
// becomes a pending update (sealed in the Store, retried every
// RetryInterval, never lost); a push clears "password sync broken"; each
// push is an audit.Event.
//
// # Faults
//
// A change is acknowledged (DONE-EXIT) once it was pushed, kept as
// pending, or judged hopeless (a password Microsoft 365 refuses, a user
// deleted since): one bad account never stops the others. When it can be
// neither pushed nor kept (the directory unreachable), the agent answers
// without DONE-EXIT: syncpasswords stops, the agent starts it again with a
// growing delay, and the change is delivered again (syncpasswords advances
// its cache only past acknowledged changes). After Options.MaxAttempts
// such deliveries the change is acknowledged as failed and shows up in
// accounts' UnsyncedPasswords. A killed agent kills syncpasswords (Linux);
// a change in flight is delivered again at the next start.
//
// # Every domain controller
//
// A password can change on any DC: set the option (and the public keyring
// in samba's environment) on every DC, and run the agent on one (the PDC
// emulator). samba, and any local samba-tool that sets passwords, must run
// with GNUPGHOME set to the public keyring, or password changes fail.
package pwsync
