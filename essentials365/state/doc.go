// Package state is the SDK's local state: a small key-value Store for what
// the services cannot keep in Active Directory or Microsoft 365 (change
// watermarks, records of the accounts the SDK manages, pending password
// updates, the integration record), and the Sealer that encrypts secrets
// before they reach it.
//
// Keys are namespaced by the package that owns them ("accounts/...").
//
// State never silently resets: a missing key is NotFound, but an entry
// that is empty, truncated, altered or moved is an error (a FileStore
// checks a SHA-256 of each entry's key and value, ReasonStoreCorrupt),
// never a missing or empty value. See FileStore for its guarantees
// (exclusive lock, private directory, atomic and durable writes).
//
// Secrets are sealed with AES-256-GCM (AESSealer) under a key the caller
// keeps; SealWith binds a sealed value to additional data (the owner of
// the value, its version), so a value copied to another entry does not
// open.
package state
