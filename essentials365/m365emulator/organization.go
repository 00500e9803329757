package m365emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// getOrganization serves GET /organization/{id}
// (https://learn.microsoft.com/graph/api/organization-get): the tenant's
// organization as an entity, 404 for another id.
func (s *Server) getOrganization(ctx context.Context, req *request, key string) *response {
	if r := s.rejectParams(req, "$select"); r != nil {
		return r
	}
	whole := *req // the organization with every property, $select applied below
	whole.rawQuery = ""
	resp := s.listOrganization(ctx, &whole, "")
	if resp.status != http.StatusOK {
		return resp
	}
	c, ok := resp.body.(collection)
	if !ok {
		return s.fail(req, http.StatusInternalServerError, "InternalServerError", "The organization could not be read.", nil)
	}
	raw, err := json.Marshal(c.Value)
	var orgs []map[string]any
	if err == nil {
		err = json.Unmarshal(raw, &orgs)
	}
	if err != nil || len(orgs) == 0 {
		return s.fail(req, http.StatusInternalServerError, "InternalServerError", "The organization could not be read.", nil)
	}
	org := orgs[0]
	if id, _ := org["id"].(string); !strings.EqualFold(id, key) {
		return s.fail(req, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf(msgNotFound, key), nil)
	}
	org["@odata.context"] = req.base + "/$metadata#organization/$entity"
	return s.selectProps(req, &response{status: http.StatusOK, body: org}, "organization", organizationProps)
}
