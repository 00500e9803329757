package memory_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
)

func ExampleNewDirectory() {
	ctx := context.Background()
	d := memory.NewDirectory(&memory.DirectoryOptions{DNSName: "fabrikam.local"})

	info, err := d.Info(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.DNSName, info.NetBIOSName, info.BaseDN)
	fmt.Println("domain controllers:", info.DomainControllers, "server is a DC:", info.ServerIsDomainController)
	// Output:
	// fabrikam.local FABRIKAM DC=fabrikam,DC=local
	// domain controllers: 1 server is a DC: true
}

func ExampleDirectory_CreateUser() {
	ctx := context.Background()
	d := memory.NewDirectory(nil)

	u, err := d.CreateUser(ctx, backend.NewDirectoryUser{
		SAMAccountName:     "zobrien",
		UserPrincipalName:  "zoe.obrien@contoso.local",
		DisplayName:        "O'Brien, Zoë (Sales)",
		Password:           "Tr0ub4dor&3",
		MustChangePassword: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.DN)
	fmt.Println("enabled:", u.Enabled, "must change password:", u.MustChangePassword)

	// Lookups ignore case, as AD does.
	same, err := d.GetUserByUPN(ctx, "Zoe.OBrien@CONTOSO.local")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same user:", same.ID == u.ID)

	// A taken sAMAccountName is refused.
	_, err = d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: "ZOBRIEN", Password: "Tr0ub4dor&3"})
	fmt.Println(errors.Is(err, backend.ErrAlreadyExists))
	// Output:
	// CN=O'Brien\, Zoë (Sales),CN=Users,DC=contoso,DC=local
	// enabled: true must change password: true
	// same user: true
	// true
}

// The default password policy of AD is enforced; the error names the rule.
func ExampleDirectory_CreateUser_passwordPolicy() {
	ctx := context.Background()
	d := memory.NewDirectory(nil)
	for _, pw := range []string{"Ab1!", "alllowercase", "Jsmith#2024", "Tr0ub4dor&3"} {
		_, err := d.CreateUser(ctx, backend.NewDirectoryUser{
			SAMAccountName: "jsmith" + fmt.Sprint(len(pw)),
			DisplayName:    "John Smith " + fmt.Sprint(len(pw)),
			Password:       pw,
		})
		if err != nil {
			fmt.Printf("%-14s rejected: %s\n", pw, string(backend.ReasonOf(err)))
			continue
		}
		fmt.Printf("%-14s accepted\n", pw)
	}
	// Output:
	// Ab1!           rejected: password-length
	// alllowercase   rejected: password-complexity
	// Jsmith#2024    rejected: password-contains-name
	// Tr0ub4dor&3    accepted
}

func ExampleDirectory_Authenticate() {
	ctx := context.Background()
	d := memory.NewDirectory(nil)
	u, err := d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: "ann", Password: "Tr0ub4dor&3"})
	if err != nil {
		log.Fatal(err)
	}
	try := func() {
		if err := d.Authenticate(ctx, `CONTOSO\ann`, "Tr0ub4dor&3"); err != nil {
			fmt.Println("refused:", string(backend.ReasonOf(err)))
			return
		}
		fmt.Println("logged on")
	}
	try()
	if err := d.SetEnabled(ctx, u.ID, false); err != nil {
		log.Fatal(err)
	}
	try()
	if err := d.SetEnabled(ctx, u.ID, true); err != nil {
		log.Fatal(err)
	}
	if err := d.SetMustChangePassword(ctx, u.ID, true); err != nil {
		log.Fatal(err)
	}
	try()
	err = d.Authenticate(ctx, "ann", "wrong")
	fmt.Println("wrong password:", string(backend.ReasonOf(err)))
	// Output:
	// logged on
	// refused: account-disabled
	// refused: password-must-change
	// wrong password: invalid-credentials
}

func ExampleDirectory_Changes() {
	ctx := context.Background()
	d := memory.NewDirectory(nil)
	create := func(sam string) backend.GUID {
		u, err := d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: sam, Password: "Tr0ub4dor&3"})
		if err != nil {
			log.Fatal(err)
		}
		return u.ID
	}
	ann, bob := create("ann"), create("bob")

	// A full round: every user, and a watermark for next time.
	first, err := d.Changes(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("full round:", len(first.Changes), "users")

	if err := d.SetEnabled(ctx, ann, false); err != nil {
		log.Fatal(err)
	}
	if err := d.DeleteUser(ctx, bob); err != nil {
		log.Fatal(err)
	}
	create("cat")

	next, err := d.Changes(ctx, first.Watermark)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range next.Changes {
		fmt.Println(c.Type, c.User.SAMAccountName, "enabled:", c.User.Enabled)
	}
	// Output:
	// full round: 2 users
	// upserted ann enabled: false
	// deleted bob enabled: false
	// upserted cat enabled: true
}

// Faults make a test check how a program copes with a failing domain
// controller.
func ExampleDirectory_FailNext() {
	ctx := context.Background()
	d := memory.NewDirectory(nil)
	d.FailNext("CreateUser", 1, backend.Errorf(backend.Unavailable, "directory: create user", "ann", "the server is busy"))

	nu := backend.NewDirectoryUser{SAMAccountName: "ann", Password: "Tr0ub4dor&3"}
	_, err := d.CreateUser(ctx, nu)
	fmt.Println("retryable:", backend.Retryable(err))
	_, err = d.CreateUser(ctx, nu)
	fmt.Println("second try:", err)

	for _, c := range d.Calls() {
		fmt.Println(c.Op, c.Key, c.Err != nil)
	}
	// Output:
	// retryable: true
	// second try: <nil>
	// CreateUser ann true
	// CreateUser ann false
}

// An injectable clock makes PasswordLastSet predictable.
func ExampleDirectoryOptions_now() {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := memory.NewDirectory(&memory.DirectoryOptions{Now: func() time.Time { return now }})
	u, err := d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: "ann", Password: "Tr0ub4dor&3"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.PasswordLastSet)

	now = now.Add(48 * time.Hour)
	if err := d.ResetPassword(ctx, u.ID, "N3w-Passw0rd", false); err != nil {
		log.Fatal(err)
	}
	u, err = d.GetUser(ctx, u.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.PasswordLastSet)
	// Output:
	// 2026-01-02 03:04:05 +0000 UTC
	// 2026-01-04 03:04:05 +0000 UTC
}
