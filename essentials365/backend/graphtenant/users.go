package graphtenant

import (
	"context"
	"iter"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/essentials365/sdk/essentials365/backend"
)

// userSelect is the $select of every user read: exactly the properties
// backend.OnlineUser holds.
var userSelect = []string{
	"id", "userPrincipalName", "displayName", "givenName", "surname", "mailNickname", "mail", "usageLocation",
	"accountEnabled", "onPremisesImmutableId", "lastPasswordChangeDateTime", "assignedLicenses",
}

func (t *Tenant) usersBuilder() *users.UsersRequestBuilder {
	return users.NewUsersRequestBuilderInternal(map[string]string{}, t.adapter)
}

// userBuilder returns the request builder of /users/{idOrUPN}. A
// userPrincipalName starting with '$' is addressed as
// /users('$x@contoso.com'), as Graph requires
// (https://learn.microsoft.com/graph/api/user-get: "If the
// userPrincipalName begins with a $ character, remove the slash (/) after
// /users and enclose the userPrincipalName in parentheses and single
// quotes"). Such a builder holds a raw URL, whose query the SDK does not
// rewrite: selected says whether it carries the $select of userSelect.
func (t *Tenant) userBuilder(idOrUPN string, selected bool) *users.UserItemRequestBuilder {
	if raw, ok := t.quotedUserURL(idOrUPN, "", selected); ok {
		return users.NewUserItemRequestBuilder(raw, t.adapter)
	}
	return t.usersBuilder().ByUserId(idOrUPN)
}

// assignLicenseBuilder returns the builder of /users/{id}/assignLicense,
// with the quoted form for a '$' userPrincipalName.
func (t *Tenant) assignLicenseBuilder(idOrUPN string) *users.ItemAssignLicenseRequestBuilder {
	if raw, ok := t.quotedUserURL(idOrUPN, "/assignLicense", false); ok {
		return users.NewItemAssignLicenseRequestBuilder(raw, t.adapter)
	}
	return t.usersBuilder().ByUserId(idOrUPN).AssignLicense()
}

// quotedUserURL returns the absolute /users('...') URL of a key starting
// with '$' (a quote in it doubled, as OData literals are written), or false
// for any other key.
func (t *Tenant) quotedUserURL(key, suffix string, selected bool) (string, bool) {
	if !strings.HasPrefix(key, "$") {
		return "", false
	}
	u := t.base.String() + "/users('" + url.PathEscape(strings.ReplaceAll(key, "'", "''")) + "')" + suffix
	if selected {
		u += "?%24select=" + strings.Join(userSelect, ",")
	}
	return u, true
}

// userGetConfig is the configuration of every user read: userSelect.
func userGetConfig() *users.UserItemRequestBuilderGetRequestConfiguration {
	return &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userSelect},
	}
}

// ListUsers streams the tenant's users, one page of PageSize per request.
func (t *Tenant) ListUsers(ctx context.Context) iter.Seq2[backend.OnlineUser, error] {
	const op = opListUsers
	return func(yield func(backend.OnlineUser, error) bool) {
		if err := backend.CtxErr(ctx, op); err != nil {
			yield(backend.OnlineUser{}, err)
			return
		}
		top := t.pageSize
		page, err := t.usersBuilder().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: userSelect, Top: &top},
		})
		for {
			if err != nil {
				yield(backend.OnlineUser{}, classify(err, op, "", t.now()))
				return
			}
			for _, u := range page.GetValue() {
				if !yield(fromUser(u), nil) {
					return
				}
			}
			next := deref(page.GetOdataNextLink())
			if next == "" {
				return
			}
			if err := t.checkLink(next); err != nil {
				yield(backend.OnlineUser{}, backend.Wrap(err, backend.Unknown, op, ""))
				return
			}
			page, err = users.NewUsersRequestBuilder(next, t.adapter).Get(ctx, nil)
		}
	}
}

// GetUser returns the user with that object id or userPrincipalName.
func (t *Tenant) GetUser(ctx context.Context, idOrUPN string) (backend.OnlineUser, error) {
	const op = opGetUser
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.OnlineUser{}, err
	}
	if strings.TrimSpace(idOrUPN) == "" {
		return backend.OnlineUser{}, backend.Errorf(backend.NotFound, op, idOrUPN, "no user has an empty id")
	}
	u, err := t.getUser(ctx, idOrUPN)
	if err != nil {
		return backend.OnlineUser{}, classify(err, op, idOrUPN, t.now())
	}
	return fromUser(u), nil
}

func (t *Tenant) getUser(ctx context.Context, idOrUPN string) (models.Userable, error) {
	return t.userBuilder(idOrUPN, true).Get(ctx, userGetConfig())
}

// GetUserByImmutableID finds the user whose onPremisesImmutableId is id.
func (t *Tenant) GetUserByImmutableID(ctx context.Context, id string) (backend.OnlineUser, error) {
	const op = opGetUserByImmutableID
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.OnlineUser{}, err
	}
	filter := "onPremisesImmutableId eq '" + strings.ReplaceAll(id, "'", "''") + "'"
	top := int32(1)
	page, err := t.usersBuilder().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: userSelect, Filter: &filter, Top: &top},
	})
	if err != nil {
		return backend.OnlineUser{}, classify(err, op, id, t.now())
	}
	for _, u := range page.GetValue() {
		if ou := fromUser(u); ou.ImmutableID == id {
			return ou, nil
		}
	}
	return backend.OnlineUser{}, backend.Errorf(backend.NotFound, op, id, "no user has this onPremisesImmutableId")
}

// CreateUser creates a user with POST /users and reads it back. When the
// read fails, the properties Graph's answer lacks are taken from u.
func (t *Tenant) CreateUser(ctx context.Context, u backend.NewOnlineUser) (backend.OnlineUser, error) {
	const op = opCreateUser
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.OnlineUser{}, err
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return backend.OnlineUser{}, err
	}
	created, err := t.usersBuilder().Post(ctx, toNewUser(u), nil)
	if err != nil {
		return backend.OnlineUser{}, classify(err, op, u.UserPrincipalName, t.now())
	}
	// Graph's answer holds only the default properties: read the user back
	// for the others (lastPasswordChangeDateTime, ...). The user exists
	// whatever the read gives (a replica may not know it yet).
	if got, err := t.getUser(ctx, u.UserPrincipalName); err == nil {
		return fromUser(got), nil
	} else {
		t.log.Debug("graph: read after create failed", "upn", u.UserPrincipalName, "err", classify(err, op, u.UserPrincipalName, t.now()))
	}
	return mergeCreated(u, created), nil
}

func toNewUser(u backend.NewOnlineUser) models.Userable {
	m := models.NewUser()
	enabled := !u.Disabled
	m.SetAccountEnabled(&enabled)
	m.SetUserPrincipalName(ptr(u.UserPrincipalName))
	m.SetDisplayName(ptr(u.DisplayName))
	if u.GivenName != "" {
		m.SetGivenName(ptr(u.GivenName))
	}
	if u.Surname != "" {
		m.SetSurname(ptr(u.Surname))
	}
	nick := u.MailNickname
	if nick == "" {
		nick, _, _ = strings.Cut(u.UserPrincipalName, "@")
		if len(nick) > 64 {
			nick = nick[:64]
		}
	}
	m.SetMailNickname(&nick)
	if u.UsageLocation != "" {
		m.SetUsageLocation(ptr(u.UsageLocation))
	}
	if u.ImmutableID != "" {
		m.SetOnPremisesImmutableId(ptr(u.ImmutableID))
	}
	pp := models.NewPasswordProfile()
	pp.SetPassword(ptr(u.Password))
	force := u.ForceChangePassword
	pp.SetForceChangePasswordNextSignIn(&force)
	m.SetPasswordProfile(pp)
	return m
}

// mergeCreated completes Graph's answer to a create with what was sent.
func mergeCreated(u backend.NewOnlineUser, created models.Userable) backend.OnlineUser {
	out := fromUser(created)
	if out.UserPrincipalName == "" {
		out.UserPrincipalName = u.UserPrincipalName
	}
	if out.DisplayName == "" {
		out.DisplayName = u.DisplayName
	}
	if out.GivenName == "" {
		out.GivenName = u.GivenName
	}
	if out.Surname == "" {
		out.Surname = u.Surname
	}
	if created == nil || created.GetAccountEnabled() == nil {
		out.AccountEnabled = !u.Disabled
	}
	if out.MailNickname == "" {
		out.MailNickname = deref(toNewUser(u).GetMailNickname())
	}
	if out.UsageLocation == "" {
		out.UsageLocation = u.UsageLocation
	}
	if out.ImmutableID == "" {
		out.ImmutableID = u.ImmutableID
	}
	return out
}

// UpdateUser changes the fields of upd that are set, with PATCH.
func (t *Tenant) UpdateUser(ctx context.Context, id string, upd backend.OnlineUserUpdate) error {
	const op = opUpdateUser
	if err := backend.CtxErr(ctx, op); err != nil {
		return err
	}
	m := models.NewUser()
	if upd.AccountEnabled != nil {
		m.SetAccountEnabled(upd.AccountEnabled)
	}
	if upd.DisplayName != nil {
		m.SetDisplayName(upd.DisplayName)
	}
	if upd.UsageLocation != nil {
		m.SetUsageLocation(upd.UsageLocation)
	}
	if upd.ImmutableID != nil {
		m.SetOnPremisesImmutableId(upd.ImmutableID)
	}
	if upd.Password != nil {
		pp := models.NewPasswordProfile()
		pp.SetPassword(ptr(upd.Password.Password))
		force := upd.Password.ForceChangePassword
		pp.SetForceChangePasswordNextSignIn(&force)
		m.SetPasswordProfile(pp)
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return err
	}
	if _, err := t.userBuilder(id, false).Patch(ctx, m, nil); err != nil {
		return classify(err, op, id, t.now())
	}
	return nil
}

// DeleteUser deletes the user; it stays restorable for 30 days.
func (t *Tenant) DeleteUser(ctx context.Context, id string) error {
	const op = opDeleteUser
	if err := backend.CtxErr(ctx, op); err != nil {
		return err
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return err
	}
	if err := t.userBuilder(id, false).Delete(ctx, nil); err != nil {
		return classify(err, op, id, t.now())
	}
	return nil
}

func (t *Tenant) deletedItems() *directory.DeletedItemsRequestBuilder {
	return directory.NewDeletedItemsRequestBuilderInternal(map[string]string{}, t.adapter)
}

// RestoreUser restores a deleted user (POST
// /directory/deletedItems/{id}/restore) and reads it back.
func (t *Tenant) RestoreUser(ctx context.Context, id string) (backend.OnlineUser, error) {
	const op = opRestoreUser
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.OnlineUser{}, err
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return backend.OnlineUser{}, err
	}
	obj, err := t.deletedItems().ByDirectoryObjectId(id).Restore().Post(ctx, nil)
	if err != nil {
		return backend.OnlineUser{}, classify(err, op, id, t.now())
	}
	u, err := t.getUser(ctx, id)
	if err != nil {
		if mu, ok := obj.(models.Userable); ok {
			return fromUser(mu), nil
		}
		return backend.OnlineUser{}, classify(err, op, id, t.now())
	}
	return fromUser(u), nil
}

// ListDeletedUsers lists the users in deleted items
// (/directory/deletedItems/microsoft.graph.user).
func (t *Tenant) ListDeletedUsers(ctx context.Context) ([]backend.OnlineUser, error) {
	const op = opListDeletedUsers
	if err := backend.CtxErr(ctx, op); err != nil {
		return nil, err
	}
	// Graph documents the cast segment as microsoft.graph.user; the SDK
	// writes the alias graph.user. The documented form is sent.
	q := url.Values{}
	q.Set("$select", strings.Join(append(append([]string{}, userSelect...), "deletedDateTime"), ","))
	q.Set("$top", strconv.Itoa(int(t.pageSize)))
	first := t.base.String() + "/directory/deletedItems/microsoft.graph.user?" + q.Encode()
	page, err := directory.NewDeletedItemsGraphUserRequestBuilder(first, t.adapter).Get(ctx, nil)
	var out []backend.OnlineUser
	for {
		if err != nil {
			return nil, classify(err, op, "", t.now())
		}
		for _, u := range page.GetValue() {
			out = append(out, fromUser(u))
		}
		next := deref(page.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		if err := t.checkLink(next); err != nil {
			return nil, backend.Wrap(err, backend.Unknown, op, "")
		}
		page, err = directory.NewDeletedItemsGraphUserRequestBuilder(next, t.adapter).Get(ctx, nil)
	}
}

// AssignLicenses adds and removes licenses (POST /users/{id}/assignLicense)
// and reads the user back, since the answer holds only the default
// properties.
func (t *Tenant) AssignLicenses(ctx context.Context, id string, add []backend.LicenseAssignment, remove []string) (backend.OnlineUser, error) {
	const op = opAssignLicenses
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.OnlineUser{}, err
	}
	body, err := toAssignLicense(add, remove)
	if err != nil {
		return backend.OnlineUser{}, withOpKey(err, op, id)
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return backend.OnlineUser{}, err
	}
	if _, err := t.assignLicenseBuilder(id).Post(ctx, body, nil); err != nil {
		return backend.OnlineUser{}, classify(err, op, id, t.now())
	}
	u, err := t.getUser(ctx, id)
	if err != nil {
		return backend.OnlineUser{}, classify(err, op, id, t.now())
	}
	return fromUser(u), nil
}

func withOpKey(err error, op, key string) error {
	if e, ok := err.(*backend.Error); ok {
		e.Op, e.Key = op, key
	}
	return err
}

func toAssignLicense(add []backend.LicenseAssignment, remove []string) (users.ItemAssignLicensePostRequestBodyable, error) {
	body := users.NewItemAssignLicensePostRequestBody()
	adds := make([]models.AssignedLicenseable, 0, len(add))
	for _, a := range add {
		sku, err := uuid.Parse(a.SKUID)
		if err != nil {
			return nil, backend.Invalid("", "", ReasonSKUID, "SKU id %q is not a GUID", a.SKUID)
		}
		al := models.NewAssignedLicense()
		al.SetSkuId(&sku)
		plans := make([]uuid.UUID, 0, len(a.DisabledPlans))
		for _, p := range a.DisabledPlans {
			pid, err := uuid.Parse(p)
			if err != nil {
				return nil, backend.Invalid("", "", ReasonPlanID, "service plan id %q is not a GUID", p)
			}
			plans = append(plans, pid)
		}
		al.SetDisabledPlans(plans)
		adds = append(adds, al)
	}
	rems := make([]uuid.UUID, 0, len(remove))
	for _, r := range remove {
		sku, err := uuid.Parse(r)
		if err != nil {
			return nil, backend.Invalid("", "", ReasonSKUID, "SKU id %q is not a GUID", r)
		}
		rems = append(rems, sku)
	}
	body.SetAddLicenses(adds)
	body.SetRemoveLicenses(rems)
	return body, nil
}

// fromUser converts a Graph user; absent properties stay zero.
func fromUser(u models.Userable) backend.OnlineUser {
	if u == nil {
		return backend.OnlineUser{}
	}
	out := backend.OnlineUser{
		ID:                deref(u.GetId()),
		UserPrincipalName: deref(u.GetUserPrincipalName()),
		DisplayName:       deref(u.GetDisplayName()),
		GivenName:         deref(u.GetGivenName()),
		Surname:           deref(u.GetSurname()),
		MailNickname:      deref(u.GetMailNickname()),
		Mail:              deref(u.GetMail()),
		UsageLocation:     deref(u.GetUsageLocation()),
		ImmutableID:       deref(u.GetOnPremisesImmutableId()),
	}
	if b := u.GetAccountEnabled(); b != nil {
		out.AccountEnabled = *b
	}
	if ts := u.GetLastPasswordChangeDateTime(); ts != nil {
		out.LastPasswordChange = *ts
	}
	if ts := u.GetDeletedDateTime(); ts != nil {
		out.DeletedAt = *ts
	}
	for _, al := range u.GetAssignedLicenses() {
		if al == nil || al.GetSkuId() == nil {
			continue
		}
		a := backend.AssignedLicense{SKUID: al.GetSkuId().String()}
		for _, p := range al.GetDisabledPlans() {
			a.DisabledPlans = append(a.DisabledPlans, p.String())
		}
		out.AssignedLicenses = append(out.AssignedLicenses, a)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// checkLink refuses links that leave the configured service (another
// scheme, host or path outside the base path): the SDK would follow them
// with the tenant's token. Otherwise a link is opaque.
func (t *Tenant) checkLink(link string) error {
	u, err := url.Parse(link)
	if err != nil {
		return err
	}
	if !u.IsAbs() || !strings.EqualFold(u.Host, t.base.Host) || u.Scheme != t.base.Scheme ||
		!strings.HasPrefix(u.Path, strings.TrimSuffix(t.base.Path, "/")+"/") {
		return backend.Errorf(backend.Unknown, "", link, "Graph returned a link to another service")
	}
	return nil
}
