// Command tenantstatus shows a Microsoft 365 tenant's status as the
// Essentials dashboard's Office 365 page did, from essentials365's
// Integration.Status: the integration's state (with -state, the state
// directory of an integration), the organization, its subscriptions with
// free licenses, its domains, and how many online users it has.
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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/essentials365/sdk/essentials365"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/state"
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
	stateDir := fs.String("state", "", "the integration's state directory (default: none, the state shows not-integrated)")
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
	var store state.Store = state.NewMemoryStore()
	if *stateDir != "" {
		fs, err := state.NewFileStore(*stateDir)
		if err != nil {
			return err
		}
		defer fs.Close()
		store = fs
	}
	return report(ctx, w, tenant, store)
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

func report(ctx context.Context, w io.Writer, t backend.Tenant, store state.Store) error {
	// The status page reads only the tenant and the local state: a memory
	// directory stands in for the domain. Status counts the sealed pending
	// password updates without opening them, so a throwaway sealer will do.
	integ, err := essentials365.Open(ctx, memory.NewDirectory(nil), t, &essentials365.Options{Store: store, Sealer: state.NewEphemeralSealer()})
	if err != nil {
		return err
	}
	org, err := t.Organization(ctx)
	if err != nil {
		return err
	}
	st, err := integ.Status(ctx)
	if err != nil {
		return err
	}
	if st.TenantError != nil {
		return st.TenantError
	}
	fmt.Fprintf(w, "Organization: %s (%s)\n", org.DisplayName, org.ID)
	fmt.Fprintf(w, "Integration: %s", st.Record.State)
	if !st.Record.Since.IsZero() {
		fmt.Fprintf(w, " since %s", st.Record.Since.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "; pending password updates: %d\n\nSubscriptions\n", st.PendingPasswords)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SKU\tSTATUS\tSEATS\tUSED\tFREE")
	for _, s := range st.Subscriptions {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\n", s.Name, s.CapabilityStatus, s.Total, s.Used, s.Free)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Exchange Online: %v\n\nDomains\n", st.ExchangeOnline)
	for _, d := range st.Domains {
		var tags []string
		if d.Verified {
			tags = append(tags, "verified")
		} else {
			tags = append(tags, "not verified")
		}
		if d.Default {
			tags = append(tags, "default")
		}
		if d.Initial {
			tags = append(tags, "initial")
		}
		fmt.Fprintf(w, "  %s (%s)\n", d.Name, strings.Join(tags, ", "))
	}
	if st.LastReconcile != nil {
		fmt.Fprintf(w, "\nLast reconcile: %s, %d examined, %d failures\n", st.LastReconcile.At.Format(time.RFC3339), st.LastReconcile.Examined, st.LastReconcile.Failures)
	}
	for _, c := range st.Warnings {
		fmt.Fprintf(w, "Warning %s: %s\n", c.ID, c.Found)
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
