// Package backend holds the contracts between the portable packages of
// essentials365 (accounts, groups, domains, ...) and the services they drive:
// the on-premises Active Directory ([Directory]), the Microsoft 365 tenant
// ([Tenant]) and Exchange Online's mail settings ([Mail]).
//
// Drivers implement these interfaces: the in-memory drivers in package
// memory, and the real ones (LDAP, Microsoft Graph) in their own packages
// under essentials365/backend. Every driver runs the conformance suites of
// package backendtest, so a program tested against the memory drivers behaves
// the same against the real services.
//
// This package imports nothing but the standard library.
//
// # Errors
//
// Drivers return errors that carry one of a small set of kinds ([KindOf],
// and the sentinels [ErrNotFound], [ErrAlreadyExists], ... for errors.Is).
// The service's own error (an LDAP result, a Graph OData error) stays
// reachable through errors.As. Use [Errorf] and [Wrap] to build them.
//
// # Retries
//
// Drivers never retry. They classify: a throttled call returns an error of
// kind [Throttled] with the server's Retry-After ([RetryAfter]), a transient
// failure one of kind [Unavailable]. The portable layer (package accounts and
// its peers) owns the one retry loop.
//
// # Concurrency
//
// Every driver must be safe for concurrent use by multiple goroutines.
package backend
