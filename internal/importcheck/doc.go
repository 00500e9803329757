// Package importcheck holds the test that keeps the portable packages free
// of the heavy backend libraries (msgraph-sdk-go, azidentity, go-ldap): only
// the drivers that need them, and the programs that use those drivers, pay
// for compiling them.
package importcheck
