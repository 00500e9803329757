package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Op names an operation of a memory driver for fault injection and the
// call log: the method's name. FailNext, AddFault and CountCalls take the
// constants below and refuse, with a panic naming the known ones, an Op
// the driver does not have: FailNext("CreatUser", ...) cannot silently
// inject nothing.
type Op string

// OpAny matches every operation of a driver.
const OpAny Op = "*"

// Operations of the memory Tenant.
const (
	OpOrganization                Op = "Organization"
	OpListUsers                   Op = "ListUsers"
	OpGetUser                     Op = "GetUser"
	OpGetUserByImmutableID        Op = "GetUserByImmutableID"
	OpCreateUser                  Op = "CreateUser"
	OpCreateUsers                 Op = "CreateUsers"
	OpUpdateUser                  Op = "UpdateUser"
	OpDeleteUser                  Op = "DeleteUser"
	OpRestoreUser                 Op = "RestoreUser"
	OpListDeletedUsers            Op = "ListDeletedUsers"
	OpSubscribedSKUs              Op = "SubscribedSKUs"
	OpAssignLicenses              Op = "AssignLicenses"
	OpAssignLicensesMany          Op = "AssignLicensesMany"
	OpDomains                     Op = "Domains"
	OpChanges                     Op = "Changes"
	OpChangePasswordInPortal      Op = "ChangePasswordInPortal"
	OpAddDomain                   Op = "AddDomain"
	OpVerificationRecords         Op = "VerificationRecords"
	OpServiceConfigurationRecords Op = "ServiceConfigurationRecords"
	OpVerifyDomain                Op = "VerifyDomain"
	OpDeleteDomain                Op = "DeleteDomain"
)

// Operations of the memory Directory (CreateUser, DeleteUser, GetUser,
// ListUsers and Changes are shared with the Tenant's names).
const (
	OpInfo                    Op = "Info"
	OpGetUserBySAMAccountName Op = "GetUserBySAMAccountName"
	OpGetUserByUPN            Op = "GetUserByUPN"
	OpSetEnabled              Op = "SetEnabled"
	OpResetPassword           Op = "ResetPassword"
	OpChangePassword          Op = "ChangePassword"
	OpSetMustChangePassword   Op = "SetMustChangePassword"
	OpSetOnlineAccount        Op = "SetOnlineAccount"
	OpAuthenticate            Op = "Authenticate"
)

// Operations of the memory Exchange (its Mail methods included).
const (
	OpAddAlias     Op = "AddAlias"
	OpRemoveAlias  Op = "RemoveAlias"
	OpListAliases  Op = "ListAliases"
	OpGetRecipient Op = "GetRecipient"
	OpListGroups   Op = "ListGroups"
	OpGetGroup     Op = "GetGroup"
	OpCreateGroup  Op = "CreateGroup"
	OpUpdateGroup  Op = "UpdateGroup"
	OpDeleteGroup  Op = "DeleteGroup"
	OpListMembers  Op = "ListMembers"
	OpAddMember    Op = "AddMember"
	OpRemoveMember Op = "RemoveMember"
)

// The operations of each driver, for checking fault names.
var (
	tenantOps = []Op{OpOrganization, OpListUsers, OpGetUser, OpGetUserByImmutableID, OpCreateUser, OpCreateUsers,
		OpUpdateUser, OpDeleteUser, OpRestoreUser, OpListDeletedUsers, OpSubscribedSKUs, OpAssignLicenses,
		OpAssignLicensesMany, OpDomains, OpChanges, OpChangePasswordInPortal, OpAddDomain, OpVerificationRecords,
		OpServiceConfigurationRecords, OpVerifyDomain, OpDeleteDomain}
	directoryOps = []Op{OpInfo, OpListUsers, OpGetUser, OpGetUserBySAMAccountName, OpGetUserByUPN, OpCreateUser,
		OpDeleteUser, OpSetEnabled, OpResetPassword, OpChangePassword, OpSetMustChangePassword, OpSetOnlineAccount,
		OpChanges, OpAuthenticate}
	mailOps = []Op{OpAddAlias, OpRemoveAlias, OpListAliases, OpGetRecipient, OpListGroups, OpGetGroup,
		OpCreateGroup, OpUpdateGroup, OpDeleteGroup, OpListMembers, OpAddMember, OpRemoveMember}
)

// newRecorder returns the recorder of a driver named driver whose
// operations are ops.
func newRecorder(driver string, ops ...Op) recorder {
	return recorder{driver: driver, ops: ops}
}

// check panics when op is not an operation of the driver: a misspelt
// fault would otherwise never fire and the test would pass for nothing.
func (r *recorder) check(method string, op Op) {
	if op == OpAny || r.ops == nil || slices.Contains(r.ops, op) {
		return
	}
	names := make([]string, len(r.ops))
	for i, o := range r.ops {
		names[i] = string(o)
	}
	panic(fmt.Sprintf("memory: %s.%s: %q is not an operation of the %s; use one of the memory.Op constants: %s",
		r.driver, method, op, r.driver, strings.Join(names, ", ")))
}

// Call is one recorded call to a memory driver.
type Call struct {
	// Op is the method name, e.g. "CreateUser".
	Op string
	// Key is the object the call was about ("" when none).
	Key string
	// Err is the error the call returned, nil on success.
	Err error
}

// Fault decides whether a call fails: it returns the error to return, or
// nil to let the call proceed.
type Fault func(ctx context.Context, op, key string) error

// recorder keeps the ordered call log and the injected faults of a driver.
type recorder struct {
	driver string // "Tenant", "Directory", "Mail"
	ops    []Op   // the driver's operations; nil accepts any
	mu     sync.Mutex
	calls  []Call
	faults map[string][]Fault // op -> queue; "*" applies to every op
}

// FailNext makes the next n calls of op fail with err. OpAny matches any
// operation. It panics when op is not an operation of the driver.
func (r *recorder) FailNext(op Op, n int, err error) {
	r.check("FailNext", op)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.faults == nil {
		r.faults = map[string][]Fault{}
	}
	for range n {
		r.faults[string(op)] = append(r.faults[string(op)], func(context.Context, string, string) error { return err })
	}
}

// AddFault installs a fault consulted on every call of op (or OpAny) until
// ClearFaults; it can fail some calls by rate, key or context. It panics
// when op is not an operation of the driver.
func (r *recorder) AddFault(op Op, f Fault) {
	r.check("AddFault", op)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.faults == nil {
		r.faults = map[string][]Fault{}
	}
	// A persistent fault is stored under a distinct key so failNext queues
	// are consumed first.
	key := "persistent:" + string(op)
	r.faults[key] = append(r.faults[key], f)
}

// ClearFaults removes every injected fault.
func (r *recorder) ClearFaults() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = nil
}

// fault returns the injected error for this call, if any.
func (r *recorder) fault(ctx context.Context, op, key string) error {
	r.mu.Lock()
	var once Fault
	for _, k := range []string{op, "*"} {
		if q := r.faults[k]; len(q) > 0 {
			once = q[0]
			r.faults[k] = q[1:]
			break
		}
	}
	persistent := slices.Clone(r.faults["persistent:"+op])
	persistent = append(persistent, r.faults["persistent:*"]...)
	r.mu.Unlock()
	if once != nil {
		if err := once(ctx, op, key); err != nil {
			return err
		}
	}
	for _, f := range persistent {
		if err := f(ctx, op, key); err != nil {
			return err
		}
	}
	return nil
}

func (r *recorder) record(op, key string, err error) {
	r.mu.Lock()
	r.calls = append(r.calls, Call{Op: op, Key: key, Err: err})
	r.mu.Unlock()
}

// Calls returns a copy of the ordered call log.
func (r *recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// ResetCalls empties the call log.
func (r *recorder) ResetCalls() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}

// CountCalls returns how many calls of op were recorded. It panics when op
// is not an operation of the driver.
func (r *recorder) CountCalls(op Op) int {
	r.check("CountCalls", op)
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c.Op == string(op) {
			n++
		}
	}
	return n
}
