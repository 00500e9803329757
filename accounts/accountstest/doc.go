// Package accountstest runs the account flows of package accounts end to end
// over any pair of drivers: the memory ones, a real domain controller
// (adldap) with the memory tenant, or the memory directory with the Graph
// driver through the Microsoft 365 emulator. The harnesses are those of
// package backendtest, so every driver that passes its conformance suite can
// also show that the flows built on it work.
//
// The flows assume neither an empty directory nor exclusive use of it: they
// create users with unique names, act only on those, and delete them when
// done. Each flow gets a fresh tenant from the harness.
package accountstest
