// Package backendtest holds the conformance suites that every driver of
// package backend runs: the in-memory drivers of package memory and the real
// ones (LDAP against a domain controller, Microsoft Graph). A suite is an
// exported function taking a *testing.T and a harness that makes the driver
// under test, so the fakes and the real services are held to the same
// behaviour, and a program tested against the fakes behaves the same in
// production.
//
// The suites assume neither an empty service nor exclusive use of it: they
// create objects with unique names ([UniqueName]), look only at those, and
// delete them with t.Cleanup. A harness may implement optional capability
// interfaces: [Authenticator] unlocks the logon checks, and
// [PasswordNameRule] declares that a domain does not enforce one of AD's
// password rules. A suite skips, with a message saying why, the checks a
// harness has declared out of reach; it never skips silently.
//
// This package is meant for tests; it imports package testing.
package backendtest
