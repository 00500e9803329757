package memory

import (
	"context"
	"slices"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Operations of the memory Directory beyond the ones faults.go lists: its
// password policy reads and fine-grained policies.
const (
	OpPasswordPolicy       Op = "PasswordPolicy"
	OpUserPasswordPolicy   Op = "UserPasswordPolicy"
	OpSetFineGrainedPolicy Op = "SetFineGrainedPolicy"
)

// dirOps returns every operation of the Directory, for checking fault
// names.
func dirOps() []Op {
	return append(slices.Clone(directoryOps), OpPasswordPolicy, OpUserPasswordPolicy, OpSetFineGrainedPolicy)
}

// dirErrOps gives each operation the Op its errors carry, the wording the
// LDAP driver uses too.
var dirErrOps = map[Op]string{
	OpInfo:                    backend.OpDirectoryInfo,
	OpListUsers:               backend.OpDirectoryListUsers,
	OpGetUser:                 backend.OpDirectoryGetUser,
	OpGetUserBySAMAccountName: backend.OpDirectoryGetUserBySAM,
	OpGetUserByUPN:            backend.OpDirectoryGetUserByUPN,
	OpCreateUser:              backend.OpDirectoryCreateUser,
	OpSetEnabled:              backend.OpDirectorySetEnabled,
	OpDeleteUser:              backend.OpDirectoryDeleteUser,
	OpResetPassword:           backend.OpDirectoryResetPassword,
	OpChangePassword:          backend.OpDirectoryChangePassword,
	OpSetMustChangePassword:   backend.OpDirectorySetMustChangePassword,
	OpSetOnlineAccount:        backend.OpDirectorySetOnlineAccount,
	OpPasswordPolicy:          backend.OpDirectoryPasswordPolicy,
	OpUserPasswordPolicy:      backend.OpDirectoryUserPasswordPolicy,
	OpSetFineGrainedPolicy:    "directory: set fine-grained policy",
	OpChanges:                 backend.OpDirectoryChanges,
	OpAuthenticate:            backend.OpDirectoryAuthenticate,
}

// dirErrOp returns the Op of the errors of the Directory's operation op.
func dirErrOp(op Op) string { return dirErrOps[op] }

// dirEnterOp is dirEnter for a typed operation.
func (d *Directory) dirEnterOp(ctx context.Context, op Op, key string) error {
	return d.dirEnter(ctx, string(op), dirErrOp(op), key)
}
