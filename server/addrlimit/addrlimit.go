// Package addrlimit limits attempts per source address: a token bucket for
// each address, driven by the times the caller gives (so tests need no
// sleeping), in bounded memory however many addresses come.
package addrlimit

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter holds the buckets. The zero value is not usable: see New.
type Limiter struct {
	every rate.Limit
	burst int
	max   int

	mu        sync.Mutex
	buckets   map[netip.Prefix]*rate.Limiter
	overflow  *rate.Limiter // shared by the addresses that find the table full
	lastSweep time.Time
}

// sweepEvery is how often a full table is swept of idle buckets at most,
// so a flood of new addresses costs one sweep a second, not one each.
const sweepEvery = time.Second

// New allows each address burst attempts at once and perMinute more a
// minute, keeping at most max addresses; beyond that, the addresses that
// find no room share one bucket, which bounds them all together.
func New(perMinute float64, burst, max int) *Limiter {
	every := rate.Limit(perMinute / 60)
	return &Limiter{
		every: every, burst: burst, max: max,
		buckets:  map[netip.Prefix]*rate.Limiter{},
		overflow: rate.NewLimiter(every, burst),
	}
}

// Allow takes one attempt of the client at remoteAddr (host:port, as
// http.Request.RemoteAddr) at now. When refused, wait is how long until the
// next one is allowed.
func (l *Limiter) Allow(remoteAddr string, now time.Time) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key(remoteAddr), now)
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Len is how many addresses have a bucket of their own.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (l *Limiter) bucket(k netip.Prefix, now time.Time) *rate.Limiter {
	if b, ok := l.buckets[k]; ok {
		return b
	}
	if len(l.buckets) >= l.max && now.Sub(l.lastSweep) >= sweepEvery {
		l.lastSweep = now
		// A full bucket remembers nothing: dropping it changes no answer.
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
	}
	if len(l.buckets) >= l.max {
		return l.overflow
	}
	b := rate.NewLimiter(l.every, l.burst)
	l.buckets[k] = b
	return b
}

// key is the address's IPv4 address, or its IPv6 /64: a host holds a
// whole /64 and could take a new address for every attempt.
func key(remoteAddr string) netip.Prefix {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{} // unparsable addresses share one bucket
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.WithZone("").Prefix(bits)
	return p
}
