package memory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// DirectoryOp names an operation of the memory [Directory] in its call log
// and for fault injection: the method's name.
type DirectoryOp string

// The operations of [Directory]. DirOpAny matches every operation in
// FailNext and AddFault.
const (
	DirOpAny                     DirectoryOp = "*"
	DirOpInfo                    DirectoryOp = "Info"
	DirOpListUsers               DirectoryOp = "ListUsers"
	DirOpGetUser                 DirectoryOp = "GetUser"
	DirOpGetUserBySAMAccountName DirectoryOp = "GetUserBySAMAccountName"
	DirOpGetUserByUPN            DirectoryOp = "GetUserByUPN"
	DirOpCreateUser              DirectoryOp = "CreateUser"
	DirOpSetEnabled              DirectoryOp = "SetEnabled"
	DirOpDeleteUser              DirectoryOp = "DeleteUser"
	DirOpResetPassword           DirectoryOp = "ResetPassword"
	DirOpChangePassword          DirectoryOp = "ChangePassword"
	DirOpSetMustChangePassword   DirectoryOp = "SetMustChangePassword"
	DirOpSetOnlineAccount        DirectoryOp = "SetOnlineAccount"
	DirOpPasswordPolicy          DirectoryOp = "PasswordPolicy"
	DirOpUserPasswordPolicy      DirectoryOp = "UserPasswordPolicy"
	DirOpSetFineGrainedPolicy    DirectoryOp = "SetFineGrainedPolicy"
	DirOpChanges                 DirectoryOp = "Changes"
	DirOpAuthenticate            DirectoryOp = "Authenticate"
)

// dirErrOps gives each operation the Op its errors carry, the wording the
// LDAP driver uses too.
var dirErrOps = map[DirectoryOp]string{
	DirOpInfo:                    backend.OpDirectoryInfo,
	DirOpListUsers:               backend.OpDirectoryListUsers,
	DirOpGetUser:                 backend.OpDirectoryGetUser,
	DirOpGetUserBySAMAccountName: backend.OpDirectoryGetUserBySAM,
	DirOpGetUserByUPN:            backend.OpDirectoryGetUserByUPN,
	DirOpCreateUser:              backend.OpDirectoryCreateUser,
	DirOpSetEnabled:              backend.OpDirectorySetEnabled,
	DirOpDeleteUser:              backend.OpDirectoryDeleteUser,
	DirOpResetPassword:           backend.OpDirectoryResetPassword,
	DirOpChangePassword:          backend.OpDirectoryChangePassword,
	DirOpSetMustChangePassword:   backend.OpDirectorySetMustChangePassword,
	DirOpSetOnlineAccount:        backend.OpDirectorySetOnlineAccount,
	DirOpPasswordPolicy:          backend.OpDirectoryPasswordPolicy,
	DirOpUserPasswordPolicy:      backend.OpDirectoryUserPasswordPolicy,
	DirOpSetFineGrainedPolicy:    "directory: set fine-grained policy",
	DirOpChanges:                 backend.OpDirectoryChanges,
	DirOpAuthenticate:            backend.OpDirectoryAuthenticate,
}

// errOp returns the Op of the operation's errors.
func (op DirectoryOp) errOp() string { return dirErrOps[op] }

// check panics when op is not an operation of the Directory: a misspelt
// name would otherwise inject nothing and the test would pass for the
// wrong reason.
func (op DirectoryOp) check(method string, anyOK bool) {
	if _, ok := dirErrOps[op]; ok || anyOK && op == DirOpAny {
		return
	}
	names := make([]string, 0, len(dirErrOps))
	for k := range dirErrOps {
		names = append(names, string(k))
	}
	slices.Sort(names)
	panic(fmt.Sprintf("memory: Directory.%s: unknown operation %q; use a DirOp constant (%s)", method, string(op), strings.Join(names, ", ")))
}

// FailNext makes the next n calls of op return err; [DirOpAny] matches
// every operation. It panics on an operation the Directory does not have.
func (d *Directory) FailNext(op DirectoryOp, n int, err error) {
	op.check("FailNext", true)
	d.recorder.FailNext(string(op), n, err)
}

// AddFault installs a fault consulted on every call of op ([DirOpAny]: of
// every operation) until ClearFaults; it can fail some calls by rate, key
// or context. It panics on an operation the Directory does not have.
func (d *Directory) AddFault(op DirectoryOp, f Fault) {
	op.check("AddFault", true)
	d.recorder.AddFault(string(op), f)
}

// CountCalls returns how many calls of op were recorded. It panics on an
// operation the Directory does not have.
func (d *Directory) CountCalls(op DirectoryOp) int {
	op.check("CountCalls", false)
	return d.recorder.CountCalls(string(op))
}
