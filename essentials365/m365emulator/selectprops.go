package m365emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// The properties $select may name on the entities other than users, read
// from the JSON names of their wire types.
var (
	organizationProps = jsonNames(wireOrganization{})
	skuProps          = jsonNames(wireSKU{})
	domainProps       = jsonNames(wireDomain{})
	dnsRecordProps    = jsonNames(backend.GraphDNSRecord{})
)

// jsonNames lists the JSON property names of a wire struct, annotations
// ("@odata.type") left out.
func jsonNames(v any) []string {
	t := reflect.TypeOf(v)
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && !strings.HasPrefix(name, "@") {
			out = append(out, name)
		}
	}
	return out
}

// selectProps applies the request's $select to a 200 answer that is an
// entity (a map with its @odata.context) or a collection, keeping the
// selected properties and the annotations ("@odata.type" tells a DNS
// record's subtype). typeName is the entity type for the error message;
// props are the names it can select. Graph honours $select on these
// entities ("This method supports only the $select OData query parameter",
// https://learn.microsoft.com/graph/api/subscribedsku-list; organization-get,
// domain-list, domain-get and domain-list-serviceconfigurationrecords
// support the OData query parameters), so it is applied, not ignored; a
// property the type does not have is 400, as Graph answers for users.
func (s *Server) selectProps(req *request, resp *response, typeName string, props []string) *response {
	raw := req.query().Get("$select")
	if resp == nil || resp.status != http.StatusOK || strings.TrimSpace(raw) == "" {
		return resp
	}
	var sel []string
	for p := range strings.SplitSeq(raw, ",") {
		p = strings.TrimSpace(p)
		i := slices.IndexFunc(props, func(s string) bool { return strings.EqualFold(s, p) })
		if i < 0 {
			return s.fail(req, http.StatusBadRequest, "BadRequest",
				fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.%s'.", p, typeName), nil)
		}
		if !slices.Contains(sel, props[i]) {
			sel = append(sel, props[i])
		}
	}
	list := "(" + strings.Join(sel, ",") + ")"
	keep := func(m map[string]any) map[string]any {
		out := make(map[string]any, len(sel)+1)
		for k, v := range m {
			if strings.HasPrefix(k, "@") || slices.Contains(sel, k) {
				out[k] = v
			}
		}
		return out
	}
	switch b := resp.body.(type) {
	case collection:
		raw, err := json.Marshal(b.Value)
		var items []map[string]any
		if err == nil {
			err = json.Unmarshal(raw, &items)
		}
		if err != nil {
			return s.fail(req, http.StatusInternalServerError, "InternalServerError", "The answer could not be projected on $select.", nil)
		}
		for i := range items {
			items[i] = keep(items[i])
		}
		b.Value = items
		b.Context += list
		resp.body = b
	case map[string]any:
		m := keep(b)
		if c, ok := b["@odata.context"].(string); ok {
			if base, found := strings.CutSuffix(c, "/$entity"); found {
				m["@odata.context"] = base + list + "/$entity"
			} else {
				m["@odata.context"] = c + list
			}
		}
		resp.body = m
	}
	return resp
}
