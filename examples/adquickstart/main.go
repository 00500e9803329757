// Command adquickstart runs the quickstart lifecycle against a real Active
// Directory domain controller (over LDAPS), with the in-memory Microsoft 365
// tenant for the cloud side:
//
//	eval "$(scripts/samba-dc start /tmp/dc)"   # or point at your own DC
//	go run ./examples/adquickstart
//
// It reads the connection from E365_LDAP_URL, E365_LDAP_USER,
// E365_LDAP_PASSWORD, E365_LDAP_BASE_DN and E365_LDAP_CA_FILE. The users it
// creates carry a prefix (-prefix, random by default) and are deleted when
// it ends.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend/adldap"
	"github.com/essentials365/sdk/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, w io.Writer) error {
	fs := flag.NewFlagSet("adquickstart", flag.ContinueOnError)
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	prefix := fs.String("prefix", "qs"+hex.EncodeToString(b)+"-", "prefix of the user names the demo creates (at most 8 characters)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(*prefix) > 8 {
		return fmt.Errorf("-prefix %q: at most 8 characters, so user names fit in 20", *prefix)
	}
	cfg := adldap.Config{URL: getenv("E365_LDAP_URL"), User: getenv("E365_LDAP_USER"), Password: getenv("E365_LDAP_PASSWORD"),
		BaseDN: getenv("E365_LDAP_BASE_DN"), CAFile: getenv("E365_LDAP_CA_FILE")}
	var missing []string
	for name, v := range map[string]string{"E365_LDAP_URL": cfg.URL, "E365_LDAP_USER": cfg.User, "E365_LDAP_PASSWORD": cfg.Password} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return errors.New("set " + strings.Join(missing, ", ") + " (scripts/samba-dc start DIR prints them for a throwaway Samba DC)")
	}
	dir, err := adldap.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer dir.Close()
	work, err := os.MkdirTemp("", "essentials365-adquickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	info, err := dir.Info(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "domain %s (%s), %d domain controller(s); demo users are prefixed %q\n", info.DNSName, info.NetBIOSName, info.DomainControllers, *prefix)
	return demo.Run(ctx, w, demo.Config{Dir: dir, Prefix: *prefix, WorkDir: work})
}
