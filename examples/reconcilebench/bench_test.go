package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

// BenchmarkIncrementalReconcileGraphPaired measures an incremental
// reconcile of 5 sign-in changes among 10,000 mapped users through the
// Graph driver against the emulator with 5 ms of latency per request, paired
// with the hand loop a vendor would write over the same driver (the
// directory's changes, a GET of each changed user's online account by its
// mapped id, the PATCH). Each side has its own identical company and
// emulator; iterations alternate the order and toggle the same 5 users
// (off the clock). It reports the medians, their ratio and the Graph
// requests of each side.
func BenchmarkIncrementalReconcileGraphPaired(b *testing.B) {
	const n = 10000
	ctx := context.Background()
	opts := &m365emulator.Options{ReadLatency: 5 * time.Millisecond, WriteLatency: 5 * time.Millisecond}
	dir1, mem1, users1, _ := seedMapped(b, n)
	dir2, mem2, users2, _ := seedMapped(b, n)
	emu1, emu2 := m365emulator.New(mem1, opts), m365emulator.New(mem2, opts)
	srv1, srv2 := httptest.NewServer(emu1), httptest.NewServer(emu2)
	defer srv1.Close()
	defer srv2.Close()
	svc, err := accounts.New(dir1, newGraph(b, srv1.URL), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Reconcile(ctx, nil); err != nil {
		b.Fatal(err)
	}
	graph2 := newGraph(b, srv2.URL)
	watermark := ""
	hand := func() (int, error) {
		writes := 0
		for {
			ch, err := dir2.Changes(ctx, watermark)
			if err != nil {
				return 0, err
			}
			for _, c := range ch.Changes {
				m, err := accounts.ParseMapping(c.User.OnlineAccount)
				if err != nil || m.ID == "" || c.Type != backend.Upserted || watermark == "" {
					continue
				}
				ou, err := graph2.GetUser(ctx, m.ID)
				if err != nil {
					return 0, err
				}
				if ou.ImmutableID != c.User.ID.ImmutableID() || ou.AccountEnabled == c.User.Enabled {
					continue
				}
				want := c.User.Enabled
				if err := graph2.UpdateUser(ctx, ou.ID, backend.OnlineUserUpdate{AccountEnabled: &want}); err != nil {
					return 0, err
				}
				writes++
			}
			watermark = ch.Watermark
			if !ch.More {
				return writes, nil
			}
		}
	}
	if _, err := hand(); err != nil { // the hand loop's first pass: its watermark
		b.Fatal(err)
	}
	var sdkT, handT []time.Duration
	var sdkReq, handReq int64
	round := 0
	for b.Loop() {
		b.StopTimer()
		enabled := round%2 == 1
		for _, i := range []int{1, n / 4, n / 2, 3 * n / 4, n - 1} {
			toggle(b, dir1, users1[i].ID, enabled)
			toggle(b, dir2, users2[i].ID, enabled)
		}
		emu1.ResetStats()
		emu2.ResetStats()
		b.StartTimer()
		sdk := func() {
			start := time.Now()
			rep, err := svc.Reconcile(ctx, nil)
			if err != nil || len(rep.Enabled)+len(rep.Disabled) != 5 {
				b.Fatalf("sdk: %v %+v", err, rep)
			}
			sdkT = append(sdkT, time.Since(start))
		}
		base := func() {
			start := time.Now()
			if w, err := hand(); err != nil || w != 5 {
				b.Fatalf("hand loop: %d writes: %v", w, err)
			}
			handT = append(handT, time.Since(start))
		}
		if round%2 == 0 {
			sdk()
			base()
		} else {
			base()
			sdk()
		}
		sdkReq += emu1.Stats().Requests
		handReq += emu2.Stats().Requests
		round++
	}
	med := func(v []time.Duration) float64 {
		slices.Sort(v)
		return float64(v[len(v)/2]) / float64(time.Millisecond)
	}
	ms, mh := med(sdkT), med(handT)
	b.ReportMetric(ms, "sdk-ms")
	b.ReportMetric(mh, "baseline-ms")
	b.ReportMetric(ms/mh, "ratio")
	b.ReportMetric(float64(sdkReq)/float64(round), "sdk-requests")
	b.ReportMetric(float64(handReq)/float64(round), "baseline-requests")
}

func toggle(b *testing.B, dir *memory.Directory, id backend.GUID, enabled bool) {
	if err := dir.SetEnabled(context.Background(), id, enabled); err != nil {
		b.Fatal(fmt.Errorf("toggle: %w", err))
	}
}
