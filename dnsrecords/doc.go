// Package dnsrecords generates, explains, renders and checks the DNS records a
// custom domain needs for Microsoft 365.
//
// It re-creates, for today's Microsoft 365, the NewDNSRecords_(n).txt file that
// the Windows Server Essentials "Link your domain to Office 365" wizard wrote
// when the server did not manage the domain's DNS, and it adds what the wizard
// never did: a zone-file fragment, CSV and JSON output, SPF merging, and a live
// check of the records against the domain's authoritative name servers.
//
// The package is pure: it talks neither to Microsoft Graph nor to Exchange.
// A Record is the SDK's neutral backend.DNSRecord with what this package
// knows about it. Records come either from the tenant (backend.DNSRecord
// values from backend.DomainAdmin, or Graph's JSON decoded into
// backend.GraphDNSRecord and converted, passed in Options.TenantRecords) or
// are derived offline from
// the domain name with the values Microsoft documents. Values that depend on
// the tenant (the MS= token, the MX host, the DKIM targets) and were derived
// from the domain name alone are marked SourceDerived: they are guesses until
// confirmed in the Microsoft 365 admin center or with Exchange Online
// PowerShell.
//
// # Usage
//
//	d, err := dnsrecords.ParseDomain("contoso.com", dnsrecords.PolicyModern)
//	set, err := dnsrecords.Generate(d, &dnsrecords.Options{VerificationToken: "ms12345678"})
//	err = set.Render(os.Stdout, dnsrecords.FormatZone)
//	path, err := dnsrecords.WriteFile(dir, set, nil) // NewDNSRecords_(n).txt
//	report, err := dnsrecords.Check(ctx, set, &dnsrecords.CheckOptions{Server: "127.0.0.1:5353"})
//
// # Domain policies
//
// PolicyEssentials accepts only registrable domains (contoso.com,
// contoso.co.uk), as the Essentials wizard did; PolicyModern also accepts
// subdomains (marketing.contoso.com), as Microsoft 365 does today when the
// customer manages the DNS. Internationalized names are accepted and converted
// to A-labels (xn--…).
//
// # Errors
//
// Every rejected input is a *backend.Error of kind InvalidArgument whose
// Reason is one of the ReasonXxx constants (for example ReasonLabelLength or
// ReasonEssentialsSubdomain; read it with backend.ReasonOf); the reason also
// appears in the message. Check returns the context's error
// when the context ends, and an error matching backend.ErrUnavailable when no
// name server of the domain can be found; a server that does not answer is not
// an error but a finding in the Report.
//
// # Concurrency
//
// Domain, Record, RecordSet and Report are plain values, safe to read from
// several goroutines. Generate, Render, WriteFile and Check keep no state
// between calls and may be called concurrently.
package dnsrecords
