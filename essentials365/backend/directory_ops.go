package backend

// Operation names of the [Directory] contract: the Op of every error a
// directory driver returns, worded "directory: <verb> <object>" and the
// same in every driver.
const (
	OpDirectoryOpen                  = "directory: open"
	OpDirectoryInfo                  = "directory: get info"
	OpDirectoryListUsers             = "directory: list users"
	OpDirectoryGetUser               = "directory: get user"
	OpDirectoryGetUserBySAM          = "directory: get user by sAMAccountName"
	OpDirectoryGetUserByUPN          = "directory: get user by UPN"
	OpDirectoryCreateUser            = "directory: create user"
	OpDirectorySetEnabled            = "directory: set enabled"
	OpDirectoryDeleteUser            = "directory: delete user"
	OpDirectoryResetPassword         = "directory: reset password"
	OpDirectoryChangePassword        = "directory: change password"
	OpDirectorySetMustChangePassword = "directory: set must change password"
	OpDirectorySetOnlineAccount      = "directory: set online account"
	OpDirectoryPasswordPolicy        = "directory: get password policy"
	OpDirectoryUserPasswordPolicy    = "directory: get user password policy"
	OpDirectoryChanges               = "directory: list changes"
	OpDirectoryAuthenticate          = "directory: authenticate user"
)
