package m365emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	return &response{status: http.StatusOK, body: collection{Context: req.base + "/$metadata#organization", Value: []wireOrganization{w}}}
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
	return &response{status: http.StatusOK, body: collection{Context: req.base + "/$metadata#subscribedSkus", Value: values}}
}

// getSKU serves GET /subscribedSkus/{id}.
func (s *Server) getSKU(ctx context.Context, req *request, key string) *response {
	skus, org, resp := s.skus(ctx, req)
	if resp != nil {
		return resp
	}
	for _, k := range skus {
		if strings.EqualFold(k.ID, key) {
			return &response{status: http.StatusOK, body: withContext(skuJSON(k, org), req.base+"/$metadata#subscribedSkus/$entity")}
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

// listDomains serves GET /domains.
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
	return &response{status: http.StatusOK, body: collection{Context: req.base + "/$metadata#domains", Value: values}}
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

// getDomain serves GET /domains/{id}.
func (s *Server) getDomain(ctx context.Context, req *request, key string) *response {
	d, all, err := s.findDomain(ctx, key)
	if err != nil {
		return s.errorResponse(req, route{family: "domains", key: key}, err)
	}
	return &response{status: http.StatusOK, body: withContext(domainJSON(d, all), req.base+"/$metadata#domains/$entity")}
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

// addDomain serves POST /domains with {"id":"contoso.com"}: 201.
func (s *Server) addDomain(ctx context.Context, req *request, _ string) *response {
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	var body map[string]json.RawMessage
	if err := decodeJSON(req.body, &body); err != nil || body == nil {
		return s.badRequest(req, msgInvalidJSON)
	}
	var name string
	for k, v := range body {
		switch k {
		case "@odata.type":
		case "id":
			if err := json.Unmarshal(v, &name); err != nil {
				return s.badRequest(req, "Invalid value specified for property 'id' of resource 'Domain'.")
			}
		default:
			return s.badRequest(req, fmt.Sprintf("Property '%s' cannot be set when adding a domain; only 'id' can.", k))
		}
	}
	if name == "" {
		return s.badRequest(req, "Invalid value specified for property 'id' of resource 'Domain'.")
	}
	d, err := da.AddDomain(ctx, name)
	if err != nil {
		return s.errorResponse(req, route{family: "domains", key: name}, err)
	}
	all, _ := s.tenant.Domains(ctx) // only used to compute isRoot
	return &response{status: http.StatusCreated, body: withContext(domainJSON(d, all), req.base+"/$metadata#domains/$entity")}
}

// deleteDomain serves DELETE /domains/{id}: 204.
func (s *Server) deleteDomain(ctx context.Context, req *request, key string) *response {
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	if err := da.DeleteDomain(ctx, key); err != nil {
		return s.errorResponse(req, route{family: "domains", key: key}, err)
	}
	return &response{status: http.StatusNoContent}
}

// verifyDomain serves POST /domains/{id}/verify: 200 with the domain, whose
// availabilityStatus is set only in this answer.
func (s *Server) verifyDomain(ctx context.Context, req *request, key string) *response {
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	d, err := da.VerifyDomain(ctx, key)
	if err != nil {
		return s.errorResponse(req, route{family: "domains", key: key}, err)
	}
	all, _ := s.tenant.Domains(ctx)
	w := domainJSON(d, all)
	status := "AvailableImmediately"
	w.AvailabilityStatus = &status
	return &response{status: http.StatusOK, body: withContext(w, req.base+"/$metadata#domains/$entity")}
}

func (s *Server) verificationRecords(ctx context.Context, req *request, key string) *response {
	return s.records(ctx, req, key, "verificationDnsRecords", func(da backend.DomainAdmin) ([]backend.DomainDNSRecord, error) {
		return da.VerificationRecords(ctx, key)
	})
}

func (s *Server) serviceConfigurationRecords(ctx context.Context, req *request, key string) *response {
	return s.records(ctx, req, key, "serviceConfigurationRecords", func(da backend.DomainAdmin) ([]backend.DomainDNSRecord, error) {
		return da.ServiceConfigurationRecords(ctx, key)
	})
}

func (s *Server) records(_ context.Context, req *request, key, set string, get func(backend.DomainAdmin) ([]backend.DomainDNSRecord, error)) *response {
	if r := s.rejectParams(req, "$select"); r != nil {
		return r
	}
	da, resp := s.admin(req)
	if resp != nil {
		return resp
	}
	recs, err := get(da)
	if err != nil {
		return s.errorResponse(req, route{family: "domains", key: key}, err)
	}
	values := make([]map[string]any, 0, len(recs))
	for _, r := range recs {
		values = append(values, s.dnsRecordJSON(r))
	}
	return &response{status: http.StatusOK, body: collection{
		Context: req.base + "/$metadata#domains('" + key + "')/" + set, Value: values}}
}
