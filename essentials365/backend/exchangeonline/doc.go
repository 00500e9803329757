// Package exchangeonline is the Exchange Online driver of backend.Exchange
// (and so of backend.Mail): recipients' email addresses and distribution
// groups, through Exchange Online's admin REST endpoint
//
//	POST https://outlook.office365.com/adminapi/beta/{tenant}/InvokeCommand
//	{"CmdletInput":{"CmdletName":"New-DistributionGroup","Parameters":{...}}}
//
// the endpoint the Exchange Online PowerShell module v3 uses. Microsoft
// Graph cannot do this work: proxyAddresses and distribution groups are
// read-only there. The driver uses plain net/http and any
// azcore.TokenCredential for the scope https://outlook.office365.com/.default
// (azidentity's client secret or certificate credential for an app with
// Exchange.ManageAsApp and an Exchange administrator role, or [StaticToken]
// for an emulator); it adds no other dependency.
//
//	cred, _ := azidentity.NewClientSecretCredential(tenantID, clientID, secret, nil)
//	x, err := exchangeonline.New(tenantID, cred, nil)
//	svc, err := accounts.New(dir, graphTenant, &accounts.Options{Mail: x})
//
// # Requests
//
// Every call is one POST with the headers the PowerShell module sends:
// Authorization, Content-Type application/json, X-CmdletName,
// X-ResponseFormat json, X-SerializationLevel Partial, Prefer
// odata.maxpagesize=<PageSize>, X-AnchorMailbox (APP:SystemMailbox{...}@tenant
// for app-only sessions), a connection-id per driver and a
// client-request-id per request. Listings follow @odata.nextLink by
// re-POSTing the same body to it. Output objects' annotations
// ("EmailAddresses@odata.type") are ignored.
//
// # Errors, retries and pacing
//
// Errors are *backend.Error values whose cause is a [*ServiceError]. The
// kind comes first from the exception type inside details[].message
// ("<ExId>|<Exception.Type>|<text>"), because the HTTP status of each
// error class is not documented; then from the text and the status. 429,
// and the text "You have reached the maximum number of concurrent
// requests per tenant", are Throttled with the Retry-After (seconds or a
// date); 408/502/503/504 are Unavailable. The driver never retries: the
// portable packages' retry.Policy does. Writes are paced with package
// pacer, which also pauses after a throttled answer and slows down when
// Rate-Limit-Remaining falls under a fifth of Rate-Limit-Limit.
//
// # Cmdlets used
//
//	GetRecipient, ListAliases      Get-Recipient -Identity
//	AddAlias, RemoveAlias          Get-Recipient, then Set-Mailbox or
//	                               Set-DistributionGroup -EmailAddresses
//	                               @{Add|Remove="smtp:..."}
//	ListGroups, GetGroup           Get-DistributionGroup [-Identity] -ResultSize Unlimited
//	CreateGroup                    New-DistributionGroup -Name -DisplayName -Alias
//	                               -PrimarySmtpAddress -Description -Type Distribution
//	                               -RequireSenderAuthenticationEnabled
//	UpdateGroup                    Set-DistributionGroup -DisplayName -Description
//	                               -RequireSenderAuthenticationEnabled
//	DeleteGroup                    Remove-DistributionGroup
//	ListMembers                    Get-DistributionGroupMember -ResultSize Unlimited
//	AddMember, RemoveMember        Add-/Remove-DistributionGroupMember -Member
//
// # Assumptions about an unofficial surface
//
// Microsoft documents only six read endpoints of its v2.0 admin API; the
// beta InvokeCommand surface this driver needs is unofficial and "can
// change at any time". What the driver assumes, and how a change shows:
//
//   - The endpoint path, the CmdletInput envelope, the value/@odata.nextLink
//     answer and paging by re-POSTing to the link (seen in captured
//     traffic and in public clients). A change gives errors of kind
//     Unavailable whose message says the envelope was not the one
//     expected, or 404s on every call.
//   - Hashtable parameters as {"@odata.type":"#Exchange.GenericHashTable",
//     "Add":[...]} (public clients). A change gives InvalidArgument
//     answers from Set-Mailbox/Set-DistributionGroup.
//   - Output property names Guid, ExternalDirectoryObjectId, Name,
//     DisplayName, Alias, PrimarySmtpAddress, EmailAddresses (with SMTP:/smtp:
//     prefixes), RecipientTypeDetails, RequireSenderAuthenticationEnabled
//     and Description (a list of lines or a string). A renamed property
//     shows as empty fields: the conformance suite run against a test
//     tenant fails on them at once.
//   - Exception types: ManagementObjectNotFoundException and
//     MemberAlreadyExistsException are seen in real answers;
//     MemberNotFoundException, ProxyAddressExistsException,
//     ADObjectAlreadyExistsException, RecipientTaskException,
//     DataValidationException, CmdletAccessDeniedException and
//     OverBudgetException are Exchange's names for those failures, not
//     seen on this surface. Texts are matched as a fallback ("is already
//     being used", "couldn't be found", "accepted domain"). An unknown
//     exception becomes InvalidArgument without a Reason (a 4xx) or
//     Unavailable (a 5xx), and [ServiceError] keeps the exception type and
//     text for the vendor's logs.
//   - Removing an address the recipient lacks is checked by the driver
//     (Get-Recipient first), as Exchange is assumed to ignore it.
//   - The Rate-Limit-* headers (seen once, semantics undocumented) only
//     slow writes down; their absence changes nothing.
//
// A vendor notices a change through the driver's errors (kinds Unavailable
// with "unofficial InvokeCommand surface may have changed", or
// InvalidArgument with a ServiceError naming an unknown exception), and
// should run backendtest.RunExchangeTests against a test tenant after
// Microsoft announces changes to the Exchange Online PowerShell module.
package exchangeonline
