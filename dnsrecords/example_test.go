package dnsrecords_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/essentials365/sdk/dnsrecords"
	"github.com/essentials365/sdk/essentials365/backend"
)

func ExampleParseDomain() {
	d, err := dnsrecords.ParseDomain("Bücher.de", dnsrecords.PolicyEssentials)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Name, d.Unicode, d.Registrable)

	_, err = dnsrecords.ParseDomain("marketing.contoso.com", dnsrecords.PolicyEssentials)
	if errors.Is(err, backend.ErrInvalidArgument) {
		fmt.Println("rejected by rule", backend.ReasonOf(err))
	}
	// Output:
	// xn--bcher-kva.de bücher.de xn--bcher-kva.de
	// rejected by rule essentials-subdomain
}

func ExampleGenerate() {
	d, err := dnsrecords.ParseDomain("contoso.com", dnsrecords.PolicyModern)
	if err != nil {
		log.Fatal(err)
	}
	set, err := dnsrecords.Generate(d, &dnsrecords.Options{
		Services:          []dnsrecords.Service{dnsrecords.ServiceVerification, dnsrecords.ServiceMail},
		VerificationToken: "ms12345678",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range set.Records {
		note := ""
		if r.Unverified() {
			note = " (unverified)"
		}
		fmt.Printf("%-5s %-12s %s%s\n", r.Type, r.Host(d.Name), r.Value(), note)
	}
	// Output:
	// TXT   @            MS=ms12345678
	// MX    @            ms12345678.msv1.invalid
	// MX    @            contoso-com.mail.protection.outlook.com (unverified)
	// CNAME autodiscover autodiscover.outlook.com
	// TXT   @            v=spf1 include:spf.protection.outlook.com -all
}

func ExampleRecordSet_Render() {
	d, err := dnsrecords.ParseDomain("contoso.com", dnsrecords.PolicyModern)
	if err != nil {
		log.Fatal(err)
	}
	set, err := dnsrecords.Generate(d, &dnsrecords.Options{Services: []dnsrecords.Service{dnsrecords.ServiceFederation}})
	if err != nil {
		log.Fatal(err)
	}
	if err := set.Render(os.Stdout, dnsrecords.FormatZone); err != nil {
		log.Fatal(err)
	}
	// Output:
	// ; Microsoft 365 DNS records for contoso.com
	// ; Lines marked UNVERIFIED hold values derived from the domain name: confirm them
	// ; in the Microsoft 365 admin center before importing this fragment.
	// $ORIGIN contoso.com.
	//
	// ; Teams federation, required: Lets users in other organisations find your users in Teams (federation) and chat or call with them.
	// _sipfederationtls._tcp.contoso.com.	3600	IN	SRV	100 1 5061 sipfed.online.lync.com.
}

func ExampleMergeSPF() {
	res, err := dnsrecords.MergeSPF([]string{
		"MS=ms12345678",
		"v=spf1 include:_spf.google.com ~all",
	}, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Record)
	fmt.Println("lookups:", res.Lookups)
	// Output:
	// v=spf1 include:_spf.google.com include:spf.protection.outlook.com ~all
	// lookups: 2
}
