package m365emulator_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// An emulator over a memory tenant, read with plain net/http.
func ExampleNew() {
	tenant := memory.NewTenant(&memory.TenantOptions{DisplayName: "Contoso"})
	srv := httptest.NewServer(m365emulator.New(tenant, nil))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/v1.0/domains")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Value []struct {
			ID         string `json:"id"`
			IsInitial  bool   `json:"isInitial"`
			IsVerified bool   `json:"isVerified"`
		} `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		log.Fatal(err)
	}
	for _, d := range page.Value {
		fmt.Println(resp.StatusCode, d.ID, "initial:", d.IsInitial, "verified:", d.IsVerified)
	}
	// Output:
	// 200 contoso.onmicrosoft.com initial: true verified: true
}

// Scripted faults make the next matching requests fail, here with a 503
// that a client is expected to retry.
func ExampleServer_Script() {
	emu := m365emulator.New(memory.NewTenant(nil), nil)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	emu.Script(m365emulator.ScriptedFault{Method: "GET", PathPrefix: "/organization", Kind: m365emulator.FaultUnavailable})

	for range 2 {
		resp, err := http.Get(srv.URL + "/v1.0/organization")
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Printf("%d Retry-After=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	fmt.Println("503s sent:", emu.Stats().Unavailable)
	// Output:
	// 503 Retry-After="1"
	// 200 Retry-After=""
	// 503s sent: 1
}

// A write quota shrunk for the example: the third write in the window is
// throttled.
func ExampleQuota() {
	tenant := memory.NewTenant(nil)
	emu := m365emulator.New(tenant, &m365emulator.Options{
		Throttling:     &m365emulator.Quota{Writes: 2},
		ZeroRetryAfter: true,
	})
	srv := httptest.NewServer(emu)
	defer srv.Close()

	for range 3 {
		req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/v1.0/users/nobody@contoso.onmicrosoft.com",
			strings.NewReader(`{"usageLocation":"US"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Printf("%d %q\n", resp.StatusCode, resp.Header.Get("x-ms-throttle-information"))
	}
	// Output:
	// 404 ""
	// 404 ""
	// 429 "WriteLimitExceeded"
}
