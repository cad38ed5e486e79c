package server

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/macho"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/packaging/xar"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// linkTenant is a tenant that keeps its URLs, with its enrollment
// listener's handler on a loopback test server the test controls.
func linkTenant(t *testing.T, agentDir string) (*Server, *httptest.Server) {
	t.Helper()
	s := newTenant(t)
	if _, err := s.SetTenantURLs(t.Context(), []string{"server_url=https://127.0.0.1:8443", "enroll_url=https://enroll.example.com"}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.NewLinkHandler(EnrollOptions{AgentDir: agentDir, Version: "1.4.2"}))
	t.Cleanup(ts.Close)
	return s, ts
}

// pathOf is the path of a link's URL on the listener.
func pathOf(t *testing.T, li LinkInfo) string {
	t.Helper()
	p, ok := strings.CutPrefix(li.URL, "https://enroll.example.com")
	if !ok || !strings.HasPrefix(p, "/e/") {
		t.Fatalf("link URL %q", li.URL)
	}
	return p
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// enrollFileOf reads the enrollment file out of a package's payload.
func enrollFileOf(t *testing.T, pkg []byte) protocol.EnrollFile {
	t.Helper()
	a, err := xar.Open(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	gz, err := a.ReadFile("mobileatwork.pkg/Payload")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for len(b) >= 76 && string(b[:6]) == "070707" { // odc cpio
		nl, _ := strconv.ParseUint(string(b[59:65]), 8, 64)
		size, _ := strconv.ParseUint(string(b[65:76]), 8, 64)
		name, data := string(b[76:76+nl-1]), b[76+nl:76+nl+size]
		if name == "./Library/MobileAtWork/enroll.json" {
			ef, err := protocol.ParseEnrollFile(data)
			if err != nil {
				t.Fatal(err)
			}
			return ef
		}
		b = b[76+nl+size:]
	}
	t.Fatal("no enrollment file in the package")
	return protocol.EnrollFile{}
}

func TestLinkFirstDownloadBuildsAnEnrollingPackage(t *testing.T) {
	s, ts := linkTenant(t, agentDir(t, macho.CpuArm64, macho.CpuAmd64))
	li, err := s.CreateLink(t.Context(), "Ada@example.com", 1, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if ts, _ := s.Tokens(t.Context()); len(ts) != 0 {
		t.Fatalf("a token before the first download: %+v", ts)
	}
	path := pathOf(t, li)
	code, body := get(t, ts.URL+path)
	if code != http.StatusOK || !strings.Contains(body, ">Test<") || !strings.Contains(body, `href="`+path+`/MobileAtWork.pkg"`) || strings.Contains(body, "SHA-256") {
		t.Fatalf("page before download: %d\n%s", code, body)
	}

	code, pkg := get(t, ts.URL+path+"/MobileAtWork.pkg")
	if code != http.StatusOK {
		t.Fatalf("download: %d %s", code, pkg)
	}
	ef := enrollFileOf(t, []byte(pkg))
	if ef.ServerURL != "https://127.0.0.1:8443" || ef.Organization != "Test" {
		t.Errorf("enrollment file %+v", ef)
	}
	tok, err := protocol.ParseEnrollToken(ef.Token)
	if err != nil {
		t.Fatal(err)
	}
	redeemed, err := s.Store.RedeemToken(t.Context(), tok.SecretHash(), s.now())
	if err != nil || redeemed.User != "ada@example.com" {
		t.Fatalf("the package's token: %+v %v, want ada's, redeemable", redeemed, err)
	}

	ls, err := s.Links(t.Context())
	if err != nil || len(ls) != 1 {
		t.Fatal(ls, err)
	}
	if l := ls[0]; l.Downloads != 1 || l.LastDownloadAt.IsZero() || l.State != store.LinkUsed || l.TokenID != redeemed.ID() || len(l.PackageSHA256) != 64 {
		t.Errorf("link after its one download: %+v", l)
	}
	for _, p := range []string{path + "/MobileAtWork.pkg", path} {
		if code, body := get(t, ts.URL+p); code != http.StatusGone || !strings.Contains(body, "used as many times as it allows") || strings.Contains(body, "MobileAtWork.pkg\"") {
			t.Errorf("GET %s after its one use: %d\n%s", p, code, body)
		}
	}
}

func TestLinkServesTheSamePackageWhileItAllows(t *testing.T) {
	s, ts := linkTenant(t, agentDir(t, macho.CpuArm64, macho.CpuAmd64))
	li, err := s.CreateLink(t.Context(), "", 2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	path := pathOf(t, li)
	_, first := get(t, ts.URL+path+"/MobileAtWork.pkg")
	code, body := get(t, ts.URL+path)
	ls, _ := s.Links(t.Context())
	if code != http.StatusOK || !strings.Contains(body, ls[0].PackageSHA256) {
		t.Errorf("page after the first download: %d, want the package's SHA-256 %s\n%s", code, ls[0].PackageSHA256, body)
	}
	if _, second := get(t, ts.URL+path+"/MobileAtWork.pkg"); second != first {
		t.Error("the second download is another package")
	}
	if toks, _ := s.Tokens(t.Context()); len(toks) != 1 || toks[0].UsesLeft != 2 ||
		toks[0].ExpiresAt.Before(li.ExpiresAt.Add(LinkTokenGrace)) || toks[0].ExpiresAt.After(li.ExpiresAt.Add(LinkTokenGrace+time.Minute)) {
		t.Errorf("tokens %+v, want one with the link's two uses, expiring a grace after the link", toks)
	}
}

func TestLinkRefusals(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, s *Server, li LinkInfo) string // returns the path to ask for
		status int
		want   string
	}{
		{"expired", func(t *testing.T, s *Server, li LinkInfo) string {
			s.Now = func() time.Time { return li.ExpiresAt }
			return pathOf(t, li)
		}, http.StatusGone, "no longer valid"},
		{"revoked", func(t *testing.T, s *Server, li LinkInfo) string {
			if _, err := s.RevokeLink(t.Context(), li.ID); err != nil {
				t.Fatal(err)
			}
			return pathOf(t, li)
		}, http.StatusGone, "withdrew this download link"},
		{"unknown", func(t *testing.T, s *Server, li LinkInfo) string {
			p, last := pathOf(t, li), "A"
			if strings.HasSuffix(p, last) {
				last = "B"
			}
			return p[:len(p)-1] + last // a secret of the right form that no link has
		}, http.StatusNotFound, "no download at this address"},
		{"not a secret", func(*testing.T, *Server, LinkInfo) string { return "/e/short" }, http.StatusNotFound, "no download at this address"},
		{"elsewhere", func(*testing.T, *Server, LinkInfo) string { return "/v1/checkin" }, http.StatusNotFound, "no download at this address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := linkTenant(t, agentDir(t, macho.CpuArm64, macho.CpuAmd64))
			li, err := s.CreateLink(t.Context(), "ada@example.com", 1, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			path := tt.change(t, s, li)
			for _, p := range []string{path, path + "/MobileAtWork.pkg"} {
				code, body := get(t, ts.URL+p)
				if code != tt.status || !strings.Contains(body, tt.want) || strings.Contains(body, `id="download"`) {
					t.Errorf("GET %s: %d, want %d saying %q\n%s", p, code, tt.status, tt.want, body)
				}
			}
			if toks, _ := s.Tokens(t.Context()); len(toks) != 0 {
				t.Errorf("a refused link built a package: tokens %+v", toks)
			}
			if ls, _ := s.Links(t.Context()); ls[0].Downloads != 0 {
				t.Errorf("a refused download was counted: %+v", ls[0])
			}
		})
	}
}

func TestLinkConcurrentFirstDownloadsBuildOnce(t *testing.T) {
	s, ts := linkTenant(t, agentDir(t, macho.CpuArm64, macho.CpuAmd64))
	li, err := s.CreateLink(t.Context(), "", 3, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	url := ts.URL + pathOf(t, li) + "/MobileAtWork.pkg"
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		bodies = map[string]int{}
		codes  = map[int]int{}
	)
	for range 8 {
		wg.Go(func() {
			resp, err := http.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			codes[resp.StatusCode]++
			if resp.StatusCode == http.StatusOK {
				bodies[string(b)]++
			}
		})
	}
	wg.Wait()
	if codes[http.StatusOK] != 3 || codes[http.StatusGone] != 5 || len(bodies) != 1 {
		t.Errorf("statuses %v, %d different packages; want 3 of one package and 5 refusals", codes, len(bodies))
	}
	if toks, _ := s.Tokens(t.Context()); len(toks) != 1 {
		t.Errorf("%d tokens made, want one build", len(toks))
	}
}

func TestLinkWithoutAgentDirSaysThePackageIsNotAvailable(t *testing.T) {
	s, ts := linkTenant(t, "")
	li, err := s.CreateLink(t.Context(), "", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{pathOf(t, li), pathOf(t, li) + "/MobileAtWork.pkg"} {
		if code, body := get(t, ts.URL+p); code != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be prepared right now") {
			t.Errorf("GET %s: %d\n%s", p, code, body)
		}
	}
	if ls, _ := s.Links(t.Context()); ls[0].Downloads != 0 || ls[0].State != store.LinkActive {
		t.Errorf("link %+v, want it untouched", ls[0])
	}
}

func TestRevokeLinkRevokesItsPackage(t *testing.T) {
	s, ts := linkTenant(t, agentDir(t, macho.CpuArm64, macho.CpuAmd64))
	li, err := s.CreateLink(t.Context(), "", 2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	get(t, ts.URL+pathOf(t, li)+"/MobileAtWork.pkg")
	got, err := s.RevokeLink(t.Context(), " "+li.ID)
	if err != nil || got.State != store.LinkRevoked {
		t.Fatalf("RevokeLink = %+v %v", got, err)
	}
	if toks, _ := s.Tokens(t.Context()); len(toks) != 1 || toks[0].State != "revoked" {
		t.Errorf("tokens %+v, want the package's revoked", toks)
	}
	if ok, _ := s.Files.Has(got.PackageSHA256); ok {
		t.Error("the revoked link's package is still kept")
	}
	if _, err := s.RevokeLink(t.Context(), "lnk_none"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "link list") {
		t.Errorf("revoke unknown: %v", err)
	}
}

func TestCreateLinkRefuses(t *testing.T) {
	tests := []struct {
		name string
		urls []string
		user string
		uses int
		ttl  time.Duration
		want string
	}{
		{"no enroll_url", []string{"server_url=https://127.0.0.1:8443"}, "", 1, time.Hour, "tenant set enroll_url="},
		{"no server_url", []string{"enroll_url=https://enroll.example.com"}, "", 1, time.Hour, "tenant set server_url="},
		{"zero uses", nil, "", 0, time.Hour, "--uses"},
		{"bad ttl", nil, "", 1, -time.Hour, "--ttl"},
		{"bad user", nil, "ada", 1, time.Hour, "--user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTenant(t)
			urls := tt.urls
			if urls == nil {
				urls = []string{"server_url=https://127.0.0.1:8443", "enroll_url=https://enroll.example.com"}
			}
			if _, err := s.SetTenantURLs(t.Context(), urls); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateLink(t.Context(), tt.user, tt.uses, tt.ttl); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid saying %q", err, tt.want)
			}
			if ls, _ := s.Links(t.Context()); len(ls) != 0 {
				t.Errorf("links made: %+v", ls)
			}
		})
	}
}

func TestSetTenantURLs(t *testing.T) {
	tests := []struct {
		name  string
		pairs []string
		want  string // error; empty: accepted
	}{
		{"both", []string{"server_url=https://localhost:8443/", "enroll_url=https://enroll.example.com:443"}, ""},
		{"none", nil, "at least one KEY=VALUE"},
		{"no equals", []string{"server_url"}, "want KEY=VALUE"},
		{"unknown key", []string{"admin_url=https://x"}, `unknown key "admin_url"`},
		{"twice", []string{"server_url=https://localhost", "server_url=https://127.0.0.1"}, "given twice"},
		{"http server", []string{"server_url=http://localhost"}, "want https://HOST"},
		{"server host not in the certificate", []string{"server_url=https://mdm.example.com"}, "not named by the server's TLS certificate"},
		{"enroll with a path", []string{"enroll_url=https://enroll.example.com/x"}, "want https://HOST"},
		{"enroll without host", []string{"enroll_url=https://:443"}, "want https://HOST"},
		{"one bad, one good", []string{"enroll_url=https://enroll.example.com", "server_url=ftp://x"}, "want https://HOST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTenant(t)
			got, err := s.SetTenantURLs(t.Context(), tt.pairs)
			if tt.want == "" {
				if err != nil || got.ServerURL != "https://localhost:8443" || got.EnrollURL != "https://enroll.example.com:443" {
					t.Fatalf("SetTenantURLs = %+v %v", got, err)
				}
				if got, _ := s.SetTenantURLs(t.Context(), []string{"enroll_url="}); got.EnrollURL != "" || got.ServerURL == "" {
					t.Errorf("forgetting enroll_url: %+v", got)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid saying %q", err, tt.want)
			}
			if kept, _ := s.TenantURLs(t.Context()); kept != (TenantURLs{}) {
				t.Errorf("a refused set kept %+v", kept)
			}
		})
	}
}

func TestPackageDefaultsToTheKeptServerURL(t *testing.T) {
	s := newTenant(t)
	if _, err := s.SetTenantURLs(t.Context(), []string{"server_url=https://localhost:8443"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.BuildPackage(t.Context(), PackageOptions{
		AgentDir: agentDir(t, macho.CpuArm64, macho.CpuAmd64), Out: t.TempDir() + "/x.pkg", Uses: 1, TTL: time.Hour, Version: "1.4.2",
	})
	if err != nil || p.ServerURL != "https://localhost:8443" {
		t.Fatalf("package %+v %v, want the kept server URL", p, err)
	}
}

// With a signing identity, serve signs the packages of download links as
// productsign does: the archive verifies, signed by that identity.
func TestLinkPackageSignedWhenConfigured(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Developer ID Installer: Test (TEAMID1234)"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	s := newTenant(t)
	if _, err := s.SetTenantURLs(t.Context(), []string{"server_url=https://127.0.0.1:8443", "enroll_url=https://enroll.example.com"}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.NewLinkHandler(EnrollOptions{AgentDir: agentDir(t, macho.CpuArm64, macho.CpuAmd64), Version: "1.4.2",
		Signer: &xar.Signer{Key: key, Chain: []*x509.Certificate{leaf}}}))
	t.Cleanup(ts.Close)
	li, err := s.CreateLink(t.Context(), "ada@example.com", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	code, pkg := get(t, ts.URL+pathOf(t, li)+"/MobileAtWork.pkg")
	if code != http.StatusOK {
		t.Fatalf("download: %d %s", code, pkg)
	}
	chain, err := xar.Verify(strings.NewReader(pkg), int64(len(pkg)))
	if err != nil || len(chain) == 0 || !chain[0].Equal(leaf) {
		t.Fatalf("the link's package: signed by %v, %v; want the configured identity", chain, err)
	}
}

// A HEAD of the package, as link checkers and mail scanners send, builds
// nothing and takes no use: the one download stays the user's.
func TestLinkHeadTakesNoUse(t *testing.T) {
	s, ts := linkTenant(t, agentDir(t, macho.CpuArm64, macho.CpuAmd64))
	li, err := s.CreateLink(t.Context(), "ada@example.com", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	url := ts.URL + pathOf(t, li) + "/MobileAtWork.pkg"
	for range 3 {
		resp, err := http.Head(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HEAD: %d, want 200", resp.StatusCode)
		}
	}
	if ls, _ := s.Links(t.Context()); ls[0].Downloads != 0 || ls[0].PackageSHA256 != "" {
		t.Fatalf("after HEADs: %d downloads, package %q; want none built or counted", ls[0].Downloads, ls[0].PackageSHA256)
	}
	if toks, _ := s.Tokens(t.Context()); len(toks) != 0 {
		t.Fatalf("HEADs made tokens: %+v", toks)
	}
	if code, _ := get(t, url); code != http.StatusOK {
		t.Fatalf("the download after the HEADs: %d, want 200", code)
	}
	if code, _ := get(t, url); code != http.StatusGone {
		t.Fatalf("a second download: %d, want 410", code)
	}
}
