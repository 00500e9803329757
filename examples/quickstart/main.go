// Command quickstart runs the whole life of a small company's accounts
// against the in-memory Active Directory and Microsoft 365 backends, with
// no configuration, and prints what happens at each step:
//
//	go run ./examples/quickstart
//
// The same calls work against a real domain controller: see
// examples/adquickstart.
package main

import (
	"context"
	"io"
	"log"
	"os"

	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/internal/demo"
)

func main() {
	dir, err := os.MkdirTemp("", "essentials365-quickstart-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), os.Stdout, dir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, workDir string) error {
	dir := memory.NewDirectory(&memory.DirectoryOptions{DNSName: "contoso.local"})
	return demo.Run(ctx, w, demo.Config{Dir: dir, WorkDir: workDir})
}
