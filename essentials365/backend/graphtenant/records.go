package graphtenant

import (
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// recordFromAdditionalData fills the type-specific fields of a DNS record
// that the SDK decoded as the base domainDnsRecord: it picks the subtype
// only from a '#'-prefixed @odata.type, and the API reference's own example
// (domain-list-serviceconfigurationrecords) writes it without the '#'. The
// fields are then in the record's additional data, and recordType says
// which they are.
func recordFromAdditionalData(rec *backend.DomainDNSRecord, data map[string]any) {
	str := func(k string) string {
		switch v := data[k].(type) {
		case *string:
			if v != nil {
				return *v
			}
		case string:
			return v
		}
		return ""
	}
	num := func(k string) int {
		switch v := data[k].(type) {
		case *float64:
			if v != nil {
				return int(*v)
			}
		case *int32:
			if v != nil {
				return int(*v)
			}
		case *int64:
			if v != nil {
				return int(*v)
			}
		case float64:
			return int(v)
		}
		return 0
	}
	switch strings.ToLower(rec.RecordType) {
	case "mx":
		rec.MailExchange = str("mailExchange")
		rec.Preference = num("preference")
	case "txt":
		rec.Text = str("text")
	case "cname":
		rec.CanonicalName = str("canonicalName")
	case "srv":
		rec.NameTarget = str("nameTarget")
		rec.Port = num("port")
		rec.Priority = num("priority")
		rec.Protocol = str("protocol")
		rec.Service = str("service")
		rec.Weight = num("weight")
	}
}
