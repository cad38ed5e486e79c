package server

import (
	"context"
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
	if len(pairs) == 0 {
		return TenantURLs{}, invalid("give at least one KEY=VALUE: %s=https://HOST[:PORT] or %s=https://HOST[:PORT]", KeyServerURL, KeyEnrollURL)
	}
	kv := map[string]string{}
	for _, p := range pairs {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			return TenantURLs{}, invalid("%q: want KEY=VALUE (an empty VALUE forgets the key)", p)
		}
		if _, dup := kv[k]; dup {
			return TenantURLs{}, invalid("%s given twice", k)
		}
		var err error
		switch k {
		case KeyServerURL:
			if val != "" {
				val, err = s.checkServerURL(KeyServerURL, val)
			}
		case KeyEnrollURL:
			if val != "" {
				val, err = checkEnrollURL(val)
			}
		default:
			keys := []string{KeyEnrollURL, KeyServerURL}
			slices.Sort(keys)
			err = invalid("unknown key %q: the keys are %s", k, strings.Join(keys, ", "))
		}
		if err != nil {
			return TenantURLs{}, err
		}
		kv[k] = val
	}
	before, err := s.TenantURLs(ctx)
	if err != nil {
		return TenantURLs{}, err
	}
	if err := s.Store.SetTenantValues(ctx, kv); err != nil {
		return TenantURLs{}, err
	}
	after, err := s.TenantURLs(ctx)
	if err != nil {
		return TenantURLs{}, err
	}
	summary := changes(change(KeyServerURL, before.ServerURL, after.ServerURL), change(KeyEnrollURL, before.EnrollURL, after.EnrollURL))
	return after, s.audit(ctx, "tenant.set", "tenant", orNoChange(summary))
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
