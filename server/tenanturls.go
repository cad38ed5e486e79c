package server

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// The tenant's public URLs, kept in the store as tenant values.
const (
	// KeyServerURL is the device API's address as the Macs reach it: the
	// server URL of every enrolling package unless `package` names another.
	KeyServerURL = "server_url"
	// KeyEnrollURL is the public enrollment listener's address: download
	// links are KeyEnrollURL + "/e/" + secret.
	KeyEnrollURL = "enroll_url"
)

// TenantURLs are the public addresses the tenant keeps; empty when unset.
type TenantURLs struct {
	ServerURL string
	EnrollURL string
}

// TenantURLs returns the public URLs kept.
func (s *Server) TenantURLs(ctx context.Context) (TenantURLs, error) {
	kv, err := s.Store.TenantValues(ctx)
	if err != nil {
		return TenantURLs{}, err
	}
	return TenantURLs{ServerURL: kv[KeyServerURL], EnrollURL: kv[KeyEnrollURL]}, nil
}

// SetTenantURLs keeps the KEY=VALUE pairs given, all or nothing; an empty
// VALUE forgets the key. Every value is checked first.
func (s *Server) SetTenantURLs(ctx context.Context, pairs []string) (TenantURLs, error) {
	kv, err := TenantURLPairs(pairs)
	if err != nil {
		return TenantURLs{}, err
	}
	return s.UpdateTenantURLs(ctx, kv)
}

// TenantURLPairs reads the KEY=VALUE words of `tenant set`, the keys
// known and each given once; the values are checked when kept.
func TenantURLPairs(pairs []string) (map[string]string, error) {
	kv := map[string]string{}
	for _, p := range pairs {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			return nil, invalid("%q: want KEY=VALUE (an empty VALUE forgets the key)", p)
		}
		if _, dup := kv[k]; dup {
			return nil, invalid("%s given twice", k)
		}
		if k != KeyServerURL && k != KeyEnrollURL {
			return nil, unknownTenantKey(k)
		}
		kv[k] = val
	}
	return kv, nil
}

// UpdateTenantURLs keeps the values of kv (by key, as TenantURLPairs
// reads them), all or nothing; an empty value forgets the key.
func (s *Server) UpdateTenantURLs(ctx context.Context, kv map[string]string) (TenantURLs, error) {
	if len(kv) == 0 {
		return TenantURLs{}, invalid("give at least one KEY=VALUE: %s=https://HOST[:PORT] or %s=https://HOST[:PORT]", KeyServerURL, KeyEnrollURL)
	}
	checked := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		val := kv[k]
		var err error
		switch {
		case k != KeyServerURL && k != KeyEnrollURL:
			err = unknownTenantKey(k)
		case val == "":
		case k == KeyServerURL:
			val, err = s.checkServerURL(KeyServerURL, val)
		default:
			val, err = checkEnrollURL(val)
		}
		if err != nil {
			return TenantURLs{}, err
		}
		checked[k] = val
	}
	before, err := s.TenantURLs(ctx)
	if err != nil {
		return TenantURLs{}, err
	}
	if err := s.Store.SetTenantValues(ctx, checked); err != nil {
		return TenantURLs{}, err
	}
	after, err := s.TenantURLs(ctx)
	if err != nil {
		return TenantURLs{}, err
	}
	summary := changes(change(KeyServerURL, before.ServerURL, after.ServerURL), change(KeyEnrollURL, before.EnrollURL, after.EnrollURL))
	return after, s.audit(ctx, "tenant.set", "tenant", orNoChange(summary))
}

func unknownTenantKey(k string) error {
	keys := []string{KeyEnrollURL, KeyServerURL}
	slices.Sort(keys)
	return invalid("unknown key %q: the keys are %s", k, strings.Join(keys, ", "))
}

// checkEnrollURL checks the public enrollment listener's address: https
// and a host, nothing after it. Its certificate may be publicly trusted
// (serve --enroll-cert), so no check against the tenant's.
func checkEnrollURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return "", invalid("%s %q: want https://HOST[:PORT]", KeyEnrollURL, raw)
	}
	return "https://" + u.Host, nil
}
