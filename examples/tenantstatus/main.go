// Command tenantstatus shows a Microsoft 365 tenant's status as the
// Essentials dashboard did: the organization, its subscriptions with free
// licenses, its domains, and how many online users it has.
//
// Against a real tenant, with an app registration allowed
// Organization.Read.All, Domain.Read.All and User.Read.All:
//
//	go run ./examples/tenantstatus -tenant-id ID -client-id ID   # secret in E365_CLIENT_SECRET
//
// Against the local emulator (go run ./examples/m365emulator):
//
//	go run ./examples/tenantstatus -base-url http://127.0.0.1:8365/v1.0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, w io.Writer) error {
	fs := flag.NewFlagSet("tenantstatus", flag.ContinueOnError)
	baseURL := fs.String("base-url", graphtenant.DefaultBaseURL, "Graph's root URL (an emulator's for offline use)")
	tenantID := fs.String("tenant-id", "", "the directory (tenant) id of the app registration")
	clientID := fs.String("client-id", "", "the application (client) id; its secret is read from E365_CLIENT_SECRET")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cred, err := credential(*baseURL, *tenantID, *clientID, getenv("E365_CLIENT_SECRET"))
	if err != nil {
		return err
	}
	tenant, err := graphtenant.New(graphtenant.Config{Credential: cred, BaseURL: *baseURL})
	if err != nil {
		return err
	}
	return report(ctx, w, tenant)
}

// credential is a client-secret credential for a real tenant, or a static
// token for an emulator on loopback.
func credential(baseURL, tenantID, clientID, secret string) (azcore.TokenCredential, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("-base-url: %w", err)
	}
	if h := u.Hostname(); h == "127.0.0.1" || h == "localhost" || h == "::1" {
		return graphtenant.StaticToken("emulator"), nil
	}
	if tenantID == "" || clientID == "" || secret == "" {
		return nil, errors.New("a real tenant needs -tenant-id, -client-id and E365_CLIENT_SECRET (or use -base-url with a local emulator)")
	}
	return azidentity.NewClientSecretCredential(tenantID, clientID, secret, nil)
}

func report(ctx context.Context, w io.Writer, t backend.Tenant) error {
	org, err := t.Organization(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Organization: %s (%s)\n\nSubscriptions\n", org.DisplayName, org.ID)
	skus, err := t.SubscribedSKUs(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(skus, func(a, b backend.SKU) int { return strings.Compare(a.PartNumber, b.PartNumber) })
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SKU\tSTATUS\tSEATS\tUSED\tFREE")
	for _, s := range skus {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\n", s.PartNumber, s.CapabilityStatus, s.Enabled, s.Consumed, s.Available())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	doms, err := t.Domains(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(doms, func(a, b backend.Domain) int { return strings.Compare(a.Name, b.Name) })
	fmt.Fprintln(w, "\nDomains")
	for _, d := range doms {
		var tags []string
		if d.IsVerified {
			tags = append(tags, "verified")
		} else {
			tags = append(tags, "not verified")
		}
		if d.IsDefault {
			tags = append(tags, "default")
		}
		if d.IsInitial {
			tags = append(tags, "initial")
		}
		fmt.Fprintf(w, "  %s (%s)\n", d.Name, strings.Join(tags, ", "))
	}
	users, licensed := 0, 0
	for u, err := range t.ListUsers(ctx) {
		if err != nil {
			return err
		}
		users++
		if u.Licensed() {
			licensed++
		}
	}
	fmt.Fprintf(w, "\nOnline users: %d (%d licensed)\n", users, licensed)
	return nil
}
