package graphtenant

import (
	"context"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/domains"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/subscribedskus"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Organization returns the tenant's id and name (GET /organization).
func (t *Tenant) Organization(ctx context.Context) (backend.Organization, error) {
	const op = opOrganization
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.Organization{}, err
	}
	res, err := organization.NewOrganizationRequestBuilderInternal(map[string]string{}, t.adapter).Get(ctx,
		&organization.OrganizationRequestBuilderGetRequestConfiguration{
			QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{Select: []string{"id", "displayName"}},
		})
	if err != nil {
		return backend.Organization{}, classify(err, op, "", t.now())
	}
	for _, o := range res.GetValue() {
		if o != nil {
			return backend.Organization{ID: deref(o.GetId()), DisplayName: deref(o.GetDisplayName())}, nil
		}
	}
	return backend.Organization{}, backend.Errorf(backend.NotFound, op, "", "Graph returned no organization")
}

// SubscribedSKUs lists the tenant's subscriptions (GET /subscribedSkus).
func (t *Tenant) SubscribedSKUs(ctx context.Context) ([]backend.SKU, error) {
	const op = opSubscribedSKUs
	if err := backend.CtxErr(ctx, op); err != nil {
		return nil, err
	}
	res, err := subscribedskus.NewSubscribedSkusRequestBuilderInternal(map[string]string{}, t.adapter).Get(ctx,
		&subscribedskus.SubscribedSkusRequestBuilderGetRequestConfiguration{
			QueryParameters: &subscribedskus.SubscribedSkusRequestBuilderGetQueryParameters{
				Select: []string{"id", "skuId", "skuPartNumber", "capabilityStatus", "consumedUnits", "prepaidUnits", "servicePlans"},
			},
		})
	if err != nil {
		return nil, classify(err, op, "", t.now())
	}
	out := make([]backend.SKU, 0, len(res.GetValue()))
	for _, s := range res.GetValue() {
		if s == nil {
			continue
		}
		sku := backend.SKU{
			ID:               deref(s.GetId()),
			PartNumber:       deref(s.GetSkuPartNumber()),
			CapabilityStatus: deref(s.GetCapabilityStatus()),
		}
		if id := s.GetSkuId(); id != nil {
			sku.SKUID = id.String()
		}
		if n := s.GetConsumedUnits(); n != nil {
			sku.Consumed = int(*n)
		}
		if p := s.GetPrepaidUnits(); p != nil && p.GetEnabled() != nil {
			sku.Enabled = int(*p.GetEnabled())
		}
		for _, sp := range s.GetServicePlans() {
			if sp == nil {
				continue
			}
			plan := backend.ServicePlan{Name: deref(sp.GetServicePlanName()), ProvisioningStatus: deref(sp.GetProvisioningStatus())}
			if id := sp.GetServicePlanId(); id != nil {
				plan.ID = id.String()
			}
			sku.ServicePlans = append(sku.ServicePlans, plan)
		}
		out = append(out, sku)
	}
	return out, nil
}

func (t *Tenant) domainsBuilder() *domains.DomainsRequestBuilder {
	return domains.NewDomainsRequestBuilderInternal(map[string]string{}, t.adapter)
}

// Domains lists the tenant's domains (GET /domains).
func (t *Tenant) Domains(ctx context.Context) ([]backend.Domain, error) {
	const op = opDomains
	if err := backend.CtxErr(ctx, op); err != nil {
		return nil, err
	}
	res, err := t.domainsBuilder().Get(ctx, nil)
	if err != nil {
		return nil, classify(err, op, "", t.now())
	}
	out := make([]backend.Domain, 0, len(res.GetValue()))
	for _, d := range res.GetValue() {
		if d != nil {
			out = append(out, fromDomain(d))
		}
	}
	return out, nil
}

func fromDomain(d models.Domainable) backend.Domain {
	out := backend.Domain{
		Name:               deref(d.GetId()),
		AuthenticationType: deref(d.GetAuthenticationType()),
		SupportedServices:  d.GetSupportedServices(),
	}
	if b := d.GetIsVerified(); b != nil {
		out.IsVerified = *b
	}
	if b := d.GetIsDefault(); b != nil {
		out.IsDefault = *b
	}
	if b := d.GetIsInitial(); b != nil {
		out.IsInitial = *b
	}
	return out
}

// AddDomain adds an unverified custom domain (POST /domains).
func (t *Tenant) AddDomain(ctx context.Context, name string) (backend.Domain, error) {
	const op = opAddDomain
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.Domain{}, err
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return backend.Domain{}, err
	}
	body := models.NewDomain()
	body.SetId(&name)
	d, err := t.domainsBuilder().Post(ctx, body, nil)
	if err != nil {
		return backend.Domain{}, classify(err, op, name, t.now())
	}
	return fromDomain(d), nil
}

// VerificationRecords lists the records that prove ownership of name
// (GET /domains/{name}/verificationDnsRecords).
func (t *Tenant) VerificationRecords(ctx context.Context, name string) ([]backend.DNSRecord, error) {
	const op = opVerificationRecords
	if err := backend.CtxErr(ctx, op); err != nil {
		return nil, err
	}
	res, err := t.domainsBuilder().ByDomainId(name).VerificationDnsRecords().Get(ctx, nil)
	if err != nil {
		return nil, classify(err, op, name, t.now())
	}
	return fromRecords(res.GetValue()), nil
}

// ServiceConfigurationRecords lists the records Microsoft 365's services
// need (GET /domains/{name}/serviceConfigurationRecords).
func (t *Tenant) ServiceConfigurationRecords(ctx context.Context, name string) ([]backend.DNSRecord, error) {
	const op = opServiceConfigurationRecords
	if err := backend.CtxErr(ctx, op); err != nil {
		return nil, err
	}
	res, err := t.domainsBuilder().ByDomainId(name).ServiceConfigurationRecords().Get(ctx, nil)
	if err != nil {
		return nil, classify(err, op, name, t.now())
	}
	return fromRecords(res.GetValue()), nil
}

// VerifyDomain asks Graph to check the verification record
// (POST /domains/{name}/verify).
func (t *Tenant) VerifyDomain(ctx context.Context, name string) (backend.Domain, error) {
	const op = opVerifyDomain
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.Domain{}, err
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return backend.Domain{}, err
	}
	d, err := t.domainsBuilder().ByDomainId(name).Verify().Post(ctx, nil)
	if err != nil {
		return backend.Domain{}, classify(err, op, name, t.now())
	}
	return fromDomain(d), nil
}

// DeleteDomain removes a domain (DELETE /domains/{name}).
func (t *Tenant) DeleteDomain(ctx context.Context, name string) error {
	const op = opDeleteDomain
	if err := backend.CtxErr(ctx, op); err != nil {
		return err
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return err
	}
	if err := t.domainsBuilder().ByDomainId(name).Delete(ctx, nil); err != nil {
		return classify(err, op, name, t.now())
	}
	return nil
}

// fromRecords converts Graph's records through backend.GraphDNSRecord, the
// one conversion to backend.DNSRecord. A record the conversion refuses is
// skipped: Graph may add record types the SDK does not handle.
// ForceDeleteDomain renames the objects that use the domain onto the
// initial domain and deletes it (POST /domains/{name}/forceDelete,
// "domain: forceDelete").
func (t *Tenant) ForceDeleteDomain(ctx context.Context, name string, disableUserAccounts bool) error {
	const op = opForceDeleteDomain
	if err := backend.CtxErr(ctx, op); err != nil {
		return err
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return err
	}
	body := domains.NewItemForceDeletePostRequestBody()
	body.SetDisableUserAccounts(&disableUserAccounts)
	if err := t.domainsBuilder().ByDomainId(name).ForceDelete().Post(ctx, body, nil); err != nil {
		return classify(err, op, name, t.now())
	}
	return nil
}

func fromRecords(in []models.DomainDnsRecordable) []backend.DNSRecord {
	out := make([]backend.DNSRecord, 0, len(in))
	for _, r := range in {
		if r == nil {
			continue
		}
		g := backend.GraphDNSRecord{
			ODataType:        deref(r.GetOdataType()),
			ID:               deref(r.GetId()),
			Label:            deref(r.GetLabel()),
			RecordType:       deref(r.GetRecordType()),
			SupportedService: deref(r.GetSupportedService()),
		}
		if n := r.GetTtl(); n != nil {
			g.TTL = int64(*n)
		}
		if b := r.GetIsOptional(); b != nil {
			g.IsOptional = *b
		}
		switch v := r.(type) {
		case models.DomainDnsMxRecordable:
			g.MailExchange = deref(v.GetMailExchange())
			g.Preference = int64Of(v.GetPreference())
		case models.DomainDnsTxtRecordable:
			g.Text = deref(v.GetText())
		case models.DomainDnsCnameRecordable:
			g.CanonicalName = deref(v.GetCanonicalName())
		case models.DomainDnsSrvRecordable:
			g.NameTarget = deref(v.GetNameTarget())
			g.Port, g.Priority, g.Weight = int64Of(v.GetPort()), int64Of(v.GetPriority()), int64Of(v.GetWeight())
			g.Protocol = deref(v.GetProtocol())
			g.Service = deref(v.GetService())
		default:
			// A bare @odata.type (no '#') makes the SDK build the base
			// type: the subtype's fields are in the additional data.
			recordFromAdditionalData(&g, r.GetAdditionalData())
		}
		rec, err := g.DNSRecord()
		if err != nil {
			continue
		}
		out = append(out, rec)
	}
	return out
}

func int64Of(p *int32) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}

// SetDefaultDomain makes a verified domain the default
// (PATCH /domains/{name} with {"isDefault": true}, "Update domain").
func (t *Tenant) SetDefaultDomain(ctx context.Context, name string) (backend.Domain, error) {
	const op = opSetDefaultDomain
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.Domain{}, err
	}
	if err := t.limiter.Wait(ctx, 1); err != nil {
		return backend.Domain{}, err
	}
	body := models.NewDomain()
	yes := true
	body.SetIsDefault(&yes)
	if _, err := t.domainsBuilder().ByDomainId(name).Patch(ctx, body, nil); err != nil {
		return backend.Domain{}, classify(err, op, name, t.now())
	}
	d, err := t.domainsBuilder().ByDomainId(name).Get(ctx, nil)
	if err != nil {
		return backend.Domain{}, classify(err, op, name, t.now())
	}
	return fromDomain(d), nil
}

// DomainReferences lists the directory objects that use the domain
// (GET /domains/{name}/domainNameReferences, "List domainNameReferences"):
// users as "user:<upn>", groups as "group:<mail>", others by id.
func (t *Tenant) DomainReferences(ctx context.Context, name string) ([]string, error) {
	const op = opDomainReferences
	if err := backend.CtxErr(ctx, op); err != nil {
		return nil, err
	}
	res, err := t.domainsBuilder().ByDomainId(name).DomainNameReferences().Get(ctx, nil)
	if err != nil {
		return nil, classify(err, op, name, t.now())
	}
	var out []string
	for _, o := range res.GetValue() {
		switch v := o.(type) {
		case models.Userable:
			out = append(out, "user:"+strings.ToLower(deref(v.GetUserPrincipalName())))
		case models.Groupable:
			out = append(out, "group:"+strings.ToLower(deref(v.GetMail())))
		case nil:
		default:
			out = append(out, "object:"+deref(o.GetId()))
		}
	}
	return out, nil
}
