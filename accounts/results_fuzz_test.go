package accounts_test

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
)

// FuzzResultsFile writes a failed item with hostile values (formulas,
// quotes, line breaks, separators) to the results files: the JSON decodes
// back to the same values, the CSV has exactly one row per item with the
// same values, and no CSV cell starts like a spreadsheet formula.
func FuzzResultsFile(f *testing.F) {
	f.Add("ann", "ann@contoso.com", "accounts: create user (\"ann\"): bad")
	f.Add("-ann", "=HYPERLINK(\"http://x\",\"click\")@contoso.com", "@SUM(1+1)*cmd|' /C calc'!A0")
	f.Add("a,b", "x\"y\"@contoso.com", "line1\nline2\r\n\"quoted\",;")
	f.Add("+1", "\tx", "\rx")
	f.Fuzz(func(t *testing.T, user, onlineID, msg string) {
		if !utf8.ValidString(user) || !utf8.ValidString(onlineID) || !utf8.ValidString(msg) {
			t.Skip() // JSON carries text; a name that is not UTF-8 is refused before any item exists
		}
		it := &accounts.ItemResult{User: user, OnlineID: onlineID, Status: accounts.StatusFailed,
			Kind: backend.InvalidArgument.String(), Reason: accounts.ReasonOnlineIDCharacters, Message: msg, Action: "fix it"}
		r := &accounts.Result{Operation: accounts.OperationBulkCreate, Started: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
			Failed: 1, Items: []*accounts.ItemResult{it}}
		files, err := r.WriteFiles(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(files[1])
		if err != nil {
			t.Fatal(err)
		}
		var doc accounts.ResultsFile
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("the JSON file does not decode: %v", err)
		}
		if doc.Version != accounts.ResultsFileVersion || len(doc.Failed) != 1 || doc.Failed[0].User != user ||
			doc.Failed[0].OnlineID != onlineID || doc.Failed[0].Message != msg {
			t.Fatalf("the JSON file gives %+v", doc)
		}
		fh, err := os.Open(files[0])
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		rows, err := csv.NewReader(fh).ReadAll()
		if err != nil || len(rows) != 2 || len(rows[1]) != 7 {
			t.Fatalf("the CSV file has %d rows (%v), want a header and one item", len(rows), err)
		}
		for i, want := range []string{user, onlineID, msg} {
			cell := rows[1][[]int{0, 1, 5}[i]]
			if strings.ContainsAny(cell[:min(1, len(cell))], "=+-@\t\r") {
				t.Fatalf("CSV cell %q starts like a formula", cell)
			}
			// The csv reader turns \r\n inside a quoted field into \n.
			norm := strings.ReplaceAll(want, "\r\n", "\n")
			if cell != norm && cell != "'"+norm && !strings.Contains(want, "\r") {
				t.Fatalf("CSV cell %q, want %q", cell, want)
			}
		}
	})
}
