package memory

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/essentials365/sdk/essentials365/backend"
)

// ZoneOptions configures a memory [Zone]. The zero value (or nil) gives a
// writable, empty zone.
type ZoneOptions struct {
	// ReadOnly makes every Update fail with PermissionDenied
	// (backend.ReasonZoneReadOnly), like a server that refuses updates.
	ReadOnly bool
	// Records seeds the zone.
	Records []backend.DNSRecord
	// Logger receives debug records of writes; default discards.
	Logger *slog.Logger
}

// Zone is an in-memory DNS zone implementing [backend.Zone] with the rules
// of a real primary server: names must be in the zone, a CNAME stands
// alone at its name, updates are atomic and replayable. It also answers
// TXT lookups (LookupTXT), so a memory tenant can verify domains against
// it.
//
// Operation names for faults and the call log are "Records", "Update" and
// "Writable". A Zone is safe for concurrent use.
type Zone struct {
	recorder

	name     string
	readOnly bool
	log      *slog.Logger

	mu   sync.Mutex
	recs []backend.DNSRecord
}

// NewZone returns the zone with apex name; opts may be nil.
func NewZone(name string, opts *ZoneOptions) *Zone {
	var o ZoneOptions
	if opts != nil {
		o = *opts
	}
	z := &Zone{name: backend.CanonicalDNSName(name), readOnly: o.ReadOnly, log: cmp.Or(o.Logger, slog.New(slog.DiscardHandler))}
	for _, r := range o.Records {
		z.recs = append(z.recs, zoneStored(r))
	}
	return z
}

// zoneStored is the form a record is kept in: canonical, without tenant
// fields, TTL defaulted.
func zoneStored(r backend.DNSRecord) backend.DNSRecord {
	r = r.Canonical()
	r.ID, r.SupportedService, r.Optional = "", "", false
	if r.TTL == 0 {
		r.TTL = backend.M365TTL
	}
	return r
}

// Name returns the zone's apex.
func (z *Zone) Name() string { return z.name }

// Records lists the records at names, or the whole zone.
func (z *Zone) Records(ctx context.Context, names ...string) ([]backend.DNSRecord, error) {
	const op = "Records"
	if err := z.begin(ctx, op); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		if !backend.ZoneContains(z.name, n) {
			return nil, z.done(op, backend.Invalid("zone: list records", n, backend.ReasonZoneOutside, "%s is not in the zone %s", n, z.name))
		}
		want[backend.CanonicalDNSName(n)] = true
	}
	z.mu.Lock()
	var out []backend.DNSRecord
	for _, r := range z.recs {
		if len(want) == 0 || want[r.Name] {
			out = append(out, r)
		}
	}
	z.mu.Unlock()
	return out, z.done(op, nil)
}

// Update applies remove then add atomically.
func (z *Zone) Update(ctx context.Context, remove, add []backend.DNSRecord) error {
	const op = "Update"
	if err := z.begin(ctx, op); err != nil {
		return err
	}
	const zop = "zone: update records"
	if z.readOnly {
		return z.done(op, &backend.Error{Kind: backend.PermissionDenied, Op: zop, Key: z.name, Reason: backend.ReasonZoneReadOnly,
			Msg: "the zone is read-only: publish the records by hand or give a writable zone"})
	}
	for _, r := range slices.Concat(remove, add) {
		if !backend.ZoneContains(z.name, r.Name) {
			return z.done(op, backend.Invalid(zop, r.Name, backend.ReasonZoneOutside, "%s is not in the zone %s", r.Name, z.name))
		}
		if _, ok := backend.ParseDNSType(string(r.Type)); !ok {
			return z.done(op, backend.Invalid(zop, r.Name, backend.ReasonDNSRecordType, "record type %q is not one of MX, TXT, CNAME, SRV", r.Type))
		}
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	next := slices.Clone(z.recs)
	for _, r := range remove {
		next = slices.DeleteFunc(next, func(o backend.DNSRecord) bool { return o.Same(r) })
	}
	for _, r := range add {
		r = zoneStored(r)
		if slices.ContainsFunc(next, func(o backend.DNSRecord) bool { return o.Same(r) }) {
			continue
		}
		for _, o := range next {
			if o.Name == r.Name && (o.Type == backend.DNSTypeCNAME || r.Type == backend.DNSTypeCNAME) {
				return z.done(op, &backend.Error{Kind: backend.FailedPrecondition, Op: zop, Key: r.Name, Reason: backend.ReasonZoneCNAMEConflict,
					Msg: "a CNAME cannot share its name with other records; remove the existing " + string(o.Type) + " record at " + r.Name + " first"})
			}
		}
		next = append(next, r)
	}
	z.recs = next
	z.log.Debug("memory zone updated", "zone", z.name, "removed", len(remove), "added", len(add))
	return z.done(op, nil)
}

// Writable returns nil unless the zone is read-only.
func (z *Zone) Writable(ctx context.Context) error {
	const op = "Writable"
	if err := z.begin(ctx, op); err != nil {
		return err
	}
	if z.readOnly {
		return z.done(op, &backend.Error{Kind: backend.PermissionDenied, Op: "zone: check writable", Key: z.name, Reason: backend.ReasonZoneReadOnly,
			Msg: "the zone is read-only: publish the records by hand or give a writable zone"})
	}
	return z.done(op, nil)
}

// LookupTXT returns the TXT texts at name, in the form of
// TenantOptions.LookupTXT, so that a memory tenant verifies domains
// against this zone.
func (z *Zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	name = backend.CanonicalDNSName(name)
	z.mu.Lock()
	defer z.mu.Unlock()
	var out []string
	for _, r := range z.recs {
		if r.Name == name && r.Type == backend.DNSTypeTXT {
			out = append(out, r.Text)
		}
	}
	return out, nil
}

// zoneOpWording is the wording of the zone contract's operations in
// errors, the same in every zone driver ("zone: <verb> <object>").
var zoneOpWording = map[string]string{
	"Records":  "zone: list records",
	"Update":   "zone: update records",
	"Writable": "zone: check writable",
}

func (z *Zone) begin(ctx context.Context, op string) error {
	if err := backend.CtxErr(ctx, zoneOpWording[op]); err != nil {
		z.record(op, z.name, err)
		return err
	}
	if err := z.fault(ctx, op, z.name); err != nil {
		z.record(op, z.name, err)
		return err
	}
	return nil
}

func (z *Zone) done(op string, err error) error {
	z.record(op, z.name, err)
	return err
}
