// Package loadgen drives a tenant server with many simulated agents: it
// enrolls them once (identities cached in a state directory), then sends
// signed mutual-TLS check-ins through the agent's own client, in a mix of
// quiet check-ins, due scripts with their results and inventory uploads,
// and measures throughput, latency, errors and the server's CPU and memory.
package loadgen

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// devicesDir holds one agent state directory per simulated device, named by
// its index, so device i is the same device in every run.
const devicesDir = "devices"

func deviceDir(state string, i int) string {
	return filepath.Join(state, devicesDir, fmt.Sprintf("%06d", i))
}

// deviceFacts are what simulated device i reports: a plausible Mac whose
// serial number and host name say which device it is.
func deviceFacts(i int) protocol.Facts {
	return protocol.Facts{
		SerialNumber: fmt.Sprintf("MAWLOAD%06d", i), Model: "Mac15,3", OSVersion: "15.5", OSBuild: "24F74",
		Hostname: fmt.Sprintf("load-%06d", i), AgentVersion: version.Version, TimeZone: "Europe/Zurich",
	}
}

// EnrollOptions say which devices to enroll and how.
type EnrollOptions struct {
	State   string   // state directory
	Server  string   // https://HOST:PORT of the server
	Tokens  []string // device i uses Tokens[i%len(Tokens)]
	Devices int
	// Keys is how many distinct device keys the fleet shares, in turn: an
	// RSA key takes a quarter second to make, and the server's work does
	// not depend on keys being distinct. 0 gives each device its own.
	Keys int
	// CA, when set, is the tenant CA (DER) the tokens must pin.
	CA       []byte
	Workers  int
	Progress io.Writer // a line per thousand devices; nil for none
}

func (o EnrollOptions) check() (pin [32]byte, err error) {
	switch {
	case o.State == "":
		return pin, errors.New("--state is required: the directory that keeps the devices' identities")
	case o.Devices < 1:
		return pin, fmt.Errorf("--devices must be at least 1, got %d", o.Devices)
	case o.Keys < 0:
		return pin, fmt.Errorf("--keys must be 0 (one per device) or more, got %d", o.Keys)
	case len(o.Tokens) == 0:
		return pin, errors.New("no enrollment token: give a file of tokens, one per line")
	}
	for i, t := range o.Tokens {
		tok, err := protocol.ParseEnrollToken(t)
		if err != nil {
			return pin, fmt.Errorf("token %d: %w", i+1, err)
		}
		if i > 0 && tok.CAPin != pin {
			return pin, fmt.Errorf("token %d pins another tenant CA than token 1", i+1)
		}
		pin = tok.CAPin
	}
	if o.CA != nil && sha256.Sum256(o.CA) != pin {
		return pin, errors.New("the tokens do not pin the CA given with --ca: they were made by another tenant")
	}
	return pin, nil
}

// Enroll makes devices 0 to Devices-1 of the state directory enrolled:
// those with an identity are kept, the others enroll through the agent's
// enrollment. It returns how many it enrolled now. It refuses, before
// enrolling any, a state directory whose devices belong to another tenant.
func Enroll(ctx context.Context, o EnrollOptions) (int, error) {
	pin, err := o.check()
	if err != nil {
		return 0, err
	}
	existing, err := enrolled(o.State, o.Devices)
	if err != nil {
		return 0, err
	}
	for i, id := range existing {
		if id != nil && sha256.Sum256(id.CACert) != pin {
			return 0, fmt.Errorf("device %d in %s belongs to another tenant than the tokens: use another --state", i, o.State)
		}
	}
	if err := privateDir(o.State); err != nil {
		return 0, err
	}
	keys := o.Keys
	if keys == 0 || keys > o.Devices {
		keys = o.Devices
	}
	// The first `keys` devices make the keys the others share.
	pool := make([]*rsa.PrivateKey, keys)
	var made atomic.Int64
	one := func(ctx context.Context, i int) error {
		if existing[i] != nil {
			if i < keys {
				pool[i] = existing[i].Key()
			}
			return nil
		}
		var key *rsa.PrivateKey
		if i >= keys {
			key = pool[i%keys]
		}
		id, err := agent.Enroll(ctx, agent.EnrollOptions{
			StateDir: deviceDir(o.State, i), ServerURL: o.Server, Token: o.Tokens[i%len(o.Tokens)],
			Facts: deviceFacts(i), Capabilities: version.Capabilities(), Key: key,
		})
		if err != nil {
			return fmt.Errorf("device %d: %w", i, err)
		}
		if i < keys {
			pool[i] = id.Key()
		}
		if n := made.Add(1); o.Progress != nil && n%1000 == 0 {
			fmt.Fprintf(o.Progress, "mawload: %d devices enrolled\n", n)
		}
		return nil
	}
	if err := forEach(ctx, 0, keys, o.Workers, one); err != nil {
		return int(made.Load()), err
	}
	err = forEach(ctx, keys, o.Devices, o.Workers, one)
	return int(made.Load()), err
}

// enrolled loads the identities of devices 0 to n-1, nil for those not
// enrolled.
func enrolled(state string, n int) ([]*agent.Identity, error) {
	ids := make([]*agent.Identity, n)
	err := forEach(context.Background(), 0, n, 0, func(_ context.Context, i int) error {
		dir := deviceDir(state, i)
		if _, err := os.Stat(filepath.Join(dir, "identity.json")); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		id, err := agent.LoadIdentity(dir)
		if err != nil {
			return fmt.Errorf("device %d: %w", i, err)
		}
		ids[i] = id
		return nil
	})
	return ids, err
}

// privateDir makes the state directory and its devices directory, 0700:
// device keys live below. An existing state directory others can read is
// refused rather than changed.
func privateDir(state string) error {
	if fi, err := os.Stat(state); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("state directory %s is open to other users (%s): use a new directory, or chmod 700 it", state, fi.Mode().Perm())
	}
	return os.MkdirAll(filepath.Join(state, devicesDir), 0o700)
}

// forEach calls fn for i in [from, to) on workers goroutines (0: 8) and
// returns the first error; after one, no new call starts.
func forEach(ctx context.Context, from, to, workers int, fn func(context.Context, int) error) error {
	if workers <= 0 {
		workers = 8
	}
	g := routines.New(ctx)
	defer g.Close()
	var next atomic.Int64
	next.Store(int64(from))
	var once sync.Once
	var first error
	for range min(workers, max(to-from, 0)) {
		g.Go(func(ctx context.Context) {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; next.Store(int64(to)) })
					return
				}
			}
		})
	}
	g.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}
