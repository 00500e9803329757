// Package sambadns is the backend.Zone driver for a zone held by a Samba
// Active Directory DC's internal DNS server (dns backend SAMBA_INTERNAL).
//
// How it writes, and why: Samba's internal DNS accepts RFC 2136 updates
// only when they are signed with GSS-TSIG ("allow dns updates = secure
// only", the default), rejects HMAC TSIG keys outright, and GSS-TSIG
// updates signed by BIND's nsupdate were measured failing against Samba
// 4.17 (BADSIG). Opening the zone with "allow dns updates = nonsecure"
// would let anyone who reaches port 53 change any record, the domain's own
// SRV records included, so the driver never asks for it. It writes through
// the DC's own administration interface instead: samba-tool dns add and
// delete, which speak DCE/RPC (the DNS Server Management Protocol, as the
// Windows DNS console does) authenticated with an administrator's
// credentials, and work in the default secure-only mode. The password is
// handed to samba-tool in its environment (PASSWD), never on the command
// line or in a log. It therefore runs where samba-tool is installed: on
// the DC itself, or on a host with the Samba client tools.
//
// Reading uses plain DNS queries to the DC, one per name and type (Samba
// refuses zone transfers, so listing the whole zone is Unimplemented with
// backend.ReasonZoneTransferRefused). Records written over RPC get Samba's
// TTL (900 s): the RPC interface of samba-tool takes none.
//
// An update is applied record by record, not atomically: the driver checks
// everything it can first (names, CNAME conflicts, present and absent
// records), and if a write fails midway it undoes the writes it made in
// that update before returning the error.
package sambadns

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/rfc2136"
)

const (
	opList     = "zone: list records"
	opUpdate   = "zone: update records"
	opWritable = "zone: check writable"
)

// ReasonConfig (InvalidArgument): a Config field is missing or malformed.
// It is the rfc2136 driver's reason: both zone drivers word a bad Config
// alike.
const ReasonConfig = rfc2136.ReasonConfig

// ProbeLabel is the label of the record Writable adds and removes, the
// same as the rfc2136 driver's.
const ProbeLabel = rfc2136.ProbeLabel

// Config says which DC holds the zone and how to authenticate.
type Config struct {
	// Server is the DC's host name or address, as samba-tool takes it.
	Server string
	// DNSAddr is the DC's DNS service, host:port; default Server:53.
	DNSAddr string
	// Zone is the zone, e.g. contoso.com. It must exist on the DC
	// (samba-tool dns zonecreate).
	Zone string
	// User and Password are an account allowed to manage DNS (a member
	// of DnsAdmins or Domain Admins). The password is never logged.
	User, Password string
	// SambaTool is the samba-tool binary; default "samba-tool" on PATH.
	SambaTool string
}

// Options tunes the driver; nil means the defaults.
type Options struct {
	// Logger receives debug records of writes (never the password);
	// default discards.
	Logger *slog.Logger
	// Timeout bounds one samba-tool run or DNS exchange; default 30 s.
	Timeout time.Duration
}

// Zone is a zone on a Samba DC.
type Zone struct {
	cfg  Config
	zone string
	read *rfc2136.Zone
	log  *slog.Logger
	tmo  time.Duration
}

// New returns the zone cfg names; it does not contact the DC.
func New(cfg Config, opts *Options) (*Zone, error) {
	const op = "zone: open"
	var o Options
	if opts != nil {
		o = *opts
	}
	if cfg.Server == "" || cfg.Zone == "" || cfg.User == "" || cfg.Password == "" {
		return nil, backend.Invalid(op, cfg.Zone, ReasonConfig, "Server, Zone, User and Password are required")
	}
	if strings.ContainsAny(cfg.User, "%\n") {
		return nil, backend.Invalid(op, cfg.User, ReasonConfig, "the user name cannot contain %% or a newline")
	}
	cfg.DNSAddr = cmp.Or(cfg.DNSAddr, net.JoinHostPort(cfg.Server, "53"))
	cfg.SambaTool = cmp.Or(cfg.SambaTool, "samba-tool")
	o.Timeout = cmp.Or(o.Timeout, 30*time.Second)
	read, err := rfc2136.New(rfc2136.Config{Server: cfg.DNSAddr, Zone: cfg.Zone}, &rfc2136.Options{Timeout: o.Timeout, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return &Zone{cfg: cfg, zone: read.Name(), read: read, log: cmp.Or(o.Logger, slog.New(slog.DiscardHandler)), tmo: o.Timeout}, nil
}

// Name returns the zone's apex.
func (z *Zone) Name() string { return z.zone }

// Records lists the records at names by DNS queries to the DC. With no
// names it is Unimplemented (backend.ReasonZoneTransferRefused): Samba
// refuses zone transfers.
func (z *Zone) Records(ctx context.Context, names ...string) ([]backend.DNSRecord, error) {
	if err := backend.CtxErr(ctx, opList); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, &backend.Error{Kind: backend.Unimplemented, Op: opList, Key: z.zone, Reason: backend.ReasonZoneTransferRefused,
			Msg: "Samba's internal DNS refuses zone transfers; list the names you need instead"}
	}
	return z.read.Records(ctx, names...)
}

// Update removes then adds, record by record, undoing its own writes when
// one fails.
func (z *Zone) Update(ctx context.Context, remove, add []backend.DNSRecord) error {
	if err := backend.CtxErr(ctx, opUpdate); err != nil {
		return err
	}
	for _, r := range slices.Concat(remove, add) {
		if !backend.ZoneContains(z.zone, r.Name) {
			return backend.Invalid(opUpdate, r.Name, backend.ReasonZoneOutside, "%s is not in the zone %s", r.Name, z.zone)
		}
		if _, ok := backend.ParseDNSType(string(r.Type)); !ok {
			return backend.Invalid(opUpdate, r.Name, backend.ReasonDNSRecordType, "record type %q is not one of MX, TXT, CNAME, SRV", r.Type)
		}
	}
	// What is there now, at every name touched.
	var names []string
	for _, r := range slices.Concat(remove, add) {
		if n := backend.CanonicalDNSName(r.Name); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	have, err := z.read.Records(ctx, names...)
	if err != nil {
		return backend.WithOp(err, opUpdate, z.zone)
	}
	var dels, adds []backend.DNSRecord
	for _, r := range remove {
		if slices.ContainsFunc(have, r.Same) && !slices.ContainsFunc(dels, r.Same) {
			dels = append(dels, r.Canonical())
		}
	}
	after := slices.DeleteFunc(slices.Clone(have), func(h backend.DNSRecord) bool { return slices.ContainsFunc(dels, h.Same) })
	for _, r := range add {
		if !slices.ContainsFunc(after, r.Same) {
			adds = append(adds, r.Canonical())
			after = append(after, r.Canonical())
		}
	}
	for _, n := range names {
		var at []backend.DNSRecord
		for _, r := range after {
			if r.Name == n {
				at = append(at, r)
			}
		}
		if len(at) > 1 && slices.ContainsFunc(at, func(r backend.DNSRecord) bool { return r.Type == backend.DNSTypeCNAME }) {
			return &backend.Error{Kind: backend.FailedPrecondition, Op: opUpdate, Key: n, Reason: backend.ReasonZoneCNAMEConflict,
				Msg: "a CNAME cannot share its name with other records; remove the records already at " + n + " first"}
		}
	}
	var done []func() error
	undo := func() {
		for i := len(done) - 1; i >= 0; i-- {
			if err := done[i](); err != nil {
				z.log.Warn("sambadns: could not undo a write", "zone", z.zone, "err", err)
			}
		}
	}
	for _, r := range dels {
		if err := z.tool(ctx, opUpdate, "delete", r); err != nil {
			undo()
			return err
		}
		done = append(done, func() error { return z.tool(context.WithoutCancel(ctx), opUpdate, "add", r) })
	}
	for _, r := range adds {
		if err := z.tool(ctx, opUpdate, "add", r); err != nil {
			undo()
			return err
		}
		done = append(done, func() error { return z.tool(context.WithoutCancel(ctx), opUpdate, "delete", r) })
	}
	z.log.Debug("sambadns: zone updated", "zone", z.zone, "removed", len(dels), "added", len(adds))
	return nil
}

// Writable adds and removes the driver's probe record.
func (z *Zone) Writable(ctx context.Context) error {
	if err := backend.CtxErr(ctx, opWritable); err != nil {
		return err
	}
	probe := backend.DNSRecord{Name: ProbeLabel + "." + z.zone, Type: backend.DNSTypeTXT, Text: "essentials365 write probe"}
	if err := z.tool(ctx, opWritable, "add", probe); err != nil && !errors.Is(err, errExists) {
		return err
	}
	if err := z.tool(ctx, opWritable, "delete", probe); err != nil && !errors.Is(err, errAbsent) {
		return err
	}
	return nil
}

var (
	errExists = errors.New("the record already exists")
	errAbsent = errors.New("the record does not exist")
)

// tool runs samba-tool dns add|delete for one record.
func (z *Zone) tool(ctx context.Context, op, verb string, r backend.DNSRecord) error {
	host := "@"
	if r.Name != z.zone {
		host = strings.TrimSuffix(r.Name, "."+z.zone)
	}
	ctx, cancel := context.WithTimeout(ctx, z.tmo)
	defer cancel()
	cmd := exec.CommandContext(ctx, z.cfg.SambaTool, "dns", verb, z.cfg.Server, z.zone, host, string(r.Type), rdata(r), "-U", z.cfg.User)
	cmd.Env = append(os.Environ(), "PASSWD="+z.cfg.Password)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
		return &backend.Error{Kind: backend.Canceled, Op: op, Key: r.Name, Err: ctx.Err()}
	}
	text := lastLine(out.String())
	cause := errors.New("samba-tool dns " + verb + ": " + text)
	switch {
	case strings.Contains(text, "Record already exists"):
		return &backend.Error{Kind: backend.AlreadyExists, Op: op, Key: r.Name, Msg: "the record is already in the zone", Err: errors.Join(errExists, cause)}
	case strings.Contains(text, "Record does not exist"):
		return &backend.Error{Kind: backend.NotFound, Op: op, Key: r.Name, Msg: "the record is not in the zone", Err: errors.Join(errAbsent, cause)}
	case strings.Contains(text, "Zone does not exist"):
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: z.zone, Reason: backend.ReasonZoneNotAuthoritative,
			Msg: "the DC does not hold the zone " + z.zone + "; create it with samba-tool dns zonecreate", Err: cause}
	case strings.Contains(text, "LOGON_FAILURE"), strings.Contains(text, "ACCESS_DENIED"), strings.Contains(text, "logon is invalid"):
		return &backend.Error{Kind: backend.PermissionDenied, Op: op, Key: z.zone, Reason: backend.ReasonZoneRefused,
			Msg: "the DC refused the credentials; give an account of DnsAdmins or Domain Admins", Err: cause}
	case errors.Is(err, exec.ErrNotFound):
		return &backend.Error{Kind: backend.FailedPrecondition, Op: op, Key: z.zone, Msg: "samba-tool is not installed here; run on the DC or install the Samba tools", Err: err}
	}
	return &backend.Error{Kind: backend.Unavailable, Op: op, Key: z.zone, Msg: "samba-tool failed", Err: cause}
}

// rdata is the record's data as samba-tool dns add takes it.
func rdata(r backend.DNSRecord) string {
	switch r.Type {
	case backend.DNSTypeMX:
		return r.Exchange + " " + strconv.Itoa(int(r.Preference))
	case backend.DNSTypeSRV:
		return r.Target + " " + strconv.Itoa(int(r.Port)) + " " + strconv.Itoa(int(r.Priority)) + " " + strconv.Itoa(int(r.Weight))
	case backend.DNSTypeTXT:
		var parts []string
		for s := r.Text; ; {
			n := min(len(s), 255)
			parts = append(parts, `"`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s[:n])+`"`)
			s = s[n:]
			if s == "" {
				break
			}
		}
		return strings.Join(parts, " ")
	}
	return r.Target
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
