package m365emulator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// userDefault is the property set Graph v1.0 returns for a user when the
// request has no $select.
var userDefault = []string{
	"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
	"officeLocation", "preferredLanguage", "surname", "userPrincipalName",
}

// userSelectable lists every user property the emulator can return; those
// outside userDefault appear only when selected.
var userSelectable = append(slices.Clone(userDefault),
	"accountEnabled", "assignedLicenses", "deletedDateTime", "lastPasswordChangeDateTime", "mailNickname",
	"onPremisesImmutableId", "onPremisesSyncEnabled", "proxyAddresses", "usageLocation",
)

// parseSelect parses $select; an empty value means the default set. A
// property the emulator does not know is an error, as in Graph.
func parseSelect(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return userDefault, nil
	}
	var out []string
	for p := range strings.SplitSeq(raw, ",") {
		p = strings.TrimSpace(p)
		i := slices.IndexFunc(userSelectable, func(s string) bool { return strings.EqualFold(s, p) })
		if i < 0 {
			return nil, graphMessage(fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'.", p))
		}
		if !slices.Contains(out, userSelectable[i]) {
			out = append(out, userSelectable[i])
		}
	}
	return out, nil
}

// userJSON renders u with the properties in sel. Properties the backend
// does not keep (jobTitle, mobilePhone, ...) are null, as for a user created
// without them.
func (s *Server) userJSON(ctx context.Context, u backend.OnlineUser, sel []string) map[string]any {
	m := make(map[string]any, len(sel))
	for _, p := range sel {
		switch p {
		case "id":
			m[p] = u.ID
		case "userPrincipalName":
			m[p] = u.UserPrincipalName
		case "displayName":
			m[p] = u.DisplayName
		case "givenName":
			m[p] = nullIfEmpty(u.GivenName)
		case "surname":
			m[p] = nullIfEmpty(u.Surname)
		case "mail":
			m[p] = nullIfEmpty(u.Mail)
		case "mailNickname":
			m[p] = u.MailNickname
		case "accountEnabled":
			m[p] = u.AccountEnabled
		case "usageLocation":
			m[p] = nullIfEmpty(u.UsageLocation)
		case "onPremisesImmutableId":
			m[p] = nullIfEmpty(u.ImmutableID)
		case "onPremisesSyncEnabled":
			m[p] = nil
		case "lastPasswordChangeDateTime":
			m[p] = timeOrNull(u.LastPasswordChange)
		case "deletedDateTime":
			m[p] = timeOrNull(u.DeletedAt)
		case "assignedLicenses":
			ls := make([]map[string]any, 0, len(u.AssignedLicenses))
			for _, l := range u.AssignedLicenses {
				ls = append(ls, map[string]any{"skuId": l.SKUID, "disabledPlans": nonNil(l.DisabledPlans)})
			}
			m[p] = ls
		case "proxyAddresses":
			m[p] = s.proxyAddresses(ctx, u)
		case "businessPhones":
			m[p] = []string{}
		default: // jobTitle, mobilePhone, officeLocation, preferredLanguage
			m[p] = nil
		}
	}
	return m
}

func (s *Server) proxyAddresses(ctx context.Context, u backend.OnlineUser) []string {
	out := []string{}
	if u.Mail != "" {
		out = append(out, "SMTP:"+u.Mail)
	}
	if s.opts.Mail != nil && u.DeletedAt.IsZero() {
		aliases, err := s.opts.Mail.ListAliases(ctx, u.UserPrincipalName)
		if err != nil {
			s.log.Debug("m365emulator: list aliases", "upn", u.UserPrincipalName, "err", err)
		}
		for _, a := range aliases {
			out = append(out, "smtp:"+a)
		}
	}
	return out
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// wireSKU is a subscribedSku.
type wireSKU struct {
	AccountID        string            `json:"accountId"`
	AccountName      string            `json:"accountName"`
	AppliesTo        string            `json:"appliesTo"`
	CapabilityStatus string            `json:"capabilityStatus"`
	ConsumedUnits    int               `json:"consumedUnits"`
	ID               string            `json:"id"`
	PrepaidUnits     wirePrepaidUnits  `json:"prepaidUnits"`
	ServicePlans     []wireServicePlan `json:"servicePlans"`
	SKUID            string            `json:"skuId"`
	SKUPartNumber    string            `json:"skuPartNumber"`
	SubscriptionIDs  []string          `json:"subscriptionIds"`
}

type wirePrepaidUnits struct {
	Enabled   int `json:"enabled"`
	LockedOut int `json:"lockedOut"`
	Suspended int `json:"suspended"`
	Warning   int `json:"warning"`
}

type wireServicePlan struct {
	AppliesTo          string `json:"appliesTo"`
	ProvisioningStatus string `json:"provisioningStatus"`
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
}

func skuJSON(k backend.SKU, org backend.Organization) wireSKU {
	w := wireSKU{
		AccountID:        org.ID,
		AccountName:      org.DisplayName,
		AppliesTo:        "User",
		CapabilityStatus: k.CapabilityStatus,
		ConsumedUnits:    k.Consumed,
		ID:               k.ID,
		PrepaidUnits:     wirePrepaidUnits{Enabled: k.Enabled},
		ServicePlans:     []wireServicePlan{},
		SKUID:            k.SKUID,
		SKUPartNumber:    k.PartNumber,
		SubscriptionIDs:  []string{},
	}
	if w.CapabilityStatus == "" {
		w.CapabilityStatus = backend.CapabilityEnabled
	}
	// prepaidUnits (https://learn.microsoft.com/graph/api/resources/licenseunitsdetail):
	// the units of a suspended, locked-out or expired subscription are
	// counted as such; those of a suspended or locked-out one are no
	// longer enabled.
	switch w.CapabilityStatus {
	case backend.CapabilitySuspended, backend.CapabilityDeleted:
		w.PrepaidUnits = wirePrepaidUnits{Suspended: k.Enabled}
	case backend.CapabilityLockedOut:
		w.PrepaidUnits = wirePrepaidUnits{LockedOut: k.Enabled}
	case backend.CapabilityWarning:
		w.PrepaidUnits.Warning = k.Enabled
	}
	for _, p := range k.ServicePlans {
		status := p.ProvisioningStatus
		if status == "" {
			status = "Success"
		}
		w.ServicePlans = append(w.ServicePlans, wireServicePlan{
			AppliesTo: "User", ProvisioningStatus: status, ServicePlanID: p.ID, ServicePlanName: p.Name,
		})
	}
	return w
}

// wireDomain is a domain.
type wireDomain struct {
	AuthenticationType               string   `json:"authenticationType"`
	AvailabilityStatus               *string  `json:"availabilityStatus"`
	ID                               string   `json:"id"`
	IsAdminManaged                   bool     `json:"isAdminManaged"`
	IsDefault                        bool     `json:"isDefault"`
	IsInitial                        bool     `json:"isInitial"`
	IsRoot                           bool     `json:"isRoot"`
	IsVerified                       bool     `json:"isVerified"`
	PasswordNotificationWindowInDays *int     `json:"passwordNotificationWindowInDays"`
	PasswordValidityPeriodInDays     *int     `json:"passwordValidityPeriodInDays"`
	SupportedServices                []string `json:"supportedServices"`
	State                            any      `json:"state"`
}

// domainJSON renders d; all lists the tenant's domains, to tell whether d
// is a root domain.
func domainJSON(d backend.Domain, all []backend.Domain) wireDomain {
	auth := d.AuthenticationType
	if auth == "" {
		auth = "Managed"
	}
	root := true
	for _, o := range all {
		if !strings.EqualFold(o.Name, d.Name) && strings.HasSuffix(strings.ToLower(d.Name), "."+strings.ToLower(o.Name)) {
			root = false
		}
	}
	return wireDomain{
		AuthenticationType: auth,
		ID:                 d.Name,
		IsAdminManaged:     true,
		IsDefault:          d.IsDefault,
		IsInitial:          d.IsInitial,
		IsRoot:             root,
		IsVerified:         d.IsVerified,
		SupportedServices:  nonNil(d.SupportedServices),
	}
}

// dnsRecordJSON renders r as the domainDnsRecord subtype its type names
// (https://learn.microsoft.com/graph/api/resources/domaindnsrecord), with
// the '#'-prefixed @odata.type Graph answers with, or, with
// Options.RecordTypes set to ODataTypesBare, the bare type the
// domain-list-serviceconfigurationrecords doc example shows.
func (s *Server) dnsRecordJSON(r backend.DNSRecord) backend.GraphDNSRecord {
	g := dnsRecordJSON(r)
	if s.opts.RecordTypes == ODataTypesBare {
		g.ODataType = strings.TrimPrefix(g.ODataType, "#")
	}
	return g
}

// dnsRecordJSON renders r as the domainDnsRecord subtype its type names,
// with the '#'-prefixed @odata.type the Graph SDK needs to pick the subtype
// (backend.NewGraphDNSRecord, the one conversion).
func dnsRecordJSON(r backend.DNSRecord) backend.GraphDNSRecord {
	return backend.NewGraphDNSRecord(r)
}

// wireOrganization is an organization.
type wireOrganization struct {
	ID              string               `json:"id"`
	DisplayName     string               `json:"displayName"`
	TenantType      string               `json:"tenantType"`
	VerifiedDomains []wireVerifiedDomain `json:"verifiedDomains"`
	// Set by organizationSync (auth_graph.go); left out when never synchronized.
	OnPremisesSyncEnabled      *bool   `json:"onPremisesSyncEnabled,omitempty"`
	OnPremisesLastSyncDateTime *string `json:"onPremisesLastSyncDateTime,omitempty"`
}

type wireVerifiedDomain struct {
	Capabilities string `json:"capabilities"`
	IsDefault    bool   `json:"isDefault"`
	IsInitial    bool   `json:"isInitial"`
	Name         string `json:"name"`
	Type         string `json:"type"`
}

// collection is a Graph collection page.
type collection struct {
	Context   string `json:"@odata.context"`
	Count     *int   `json:"@odata.count,omitempty"` // $count=true with ConsistencyLevel: eventual
	NextLink  string `json:"@odata.nextLink,omitempty"`
	DeltaLink string `json:"@odata.deltaLink,omitempty"`
	Value     any    `json:"value"`
}
