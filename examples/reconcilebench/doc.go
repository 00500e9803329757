// Command reconcilebench measures a full reconcile of many users through
// the Graph driver, with the Microsoft 365 emulator in another process,
// and prints the reconciling process's peak resident memory (VmHWM):
//
//	go run ./examples/reconcilebench -users 100000 -runs 3
//
// It starts three kinds of child processes of its own binary: the
// emulator, seeded with the users' online accounts (each anchored to its
// network user, a fiftieth of them with sign-in blocked); an "sdk" child
// that runs accounts.Reconcile twice (a first run, which records every
// account as managed, then a full run with nothing to change); and a
// "baseline" child, the floor any reconciler pays: one full delta round of
// the tenant through the same driver into a map of the sign-in states and
// one pass over the directory comparing them, nothing recorded. Each child
// is a new process, so each VmHWM is its own; sdk and baseline runs are
// interleaved, and the program prints every run, the medians, the
// min–max and the sdk/baseline ratios.
//
// The directory is synthetic and streamed (users generated from their
// index, never held), standing for Active Directory in its own process:
// the measured memory is the SDK's, not a fake directory's. The Graph
// driver pages at 999 (Config.PageSize), the largest Graph allows.
package main
