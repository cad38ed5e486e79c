package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// LocalOptions describe a local run: the generator keeps its own tenant
// in the state directory and runs `mobileatwork-server serve` on it as a
// separate process, whose CPU and memory it then reads.
type LocalOptions struct {
	State     string
	Devices   int
	ServerBin string // the mobileatwork-server binary
	LogLevel  string // of the server; "info" logs every request, as shipped
	// ServerArgs are added to the measured server's `serve` command line,
	// e.g. --cpu-profile FILE.
	ServerArgs []string
	Scenario   Scenario
	Keys       int // see EnrollOptions.Keys
	Progress   io.Writer
	Clock      clockwork.Clock
}

// Check validates the options, changing nothing.
func (o LocalOptions) Check() error {
	switch {
	case o.Devices < 1:
		return fmt.Errorf("--devices must be at least 1, got %d", o.Devices)
	case o.Keys < 0:
		return fmt.Errorf("--keys must be 0 (one per device) or more, got %d", o.Keys)
	}
	if err := o.Scenario.check(); err != nil {
		return err
	}
	if fi, err := os.Stat(o.ServerBin); err != nil || fi.IsDir() {
		return fmt.Errorf("no server binary at %q: build it with `make build`, or give --server-bin", o.ServerBin)
	}
	return nil
}

// LocalServer is the server process of a local run.
type LocalServer struct {
	URL   string
	PID   int
	Log   string // its log file
	cmd   *exec.Cmd
	done  chan struct{}
	clock clockwork.Clock
}

// StartLocal prepares the state directory's tenant for the run (creating
// it when new, enrolling the devices it lacks, applying the scenario) and
// starts a fresh server process on it for the measurement; Stop ends it.
func StartLocal(ctx context.Context, o LocalOptions) (*LocalServer, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if err := privateDir(o.State); err != nil {
		return nil, err
	}
	data := filepath.Join(o.State, tenantDir)
	if err := initTenant(ctx, data); err != nil {
		return nil, err
	}
	ids, err := deviceIDs(o.State, o.Devices)
	if err != nil {
		return nil, err
	}
	if missing := countEmpty(ids); missing > 0 {
		if err := o.enroll(ctx, data, missing); err != nil {
			return nil, err
		}
		if ids, err = deviceIDs(o.State, o.Devices); err != nil {
			return nil, err
		}
	}
	if n, err := applyScenario(ctx, data, ids, o.Scenario); err != nil {
		return nil, fmt.Errorf("set up the tenant's configurations: %w", err)
	} else if n > 0 && o.Progress != nil {
		fmt.Fprintf(o.Progress, "mawload: %d configurations added or removed for the scenario\n", n)
	}
	return startServer(ctx, o.Clock, o.ServerBin, data, o.LogLevel, o.ServerArgs...)
}

// enroll enrolls the missing devices against a server started for it.
func (o LocalOptions) enroll(ctx context.Context, data string, missing int) error {
	// A simulated fleet enrolls from one address: no limit on this server.
	srv, err := startServer(ctx, o.Clock, o.ServerBin, data, o.LogLevel, "--enroll-rate=0")
	if err != nil {
		return err
	}
	defer srv.Stop()
	tok, err := createToken(ctx, data, missing)
	if err != nil {
		return err
	}
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "mawload: enrolling %d devices\n", missing)
	}
	_, err = Enroll(ctx, EnrollOptions{State: o.State, Server: srv.URL, Tokens: []string{tok}, Devices: o.Devices, Keys: o.Keys, Progress: o.Progress})
	return err
}

// deviceIDs reads the ids of devices 0 to n-1, "" for those not enrolled.
func deviceIDs(state string, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		var id struct {
			DeviceID string `json:"device_id"`
		}
		err := atomicfile.ReadJSON(filepath.Join(deviceDir(state, i), "identity.json"), &id)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("device %d: %w", i, err)
		}
		ids[i] = id.DeviceID
	}
	return ids, nil
}

func countEmpty(ids []string) int {
	n := 0
	for _, id := range ids {
		if id == "" {
			n++
		}
	}
	return n
}

// startServer runs `serve` on data on a free port of 127.0.0.1 and waits
// until it listens. Its output goes to server.log beside data.
func startServer(ctx context.Context, clock clockwork.Clock, bin, data, level string, extra ...string) (*LocalServer, error) {
	if level == "" {
		level = "info"
	}
	dir := filepath.Dir(data)
	addrFile, logPath := filepath.Join(dir, "server.addr"), filepath.Join(dir, "server.log")
	os.Remove(addrFile)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	args := append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--addr-file", addrFile, "--log-level", level}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &LocalServer{PID: cmd.Process.Pid, Log: logPath, cmd: cmd, done: make(chan struct{}), clock: clock}
	go func() { // owned by s: Stop waits for it
		cmd.Wait()
		close(s.done)
	}()
	deadline := clock.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(b), "\n") {
			s.URL = "https://" + strings.TrimSpace(string(b))
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("the server exited before it listened: %s (log in %s)", lastLine(logPath), logPath)
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-clock.After(20 * time.Millisecond):
		}
		if clock.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("the server did not listen within 30s (log in %s)", logPath)
		}
	}
}

// Stop ends the server with SIGTERM (a graceful shutdown), or SIGKILL
// after 15 seconds, and waits for it.
func (s *LocalServer) Stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-s.clock.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	last := "no output"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			last = t
		}
	}
	return last
}
