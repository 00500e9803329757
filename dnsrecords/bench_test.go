package dnsrecords

import (
	"io"
	"testing"
)

func BenchmarkGenerate(b *testing.B) {
	d, err := ParseDomain("contoso.com", PolicyModern)
	if err != nil {
		b.Fatal(err)
	}
	opts := contosoOptions()
	opts.ExistingSPF = []string{"MS=ms12345678", "v=spf1 include:_spf.google.com ~all"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(d, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	set := mustSet(b, "contoso.com", contosoOptions())
	for _, f := range Formats() {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := set.Render(io.Discard, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchmarkCheck(b *testing.B, plan planner) {
	srv := startServer(b, "127.0.0.1", 0, "correct.zone")
	set := mustSet(b, "contoso.com", contosoOptions())
	opts := &CheckOptions{Server: srv.Addr}
	queries := 0
	b.ReportAllocs()
	for b.Loop() {
		rep, err := check(b.Context(), set, opts, plan)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK() {
			b.Fatalf("check failed: %+v", rep.Verdicts)
		}
		queries += rep.Queries
	}
	b.ReportMetric(float64(queries)/float64(b.N), "queries/op")
}

// BenchmarkCheck checks the full contoso.com set (14 records) against the
// local server with the grouped plan Check uses.
func BenchmarkCheck(b *testing.B) { benchmarkCheck(b, planGrouped) }

// BenchmarkCheckNaive is the baseline: one query per expected record and per
// conflict looked for.
func BenchmarkCheckNaive(b *testing.B) { benchmarkCheck(b, planNaive) }
