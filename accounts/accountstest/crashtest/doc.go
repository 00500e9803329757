// Package crashtest proves that the account flows finish after the process
// running them is killed with SIGKILL at any step, over the real parts: a
// Samba AD DC (adldap), the Graph driver (graphtenant) through the
// Microsoft 365 emulator, and a FileStore. Its test re-executes the test
// binary as a child that runs a bulk create and stops right after its n-th
// write, kills the child with SIGKILL, runs the flow again in a new child,
// and checks that every step happened once, must-change included. It also
// fails each write once (without making it) and checks that a rerun
// finishes, and kills a SetPassword right before its cloud push and checks
// that a new process pushes the pending update.
//
// The package holds no code besides its tests; it lives apart from
// accountstest so that the light packages never depend on the drivers.
package crashtest
