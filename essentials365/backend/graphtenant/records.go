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
func recordFromAdditionalData(rec *backend.GraphDNSRecord, data map[string]any) {
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
	num := func(k string) *int64 {
		var n int64
		switch v := data[k].(type) {
		case *float64:
			if v == nil {
				return nil
			}
			n = int64(*v)
		case *int32:
			if v == nil {
				return nil
			}
			n = int64(*v)
		case *int64:
			if v == nil {
				return nil
			}
			n = *v
		case float64:
			n = int64(v)
		default:
			return nil
		}
		return &n
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
