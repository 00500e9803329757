package m365emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// listOrganization serves GET /organization: one organization.
func (s *Server) listOrganization(ctx context.Context, req *request, _ string) *response {
	if r := s.rejectParams(req, "$select"); r != nil {
		return r
	}
	rt := route{family: "organization"}
	org, err := s.tenant.Organization(ctx)
	if err != nil {
		return s.errorResponse(req, rt, err)
	}
	domains, err := s.tenant.Domains(ctx)
	if err != nil {
		return s.errorResponse(req, rt, err)
	}
	w := wireOrganization{ID: org.ID, DisplayName: org.DisplayName, TenantType: "AAD", VerifiedDomains: []wireVerifiedDomain{}}
	for _, d := range domains {
		if !d.IsVerified {
			continue
		}
		typ := "Managed"
		if d.AuthenticationType != "" {
			typ = d.AuthenticationType
		}
		w.VerifiedDomains = append(w.VerifiedDomains, wireVerifiedDomain{
			Capabilities: strings.Join(d.SupportedServices, ", "),
			IsDefault:    d.IsDefault, IsInitial: d.IsInitial, Name: d.Name, Type: typ,
		})
	}
	s.organizationSync(ctx, &w)
	return s.selectProps(req, &response{status: http.StatusOK, body: collection{Context: req.base + "/$metadata#organization", Value: []wireOrganization{w}}},
		"organization", organizationProps)
}

// listSKUs serves GET /subscribedSkus.
func (s *Server) listSKUs(ctx context.Context, req *request, _ string) *response {
	if r := s.rejectParams(req, "$select"); r != nil {
		return r
	}
	skus, org, resp := s.skus(ctx, req)
	if resp != nil {
		return resp
	}
	values := make([]wireSKU, 0, len(skus))
	for _, k := range skus {
		values = append(values, skuJSON(k, org))
	}
	return s.selectProps(req, &response{status: http.StatusOK, body: collection{Context: req.base + "/$metadata#subscribedSkus", Value: values}},
		"subscribedSku", skuProps)
}

// getSKU serves GET /subscribedSkus/{id}.
func (s *Server) getSKU(ctx context.Context, req *request, key string) *response {
	if r := s.rejectParams(req, "$select"); r != nil {
		return r
	}
	skus, org, resp := s.skus(ctx, req)
	if resp != nil {
		return resp
	}
	for _, k := range skus {
		if strings.EqualFold(k.ID, key) {
			return s.selectProps(req, &response{status: http.StatusOK, body: withContext(skuJSON(k, org), req.base+"/$metadata#subscribedSkus/$entity")},
				"subscribedSku", skuProps)
		}
	}
	return s.errorResponse(req, route{family: "skus", key: key}, backend.Errorf(backend.NotFound, "", key, "no such subscribed sku"))
}

func (s *Server) skus(ctx context.Context, req *request) ([]backend.SKU, backend.Organization, *response) {
	rt := route{family: "skus"}
	skus, err := s.tenant.SubscribedSKUs(ctx)
	if err != nil {
		return nil, backend.Organization{}, s.errorResponse(req, rt, err)
	}
	org, err := s.tenant.Organization(ctx)
	if err != nil {
		return nil, backend.Organization{}, s.errorResponse(req, rt, err)
	}
	return skus, org, nil
}

// withContext returns v's JSON object with an @odata.context added.
func withContext(v any, ctxURL string) map[string]any {
	b, _ := json.Marshal(v) // wire structs always marshal
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["@odata.context"] = ctxURL
	return m
}

// listDomains serves GET /domains ("List domains", Graph v1.0,
// api/domain-list).
func (s *Server) listDomains(ctx context.Context, req *request, _ string) *response {
	if r := s.rejectParams(req, "$select"); r != nil {
		return r
	}
	domains, err := s.tenant.Domains(ctx)
	if err != nil {
		return s.errorResponse(req, route{family: "domains"}, err)
	}
	values := make([]wireDomain, 0, len(domains))
	for _, d := range domains {
		values = append(values, domainJSON(d, domains))
	}
	return s.selectProps(req, &response{status: http.StatusOK, body: collection{Context: req.base + "/$metadata#domains", Value: values}},
		"domain", domainProps)
}

// findDomain returns the domain named name, or a NotFound error.
func (s *Server) findDomain(ctx context.Context, name string) (backend.Domain, []backend.Domain, error) {
	domains, err := s.tenant.Domains(ctx)
	if err != nil {
		return backend.Domain{}, nil, err
	}
	for _, d := range domains {
		if strings.EqualFold(d.Name, name) {
			return d, domains, nil
		}
	}
	return backend.Domain{}, nil, backend.Errorf(backend.NotFound, "m365emulator: get domain", name, "no such domain")
}

// getDomain serves GET /domains/{id} ("Get domain", api/domain-get).
func (s *Server) getDomain(ctx context.Context, req *request, key string) *response {
	if r := s.rejectParams(req, "$select"); r != nil {
		return r
	}
	d, all, err := s.findDomain(ctx, key)
	if err != nil {
		return s.domainError(req, key, err)
	}
	return s.selectProps(req, &response{status: http.StatusOK, body: withContext(domainJSON(d, all), req.base+"/$metadata#domains/$entity")},
		"domain", domainProps)
}

// admin returns the tenant's DomainAdmin, or the 501 answer when it has
// none.
func (s *Server) admin(req *request) (backend.DomainAdmin, *response) {
	if s.domains == nil {
		return nil, s.fail(req, http.StatusNotImplemented, "NotImplemented",
			"This tenant cannot manage domains: its backend does not implement domain administration.", nil)
	}
	return s.domains, nil
}

// domainBody decodes the JSON object in req's body and hands each of its
// properties to f, stopping at the first answer f gives (a 400); a body
// that is not a JSON object is a 400 with msgInvalidJSON.
func (s *Server) domainBody(req *request, f func(k string, v json.RawMessage) *response) *response {
	var body map[string]json.RawMessage
	if err := decodeJSON(req.body, &body); err != nil || body == nil {
		return s.badRequest(req, msgInvalidJSON)
	}
	for k, v := range body {
		if r := f(k, v); r != nil {
			return r
		}
	}
	return nil
}

// domainError answers err from a call on the domain key.
func (s *Server) domainError(req *request, key string, err error) *response {
	return s.errorResponse(req, route{family: "domains", key: key}, err)
}

// addDomain serves POST /domains with {"id":"contoso.com"}: 201 ("Create
// domain", api/domain-post-domains).
func (s *Server) addDomain(ctx context.Context, req *request, _ string) *response {
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	var name string
	if r := s.domainBody(req, func(k string, v json.RawMessage) *response {
		switch k {
		case "@odata.type":
		case "id":
			if err := json.Unmarshal(v, &name); err != nil {
				return s.badRequest(req, "Invalid value specified for property 'id' of resource 'Domain'.")
			}
		default:
			return s.badRequest(req, fmt.Sprintf("Property '%s' cannot be set when adding a domain; only 'id' can.", k))
		}
		return nil
	}); r != nil {
		return r
	}
	if name == "" {
		return s.badRequest(req, "Invalid value specified for property 'id' of resource 'Domain'.")
	}
	d, err := da.AddDomain(ctx, name)
	if err != nil {
		return s.domainError(req, name, err)
	}
	all, _ := s.tenant.Domains(ctx) // only used to compute isRoot
	return &response{status: http.StatusCreated, body: withContext(domainJSON(d, all), req.base+"/$metadata#domains/$entity")}
}

// deleteDomain serves DELETE /domains/{id}: 204 ("Delete domain",
// api/domain-delete: "Attempts to delete will fail if there are any
// resources or objects still dependent on the domain"; the backend refuses
// them with backend.ReasonDomainInUse, answered as a 400).
func (s *Server) deleteDomain(ctx context.Context, req *request, key string) *response {
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	if err := da.DeleteDomain(ctx, key); err != nil {
		return s.domainError(req, key, err)
	}
	return &response{status: http.StatusNoContent}
}

// verifyDomain serves POST /domains/{id}/verify ("domain: verify", Graph
// v1.0, api/domain-verify): 200 with the domain, whose availabilityStatus is set only in this
// answer. With Options.DNSServer, the verification TXT record must be
// visible at that server first, as Microsoft looks it up in public DNS.
func (s *Server) verifyDomain(ctx context.Context, req *request, key string) *response {
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	if s.opts.DNSServer != "" {
		if err := s.verificationVisible(ctx, da, key); err != nil {
			return s.domainError(req, key, err)
		}
	}
	d, err := da.VerifyDomain(ctx, key)
	if err != nil {
		return s.domainError(req, key, err)
	}
	all, _ := s.tenant.Domains(ctx)
	w := domainJSON(d, all)
	status := "AvailableImmediately"
	w.AvailabilityStatus = &status
	return &response{status: http.StatusOK, body: withContext(w, req.base+"/$metadata#domains/$entity")}
}

// verificationVisible checks that the domain's verification TXT value is
// published at Options.DNSServer.
func (s *Server) verificationVisible(ctx context.Context, da backend.DomainAdmin, name string) error {
	const op = "m365emulator: verify domain"
	d, _, err := s.findDomain(ctx, name)
	if err != nil || d.IsVerified {
		return err
	}
	recs, err := da.VerificationRecords(ctx, name)
	if err != nil {
		return err
	}
	var want string
	for _, r := range recs {
		if r.Type == backend.DNSTypeTXT {
			want = r.Text
		}
	}
	txts, lerr := LookupTXTAt(s.opts.DNSServer)(ctx, d.Name)
	if slices.Contains(txts, want) {
		// The record is visible: a backend that takes the publication on
		// trust (the memory tenant) is told so.
		if p, ok := s.tenant.(interface{ PublishVerification(domain string) }); ok {
			p.PublishVerification(d.Name)
		}
		return nil
	}
	s.log.Debug("m365emulator: verification record not visible", "domain", d.Name, "server", s.opts.DNSServer, "err", lerr)
	return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: name, Reason: backend.ReasonVerificationRecordMissing,
		Msg: "Domain verification failed because the required DNS record " + want + " could not be found. DNS changes can take up to 72 hours."}
}

// LookupTXTAt returns a TXT lookup that asks only the DNS server at addr
// ("host:port"), for Options.DNSServer and for a memory tenant's
// TenantOptions.LookupTXT. The strings of one record are joined.
func LookupTXTAt(addr string) func(ctx context.Context, name string) ([]string, error) {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	return func(ctx context.Context, name string) ([]string, error) {
		return r.LookupTXT(ctx, strings.TrimSuffix(name, ".")+".")
	}
}

// updateDomain serves PATCH /domains/{id} ("Update domain", Graph v1.0,
// api/domain-update):
// 204. Only isDefault (true) and supportedServices are accepted; "Only
// verified domains can be updated".
func (s *Server) updateDomain(ctx context.Context, req *request, key string) *response {
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	makeDefault := false
	if r := s.domainBody(req, func(k string, v json.RawMessage) *response {
		switch k {
		case "@odata.type", "supportedServices":
		case "isDefault":
			if err := json.Unmarshal(v, &makeDefault); err != nil || !makeDefault {
				return s.badRequest(req, "Invalid value specified for property 'isDefault' of resource 'Domain'; set another domain as default instead.")
			}
		default:
			return s.badRequest(req, fmt.Sprintf("Property '%s' cannot be updated on a domain.", k))
		}
		return nil
	}); r != nil {
		return r
	}
	if makeDefault {
		if _, err := da.SetDefaultDomain(ctx, key); err != nil {
			return s.domainError(req, key, err)
		}
	}
	return &response{status: http.StatusNoContent}
}

// forceDeleteDomain serves POST /domains/{id}/forceDelete with
// {"disableUserAccounts": bool} ("domain: forceDelete", Graph v1.0,
// api/domain-forcedelete): 204. disableUserAccounts defaults to true, as
// documented.
func (s *Server) forceDeleteDomain(ctx context.Context, req *request, key string) *response {
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	disable := true
	if len(strings.TrimSpace(string(req.body))) > 0 {
		if r := s.domainBody(req, func(k string, v json.RawMessage) *response {
			switch k {
			case "disableUserAccounts":
				if err := json.Unmarshal(v, &disable); err != nil {
					return s.badRequest(req, "Invalid value specified for property 'disableUserAccounts'.")
				}
			default:
				return s.badRequest(req, fmt.Sprintf("Property '%s' is not a parameter of forceDelete.", k))
			}
			return nil
		}); r != nil {
			return r
		}
	}
	if err := da.ForceDeleteDomain(ctx, key, disable); err != nil {
		return s.domainError(req, key, err)
	}
	return &response{status: http.StatusNoContent}
}

// domainNameReferences serves GET /domains/{id}/domainNameReferences
// ("List domainNameReferences", Graph v1.0,
// api/domain-list-domainnamereferences): the directory objects that use
// the domain, here users (by UPN, or owning an address on the domain).
func (s *Server) domainNameReferences(ctx context.Context, req *request, key string) *response {
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	refs, err := da.DomainReferences(ctx, key)
	if err != nil {
		return s.domainError(req, key, err)
	}
	values := []map[string]any{}
	for _, ref := range refs {
		kind, name, _ := strings.Cut(ref, ":")
		if kind != "user" {
			continue
		}
		u, err := s.tenant.GetUser(ctx, name)
		if err != nil {
			continue // a deleted user is referenced but not readable here
		}
		values = append(values, map[string]any{"@odata.type": "#microsoft.graph.user", "id": u.ID, "userPrincipalName": u.UserPrincipalName})
	}
	return &response{status: http.StatusOK, body: collection{Context: req.base + "/$metadata#directoryObjects", Value: values}}
}

// verificationRecords serves GET /domains/{id}/verificationDnsRecords
// ("List verificationDnsRecords", api/domain-list-verificationdnsrecords):
// domainDnsRecord subtypes, in backend.NewGraphDNSRecord's shape.
func (s *Server) verificationRecords(ctx context.Context, req *request, key string) *response {
	return s.records(ctx, req, key, "verificationDnsRecords", func(da backend.DomainAdmin) ([]backend.DNSRecord, error) {
		return da.VerificationRecords(ctx, key)
	})
}

// serviceConfigurationRecords serves GET
// /domains/{id}/serviceConfigurationRecords ("List
// serviceConfigurationRecords", api/domain-list-serviceconfigurationrecords).
func (s *Server) serviceConfigurationRecords(ctx context.Context, req *request, key string) *response {
	return s.records(ctx, req, key, "serviceConfigurationRecords", func(da backend.DomainAdmin) ([]backend.DNSRecord, error) {
		return da.ServiceConfigurationRecords(ctx, key)
	})
}

func (s *Server) records(_ context.Context, req *request, key, set string, get func(backend.DomainAdmin) ([]backend.DNSRecord, error)) *response {
	if r := s.rejectParams(req, "$select"); r != nil {
		return r
	}
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	recs, err := get(da)
	if err != nil {
		return s.domainError(req, key, err)
	}
	values := make([]backend.GraphDNSRecord, 0, len(recs))
	for _, r := range recs {
		values = append(values, s.dnsRecordJSON(r))
	}
	return s.selectProps(req, &response{status: http.StatusOK, body: collection{
		Context: req.base + "/$metadata#domains('" + key + "')/" + set, Value: values}}, "domainDnsRecord", dnsRecordProps)
}
