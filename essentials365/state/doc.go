// Package state keeps the SDK's local state: a [Store] of small values
// under namespaced keys (watermarks, last-sync times, pending password
// updates, the integration record) and a [Sealer] that encrypts every
// secret before it reaches a store, so that nothing secret is ever written
// in clear.
//
// [FileStore] keeps one file per key in a private directory with atomic
// writes; [MemoryStore] is for tests and short-lived programs.
package state
