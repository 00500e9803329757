// Package groups manages Exchange Online distribution groups and
// recipients' extra email addresses, as the Windows Server Essentials
// dashboard did once integrated with Microsoft 365 ("Manage distribution
// groups for Exchange Online"):
//
//   - the feature exists only when the subscription includes Exchange
//     Online ([Service.Available]; every call checks it and fails with
//     FailedPrecondition, ReasonNoExchangeOnline, otherwise);
//   - add a group with a name, an optional description and an email alias
//     ([Service.Create]); by default it receives mail from outside the
//     organization, which can be turned off (NewGroup.RejectExternalSenders,
//     [Service.Update]);
//   - its members are users with an active online account (licensed, not
//     blocked, with a mailbox) and other distribution groups; nested
//     groups are flattened by [Service.EffectiveMembers] and a group is
//     never nested in itself, directly or not (ReasonGroupCycle);
//   - change a group's members ([Service.ChangeMembers]);
//   - see and change a user's memberships from the user's side
//     ([Service.Memberships], [Service.ChangeMemberships]);
//   - remove a group ([Service.Delete]);
//   - give a user or a group extra email addresses ([Service.AddAddress]).
//
// Everything is checked before the first write (alias and address syntax,
// a verified domain, a name no other group has, an address no recipient
// uses, every member). Calls to the drivers go through retry.Policy, the
// SDK's one retry layer, and every write is recorded once in the audit
// trail (ops AuditCreateGroup, ...). A change made only in part returns an
// error whose cause is a *PartialError naming what failed; running the same
// call again completes it.
//
// The package is portable: it works over any backend.Tenant and
// backend.Exchange (memory drivers, or graphtenant and exchangeonline).
package groups
