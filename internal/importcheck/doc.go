// Package importcheck holds the tests that keep the module's layers apart.
//
// The layering test is deny by default: every package of the module must
// match a rule of [rules], and every import it makes (its tests' imports
// counted separately) must be allowed by that rule. A new package or a new
// kind of import fails the test until a rule, with its reason, says it is
// allowed. The rules, in short:
//
//   - essentials365/backend (the contracts) imports the standard library
//     only, so every driver and every portable package can depend on it;
//   - drivers (essentials365/backend/...) never import portable packages:
//     a driver serves every portable package, never the other way round;
//   - portable packages (accounts, dnsrecords, domains, groups, the
//     essentials365 lifecycle, state, retry, audit, the emulator) never
//     depend, even through their tests, on msgraph-sdk-go, kiota, azidentity
//     or go-ldap: only programs that use those drivers pay for compiling
//     them.
//
// A second test checks that every package has exactly one package doc.
package importcheck
