package dnsrecords

import (
	"fmt"

	"github.com/essentials365/sdk/essentials365/backend"
)

// The reasons this package's errors name. Every rejected input is a
// *backend.Error of kind InvalidArgument (errors.Is(err,
// backend.ErrInvalidArgument)) whose Reason is one of these; read it with
// backend.ReasonOf.
const (
	// ReasonEmpty (InvalidArgument): the name is empty.
	ReasonEmpty backend.Reason = "empty"
	// ReasonNameLength (InvalidArgument): more than 253 characters in all.
	ReasonNameLength backend.Reason = "name-length"
	// ReasonLabelEmpty (InvalidArgument): an empty label (leading dot, "..").
	ReasonLabelEmpty backend.Reason = "label-empty"
	// ReasonLabelLength (InvalidArgument): a label longer than 63 characters.
	ReasonLabelLength backend.Reason = "label-length"
	// ReasonLabelCharacters (InvalidArgument): a character other than a
	// letter, digit or hyphen.
	ReasonLabelCharacters backend.Reason = "label-ldh"
	// ReasonLabelHyphen (InvalidArgument): a label starting or ending with a
	// hyphen.
	ReasonLabelHyphen backend.Reason = "label-hyphen"
	// ReasonLabelReserved (InvalidArgument): "--" in positions 3 and 4 of a
	// label that is not an A-label.
	ReasonLabelReserved backend.Reason = "label-reserved"
	// ReasonIDNA (InvalidArgument): an internationalized name or xn-- label
	// that is not valid IDNA.
	ReasonIDNA backend.Reason = "idna"
	// ReasonPublicSuffix (InvalidArgument): no known public suffix, or the
	// name is itself a public suffix.
	ReasonPublicSuffix backend.Reason = "public-suffix"
	// ReasonEssentialsSubdomain (InvalidArgument): a subdomain under the
	// Essentials policy.
	ReasonEssentialsSubdomain backend.Reason = "essentials-subdomain"
	// ReasonOwnerName (InvalidArgument): a record owner name that is not
	// valid or not under the domain.
	ReasonOwnerName backend.Reason = "owner-name"
	// ReasonRecordType (InvalidArgument): a record type this package does
	// not handle (the same reason as backend.ReasonDNSRecordType).
	ReasonRecordType = backend.ReasonDNSRecordType
	// ReasonRecordValue (InvalidArgument): a record value that is missing or
	// malformed (the same reason as backend.ReasonDNSRecordValue).
	ReasonRecordValue = backend.ReasonDNSRecordValue
	// ReasonOption (InvalidArgument): an option that is out of range or
	// malformed.
	ReasonOption backend.Reason = "option"
	// ReasonSPF (InvalidArgument): an existing SPF record that cannot be
	// merged.
	ReasonSPF backend.Reason = "spf"
)

// The operations this package names in its errors.
const (
	opParse     = "dnsrecords: parse domain"
	opGenerate  = "dnsrecords: generate records"
	opRender    = "dnsrecords: render records"
	opCheck     = "dnsrecords: check records"
	opSPF       = "dnsrecords: merge spf"
	opWriteFile = "dnsrecords: write records file"
)

// invalid returns the InvalidArgument error of op about the input name.
func invalid(op, name string, reason backend.Reason, format string, args ...any) *backend.Error {
	return &backend.Error{Kind: backend.InvalidArgument, Op: op, Key: name, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}
