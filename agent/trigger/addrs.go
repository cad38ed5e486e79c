package trigger

import (
	"net"
	"slices"
)

// InterfaceAddrs lists the machine's network addresses but loopback ones,
// sorted, as a network change compares them.
func InterfaceAddrs() ([]string, error) {
	as, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(as))
	for _, a := range as {
		if ip, _, err := net.ParseCIDR(a.String()); err == nil && ip.IsLoopback() {
			continue
		}
		out = append(out, a.String())
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
