package graphtenant

// Operations named in the driver's errors, worded as the tenant contract
// words them in every driver ("tenant: <verb> <object>").
const (
	opConnect              = "tenant: connect"
	opListUsers            = "tenant: list users"
	opGetUser              = "tenant: get user"
	opGetUserByImmutableID = "tenant: get user by immutable id"
	opCreateUser           = "tenant: create user"
	opUpdateUser           = "tenant: update user"
	opDeleteUser           = "tenant: delete user"
	opRestoreUser          = "tenant: restore user"
	opListDeletedUsers     = "tenant: list deleted users"
	opAssignLicenses       = "tenant: assign licenses"
	opChanges              = "tenant: list changes"
	opBatch                = "tenant: send batch"

	// DomainAdmin and the tenant facts.
	opOrganization                = "tenant: get organization"
	opSubscribedSKUs              = "tenant: list subscribed skus"
	opDomains                     = "tenant: list domains"
	opAddDomain                   = "tenant: add domain"
	opVerificationRecords         = "tenant: list verification records"
	opServiceConfigurationRecords = "tenant: list service configuration records"
	opVerifyDomain                = "tenant: verify domain"
	opDeleteDomain                = "tenant: delete domain"
	opForceDeleteDomain           = "tenant: force delete domain"
	opSetDefaultDomain            = "tenant: set default domain"
	opDomainReferences            = "tenant: list domain references"
)
