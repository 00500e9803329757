// Package sambatest gives tests the settings of the throwaway Samba Active
// Directory domain controller that scripts/samba-dc starts on loopback.
//
// Tests call [Settings]; it skips the test when the E365_LDAP_* variables
// are absent, and fails it instead when E365_REQUIRE_INTEGRATION=1 (as CI
// sets), so an integration run never passes by skipping everything.
//
// [DNSZone] creates a zone on the DC's internal DNS for the tests of the
// DNS paths.
//
// The package imports only the standard library and miekg/dns, so any
// package's tests can use it without pulling in an LDAP client.
package sambatest
