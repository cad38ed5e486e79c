// Command agentrss measures the resident memory of the agent daemon around
// its check-ins on a large Mac's inventory (`make bench-agent-rss`). It
// creates a tenant with the server binary, writes receipts and app bundles
// under an inventory root, enrolls a device, then runs the daemon once per
// mode in a child process and samples its VmRSS (Linux /proc) every second:
//
//   - full: the inventory is read whole at every check-in and nothing hands
//     memory back, as the agent did before it kept a Collector;
//   - incremental: the daemon's own inventory receiver.
//
// The first check-in of each run uploads the inventory (its state is
// removed before the run; with -keep-state only before the first run, so
// later runs show a restart on an inventory the server has); the next
// ones find it unchanged.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/appcatalog"
	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/internal/logging"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/inventory/invtest"
	"github.com/mobileatwork/mobileatwork/protocol"
)

const checkinLine = "checked in"

func main() {
	var (
		child    = flag.String("child", "", "run the daemon in this mode (internal)")
		work     = flag.String("work", "", "work directory (internal)")
		server   = flag.String("server-bin", "bin/mobileatwork-server", "server binary")
		receipts = flag.Int("receipts", 5000, "PKG receipts in the inventory")
		apps     = flag.Int("apps", 1000, "app bundles in the inventory")
		checkins = flag.Int("checkins", 3, "check-ins sampled per mode")
		interval = flag.Duration("interval", 20*time.Second, "check-in interval (at least 10s)")
		window   = flag.Duration("window", 15*time.Second, "sampling after each check-in")
		modes    = flag.String("modes", "full,incremental", "modes to run, in order")
		keep     = flag.Bool("keep-state", false, "keep the acknowledged inventory between runs: the first check-in of a run uploads only in the first run")
	)
	flag.Parse()
	var err error
	if *child != "" {
		err = runDaemon(*child, *work, *interval)
	} else {
		err = measure(*server, *receipts, *apps, *checkins, *interval, *window, strings.Split(*modes, ","), *keep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// measure sets the tenant and the device up and samples each mode.
func measure(server string, receipts, apps, checkins int, interval, window time.Duration, modes []string, keep bool) error {
	if interval < agent.MinInterval || window >= interval {
		return fmt.Errorf("--interval %s must be at least %s and longer than --window %s", interval, agent.MinInterval, window)
	}
	work, err := os.MkdirTemp("", "agentrss")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	data := filepath.Join(work, "data")
	if _, err := run(server, "init", "--data", data); err != nil {
		return err
	}
	addrFile := filepath.Join(work, "addr")
	srv := exec.Command(server, "serve", "--data", data, "--listen", "127.0.0.1:0", "--addr-file", addrFile)
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	var addr []byte
	for range 200 {
		if addr, _ = os.ReadFile(addrFile); len(addr) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(addr) == 0 {
		return errors.New("the server did not start")
	}
	out, err := run(server, "token", "create", "--data", data, "--user", "rss@example.com")
	if err != nil {
		return err
	}
	lines := strings.Fields(strings.TrimSpace(out))
	if len(lines) == 0 {
		return errors.New("token create printed no token")
	}
	if err := invtest.WriteFixture(filepath.Join(work, "root"), receipts, apps); err != nil {
		return err
	}
	if _, err := agent.Enroll(context.Background(), agent.EnrollOptions{
		StateDir: filepath.Join(work, "state"), ServerURL: "https://" + strings.TrimSpace(string(addr)),
		Token: lines[len(lines)-1], Facts: agent.DeviceFacts(version.Version),
	}); err != nil {
		return err
	}
	fmt.Printf("agent RSS (VmRSS, MB) on %d receipts + %d apps; check-in every %s, sampled every second\n", receipts, apps, interval)
	for i, mode := range modes {
		if !keep || i == 0 {
			if err := os.Remove(filepath.Join(work, "state", "inventory.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		if err := sampleMode(mode, work, checkins, interval, window, keep && i > 0); err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
	}
	return nil
}

func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", name, args[0], err, out)
	}
	return string(out), nil
}

// sampleMode runs the daemon in mode until it checked in checkins times
// and window passed after the last, and prints what it sampled.
func sampleMode(mode, work string, checkins int, interval, window time.Duration, acknowledged bool) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-child", mode, "-work", work, "-interval", interval.String())
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	start := time.Now()
	var (
		mu    sync.Mutex
		marks []time.Duration // check-ins, since start
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == checkinLine {
				mu.Lock()
				marks = append(marks, time.Since(start))
				mu.Unlock()
			}
		}
	})
	type sample struct {
		at        time.Duration
		rss, anon float64
	}
	var samples []sample
	deadline := time.Duration(checkins+1) * interval * 2
	for tick := time.NewTicker(time.Second); ; <-tick.C {
		rss, anon, err := vmRSS(cmd.Process.Pid)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			wg.Wait()
			return err
		}
		at := time.Since(start)
		samples = append(samples, sample{at, rss, anon})
		mu.Lock()
		done := len(marks) >= checkins && at > marks[checkins-1]+window
		mu.Unlock()
		if done || at > deadline {
			tick.Stop()
			break
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	werr := cmd.Wait()
	wg.Wait()
	if len(marks) < checkins {
		return fmt.Errorf("%d check-ins in %s, want %d (daemon: %v)", len(marks), deadline, checkins, werr)
	}
	fmt.Printf("\n%s\n", mode)
	for i, m := range marks[:checkins] {
		var row []string
		var peak, at10, anon10 float64
		for _, s := range samples {
			if s.at <= m || s.at > m+window {
				continue
			}
			peak = max(peak, s.rss)
			if at10 == 0 && s.at >= m+10*time.Second {
				at10, anon10 = s.rss, s.anon
			}
			row = append(row, strconv.FormatFloat(s.rss, 'f', 1, 64))
		}
		what := "unchanged"
		switch {
		case i == 0 && acknowledged:
			what = "first, server has it"
		case i == 0:
			what = "first, uploads"
		}
		fmt.Printf("  check-in %d (%s): peak %.1f, at +10 s %.1f (anonymous %.1f) | %s\n", i+1, what, peak, at10, anon10, strings.Join(row, " "))
	}
	return nil
}

// vmRSS is the resident set of process pid and its anonymous part (heap,
// stacks: what is not the mapped binary), in MB.
func vmRSS(pid int) (rss, anon float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read VmRSS (Linux only): %w", err)
	}
	found := 0
	for line := range bytes.Lines(b) {
		for name, v := range map[string]*float64{"VmRSS:": &rss, "RssAnon:": &anon} {
			if rest, ok := bytes.CutPrefix(line, []byte(name)); ok {
				kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 64)
				if err != nil {
					return 0, 0, fmt.Errorf("%s %q: %w", name, rest, err)
				}
				*v, found = kb/1024, found+1
			}
		}
	}
	if found != 2 {
		return 0, 0, errors.New("no VmRSS and RssAnon in /proc status")
	}
	return rss, anon, nil
}

// runDaemon is the child: the daemon as `mobileatwork run` wires it, with
// the inventory root of the work directory, printing a line after each
// check-in's receivers ran.
func runDaemon(mode, work string, interval time.Duration) error {
	recent := logging.NewAgentRecent()
	log, sync, err := logging.New(logging.Options{File: filepath.Join(work, "agent.log"), Recent: recent})
	if err != nil {
		return err
	}
	defer sync()
	a, err := agent.New(agent.Options{
		StateDir: filepath.Join(work, "state"), Log: log, Version: version.Version,
		Capabilities: version.Capabilities(), Facts: func() protocol.Facts { return agent.DeviceFacts(version.Version) },
		RecentLog: recent, Interval: interval, InventoryRoot: filepath.Join(work, "root"),
		UISessionDir: filepath.Join(work, "ui"),
	})
	if err != nil {
		return err
	}
	defer a.Close()
	inv := agent.InventoryReceiver(a)
	switch mode {
	case "incremental":
	case "full":
		inv = fullInventory{a}
	default:
		return fmt.Errorf("mode %q: want full or incremental", mode)
	}
	for _, r := range []agent.Receiver{agent.ScriptsReceiver(a), inv, agent.CatalogReceiver(a), agent.OnboardingReceiver(a), marker{}} {
		a.RegisterReceiver(r)
	}
	a.RegisterCatalogPage(appcatalog.New(appcatalog.Options{
		Source: a, Installer: installer.Default(""), StateDir: a.StateDir(), Log: log.Named("catalog"),
	}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return a.Daemon(ctx)
}

// fullInventory reads the whole inventory at every check-in.
type fullInventory struct{ a *agent.Agent }

func (fullInventory) Name() string { return "inventory" }

func (f fullInventory) Receive(ctx context.Context, _ *protocol.CheckinPayload) error {
	_, err := f.a.SendInventory(ctx)
	return err
}

// marker tells the parent that a check-in's receivers ran.
type marker struct{}

func (marker) Name() string { return "marker" }

func (marker) Receive(context.Context, *protocol.CheckinPayload) error {
	fmt.Println(checkinLine)
	return nil
}
