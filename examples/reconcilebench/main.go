package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/essentials365/sdk/accounts"
	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/essentials365/backend/graphtenant"
	"github.com/essentials365/sdk/essentials365/backend/memory"
	"github.com/essentials365/sdk/essentials365/backend/pacer"
	"github.com/essentials365/sdk/essentials365/m365emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reconcilebench:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	role  string // "" (the parent), "emulator", "sdk" or "baseline"
	users int
	runs  int
	url   string
	ids   string
}

func parse(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("reconcilebench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.users, "users", 100000, "users in the directory and the tenant")
	fs.IntVar(&o.runs, "runs", 3, "measured runs of each of sdk and baseline (each a new process)")
	fs.StringVar(&o.role, "role", "", "internal: the child's role (emulator, sdk, baseline)")
	fs.StringVar(&o.url, "url", "", "internal: the emulator's Graph base URL")
	fs.StringVar(&o.ids, "ids", "", "internal: the file of online ids, one per user")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.users < 1 || o.runs < 1 {
		return o, errors.New("-users and -runs must be at least 1")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	o, err := parse(args, stdout)
	if err != nil {
		return err
	}
	switch o.role {
	case "":
		return orchestrate(ctx, o, stdout)
	case "emulator":
		return serve(ctx, o, stdin, stdout)
	case "sdk", "baseline":
		res, err := measure(ctx, o)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(res)
	}
	return fmt.Errorf("unknown role %q", o.role)
}

// serve seeds the tenant, writes the online ids to o.ids, prints the URL
// and serves until stdin closes (the parent is gone) or ctx is done.
func serve(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) error {
	mem := memory.NewTenant(&memory.TenantOptions{PageSize: 999})
	if err := mem.AddVerifiedDomain("contoso.com", true); err != nil {
		return err
	}
	f, err := os.Create(o.ids)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range o.users {
		ou, err := mem.CreateUser(ctx, backend.NewOnlineUser{UserPrincipalName: sam(i) + "@contoso.com", DisplayName: "User " + sam(i),
			Password: "Cloud-Pw-2026!x", ImmutableID: userGUID(i).ImmutableID(), Disabled: !enabled(i)})
		if err != nil {
			return err
		}
		fmt.Fprintln(w, ou.ID)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: m365emulator.New(mem, nil), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		_ = srv.Close()
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(stdout, "url http://%s/v1.0\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// result is what a measuring child reports.
type result struct {
	Role string `json:"role"`
	// Seconds of the first and the second pass (for sdk: the first
	// reconcile, then a full one with nothing to change).
	First  float64 `json:"first"`
	Second float64 `json:"second"`
	// PeakRSSKB is VmHWM, 0 when /proc is not there.
	PeakRSSKB int64 `json:"peakRssKB"`
	// BaseRSSKB is VmRSS before the first pass (the program and the
	// directory's ids).
	BaseRSSKB int64 `json:"baseRssKB"`
	Checked   int   `json:"checked"`
}

func loadIDs(path string, n int) ([]backend.GUID, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ids := make([]backend.GUID, 0, n)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		g, err := backend.ParseGUID(sc.Text())
		if err != nil {
			return nil, err
		}
		ids = append(ids, g)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("%s lists %d ids, not %d", path, len(ids), n)
	}
	return ids, sc.Err()
}

func measure(ctx context.Context, o options) (result, error) {
	res := result{Role: o.role}
	ids, err := loadIDs(o.ids, o.users)
	if err != nil {
		return res, err
	}
	dir := &synthDirectory{ids: ids}
	graph, err := graphtenant.New(graphtenant.Config{Credential: graphtenant.StaticToken("emulator"), BaseURL: o.url,
		PageSize: 999, RateLimit: pacer.Config{Disabled: true}})
	if err != nil {
		return res, err
	}
	res.BaseRSSKB = procStatus("VmRSS")
	pass := baselinePass
	if o.role == "sdk" {
		svc, err := accounts.New(dir, graph, nil)
		if err != nil {
			return res, err
		}
		full := false
		pass = func(ctx context.Context, _ *synthDirectory, _ backend.Tenant) (int, error) {
			rep, err := svc.Reconcile(ctx, &accounts.ReconcileOptions{Full: full})
			full = true
			if err != nil {
				return 0, err
			}
			if n := len(rep.Enabled) + len(rep.Disabled) + len(rep.Deleted) + len(rep.Failures); n > 0 {
				return 0, fmt.Errorf("the reconcile changed %d accounts; none should change", n)
			}
			return rep.Examined, nil
		}
	}
	for i, d := range []*float64{&res.First, &res.Second} {
		start := time.Now()
		n, err := pass(ctx, dir, graph)
		if err != nil {
			return res, fmt.Errorf("pass %d: %w", i+1, err)
		}
		*d = time.Since(start).Seconds()
		res.Checked = n
	}
	res.PeakRSSKB = procStatus("VmHWM")
	return res, nil
}

// baselinePass is the floor of a reconcile: one full delta round of the
// tenant into a map of sign-in states by online id, and one pass over the
// directory comparing each mapped user's state with its account's.
func baselinePass(ctx context.Context, dir *synthDirectory, tenant backend.Tenant) (int, error) {
	signIn := map[string]bool{}
	w := ""
	for {
		ch, err := tenant.Changes(ctx, w)
		if err != nil {
			return 0, err
		}
		for _, c := range ch.Changes {
			if c.Type == backend.Upserted {
				signIn[c.User.ID] = c.User.AccountEnabled
			}
		}
		w = ch.Watermark
		if !ch.More {
			break
		}
	}
	checked, w := 0, ""
	for {
		ch, err := dir.Changes(ctx, w)
		if err != nil {
			return 0, err
		}
		for _, c := range ch.Changes {
			m, err := accounts.ParseMapping(c.User.OnlineAccount)
			if err != nil {
				continue
			}
			en, ok := signIn[m.ID]
			if !ok || en != c.User.Enabled {
				return 0, fmt.Errorf("user %s does not match its account", c.User.SAMAccountName)
			}
			checked++
		}
		w = ch.Watermark
		if !ch.More {
			break
		}
	}
	return checked, nil
}

// procStatus reads a "kB" field of /proc/self/status; 0 when absent.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// orchestrate starts the emulator, then the measuring children, sdk and
// baseline interleaved (the order alternates run by run), and prints the
// figures.
func orchestrate(ctx context.Context, o options, stdout io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "reconcilebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	idsFile := filepath.Join(tmp, "ids")
	emu := exec.CommandContext(ctx, self, "-role", "emulator", "-users", strconv.Itoa(o.users), "-ids", idsFile)
	emu.Stderr = os.Stderr
	stdin, err := emu.StdinPipe()
	if err != nil {
		return err
	}
	out, err := emu.StdoutPipe()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeding %d users in the emulator (another process)...\n", o.users)
	if err := emu.Start(); err != nil {
		return err
	}
	defer func() { _ = stdin.Close(); _ = emu.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("the emulator did not start: %w", err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "url ")
	if !ok {
		return fmt.Errorf("the emulator said %q", line)
	}
	var sdk, base []result
	for r := range o.runs {
		roles := []string{"sdk", "baseline"}
		if r%2 == 1 {
			roles = []string{"baseline", "sdk"}
		}
		for _, role := range roles {
			cmd := exec.CommandContext(ctx, self, "-role", role, "-users", strconv.Itoa(o.users), "-url", url, "-ids", idsFile)
			cmd.Stderr = os.Stderr
			b, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("%s child: %w", role, err)
			}
			var res result
			if err := json.Unmarshal(b, &res); err != nil {
				return fmt.Errorf("%s child said %q: %w", role, b, err)
			}
			fmt.Fprintf(stdout, "run %d %-8s first %6.2fs  full %6.2fs  peak RSS %4d MB (%d MB before)  users checked %d\n",
				r+1, role, res.First, res.Second, res.PeakRSSKB/1024, res.BaseRSSKB/1024, res.Checked)
			if role == "sdk" {
				sdk = append(sdk, res)
			} else {
				base = append(base, res)
			}
		}
	}
	report(stdout, o, sdk, base)
	return nil
}

// report prints medians, min–max and the sdk/baseline ratios.
func report(w io.Writer, o options, sdk, base []result) {
	stat := func(rs []result, f func(result) float64) (med, lo, hi float64) {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		med = v[len(v)/2]
		if len(v)%2 == 0 {
			med = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		return med, v[0], v[len(v)-1]
	}
	rss := func(r result) float64 { return float64(r.PeakRSSKB) / 1024 }
	first := func(r result) float64 { return r.First }
	second := func(r result) float64 { return r.Second }
	fmt.Fprintf(w, "\n%d users, %d runs each (median, min-max):\n", o.users, o.runs)
	for _, m := range []struct {
		name, unit string
		f          func(result) float64
	}{{"peak RSS", "MB", rss}, {"first run", "s", first}, {"full run", "s", second}} {
		sm, slo, shi := stat(sdk, m.f)
		bm, blo, bhi := stat(base, m.f)
		ratio := 0.0
		if bm > 0 {
			ratio = sm / bm
		}
		fmt.Fprintf(w, "  %-10s sdk %8.2f %s (%.2f-%.2f)   baseline %8.2f %s (%.2f-%.2f)   ratio %.2fx\n",
			m.name, sm, m.unit, slo, shi, bm, m.unit, blo, bhi, ratio)
	}
	sm, _, shi := stat(sdk, rss)
	verdict := "within"
	if shi > 256 {
		verdict = "OVER"
	}
	fmt.Fprintf(w, "  sdk peak RSS %s the 256 MB goal (median %.0f MB, max %.0f MB)\n", verdict, sm, shi)
}
