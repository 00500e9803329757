package adldap

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Compile-time proof of the requirements capability.
var _ backend.DirectoryRequirements = (*Directory)(nil)

// RequirementFacts implements backend.DirectoryRequirements. It reads:
//
//   - the domain controllers: the dNSHostName of the server object above
//     each nTDSDSA under CN=Sites that holds this domain's naming context;
//   - the server the driver talks to and its clock: the rootDSE's
//     dnsHostName and currentTime;
//   - whether the schema defines the mapping attribute (an attributeSchema
//     with that lDAPDisplayName);
//   - whether the bind account may write it: the attribute is listed in
//     allowedAttributesEffective of a user object of UsersDN (the
//     operational attribute AD and Samba compute from the object's
//     security descriptor for the bound account).
//
// It writes nothing.
func (d *Directory) RequirementFacts(ctx context.Context) (backend.DirectoryFacts, error) {
	const op = "directory: requirement facts"
	f := backend.DirectoryFacts{MappingAttribute: d.s.mapping}
	err := d.do(ctx, op, "", func(c *ldap.Conn) error {
		res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"dnsHostName", "currentTime", "schemaNamingContext"}, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) != 1 {
			return backend.Errorf(backend.Unknown, op, "", "the rootDSE was not returned")
		}
		root := res.Entries[0]
		f.Server = strings.ToLower(root.GetAttributeValue("dnsHostName"))
		f.ServerTime = parseGeneralizedTime(root.GetAttributeValue("currentTime"))
		if f.DomainControllers, err = d.domainControllers(c); err != nil {
			return err
		}
		schema := root.GetAttributeValue("schemaNamingContext")
		res, err = c.Search(ldap.NewSearchRequest(schema, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
			"(&(objectClass=attributeSchema)(lDAPDisplayName="+escapeFilter(d.s.mapping)+"))", []string{"lDAPDisplayName"}, nil))
		if err != nil {
			return err
		}
		f.SchemaHasMappingAttribute = len(res.Entries) > 0
		if !f.SchemaHasMappingAttribute {
			return nil
		}
		f.CanWriteMappingAttribute, err = d.canWrite(c, d.s.mapping)
		return err
	})
	if err != nil {
		return backend.DirectoryFacts{}, err
	}
	return f, nil
}

// domainControllers returns the DNS names of the domain's DCs, sorted.
func (d *Directory) domainControllers(c *ldap.Conn) ([]string, error) {
	dn := escapeFilter(d.baseDN)
	res, err := c.Search(ldap.NewSearchRequest("CN=Sites,"+d.configDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&(objectClass=nTDSDSA)(|(msDS-HasDomainNCs="+dn+")(hasMasterNCs="+dn+")))", []string{"objectGUID"}, nil))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range res.Entries {
		parsed, err := ldap.ParseDN(e.DN)
		if err != nil || len(parsed.RDNs) < 2 {
			continue
		}
		server := &ldap.DN{RDNs: parsed.RDNs[1:]}
		sr, err := c.Search(ldap.NewSearchRequest(server.String(), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"dNSHostName", "cn"}, nil))
		if err != nil || len(sr.Entries) == 0 {
			continue
		}
		name := sr.Entries[0].GetAttributeValue("dNSHostName")
		if name == "" {
			name = sr.Entries[0].GetAttributeValue("cn")
		}
		out = append(out, strings.ToLower(name))
	}
	slices.Sort(out)
	return out, nil
}

// canWrite reports whether attr is in allowedAttributesEffective of a user
// object of UsersDN other than the bind account itself: an account may
// write some attributes of its own object, which says nothing of its right
// on the users the SDK manages.
func (d *Directory) canWrite(c *ldap.Conn, attr string) (bool, error) {
	res, err := c.Search(ldap.NewSearchRequest(d.usersDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 10, 0, false,
		"(&(objectCategory=person)(objectClass=user))", []string{"allowedAttributesEffective", "userPrincipalName", "sAMAccountName"}, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return false, err
	}
	if res == nil || len(res.Entries) == 0 {
		return false, backend.Errorf(backend.NotFound, "directory: requirement facts", d.usersDN, "no user object to read the bind account's rights on")
	}
	entry := res.Entries[0]
	for _, e := range res.Entries {
		if !d.isBindAccount(e) {
			entry = e
			break
		}
	}
	return slices.ContainsFunc(entry.GetAttributeValues("allowedAttributesEffective"), func(a string) bool {
		return strings.EqualFold(a, attr)
	}), nil
}

// isBindAccount reports whether e is the account the driver binds as,
// given as a DN, a UPN or DOMAIN\name.
func (d *Directory) isBindAccount(e *ldap.Entry) bool {
	user := d.s.user
	if _, sam, ok := strings.Cut(user, `\`); ok {
		return strings.EqualFold(e.GetAttributeValue("sAMAccountName"), sam)
	}
	return strings.EqualFold(e.DN, user) || strings.EqualFold(e.GetAttributeValue("userPrincipalName"), user)
}

// parseGeneralizedTime reads AD's GeneralizedTime ("20260102150405.0Z");
// zero when it cannot.
func parseGeneralizedTime(v string) time.Time {
	for _, layout := range []string{"20060102150405.0Z", "20060102150405Z", "20060102150405.0Z0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
