package server

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/pki"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Handler serves the device API. Enrollment needs only server TLS; every
// other route needs a device certificate issued by the tenant CA.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+protocol.PathEnroll, s.handleEnroll)
	mux.HandleFunc("POST "+protocol.PathCheckin, s.device(s.handleCheckin))
	mux.HandleFunc("GET "+protocol.PathBlob+"{config}/{version}", s.device(s.handleBlob))
	mux.HandleFunc("POST "+protocol.PathResults, s.device(s.handleResults))
	mux.HandleFunc("POST "+protocol.PathInventory, s.device(s.handleInventory))
	mux.HandleFunc("POST "+protocol.PathLeave, s.device(s.handleLeave))
	mux.HandleFunc("POST "+protocol.PathOnboarding, s.device(s.handleOnboarding))
	mux.HandleFunc(appAssetRoute, s.device(s.handleAppAsset))
	mux.HandleFunc("POST "+protocol.PathRunStarted, s.device(s.handleRunStarted))
	mux.HandleFunc("POST "+protocol.PathRenew, s.device(s.handleRenew))
	// Held wake requests are idle, not work: they have their own cap and
	// do not take the slots of MaxInFlight.
	top := http.NewServeMux()
	top.Handle("GET "+protocol.PathWake, s.limitWake(s.device(s.handleWake)))
	top.Handle("/", s.limitInFlight(mux))
	return s.logRequests(top)
}

// TLSConfig is the listener's TLS: TLS 1.2 minimum, client certificates
// verified against the tenant CA when presented, at the server's time (an
// expired device certificate is refused).
func (s *Server) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.Tenant.CA)
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Time:         func() time.Time { return s.Now() },
		Certificates: []tls.Certificate{s.Tenant.TLS},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
	}
	if t := s.sessionTickets(); t != nil {
		cfg.WrapSession, cfg.UnwrapSession = t.wrap, t.unwrap
	}
	return cfg
}

// sessionTickets are the listener's shared session ticket keys (tickets.go);
// nil, with a warning, if the TLS key cannot make them: Go's own keys then
// serve, which only this process resumes.
func (s *Server) sessionTickets() *sessionTickets {
	s.ticketsOnce.Do(func() {
		t, err := newSessionTickets(s.Tenant.TLS.PrivateKey, s.Now())
		if err != nil {
			s.Log.Warn("TLS sessions resume only on this process", zap.Error(err))
			return
		}
		s.tickets = t
	})
	return s.tickets
}

// Serve listens on addr until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		// Per request; a package download extends its own (deadline.go).
		ReadTimeout:  s.ioTimeout(),
		WriteTimeout: s.ioTimeout(),
		// Above the agents' 90 s, so the agent closes an idle connection
		// first, and long enough for one cycle's requests to share it.
		// Between cycles the agent resumes its TLS session (tickets are on
		// by default) rather than holding the connection for the interval.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    zap.NewStdLog(s.Log.Named("http")),
	}
	s.warnMissingFiles()
	if ready != nil {
		ready(ln.Addr())
	}
	bg := routines.New(ctx)
	s.startPurge(bg)
	s.startWakes(bg)
	if t := s.sessionTickets(); t != nil {
		bg.Go(func(ctx context.Context) { t.run(ctx, clockwork.NewRealClock()) })
	}
	s.seen.start()
	every := s.SeenEvery
	if every <= 0 {
		every = DefaultSeenEvery
	}
	bg.Go(func(ctx context.Context) { s.seen.run(ctx, s.Store, s.Log, clockwork.NewRealClock(), every) })
	defer func() {
		// Once no handler runs, the check-in times still gathered are
		// recorded before Serve returns.
		bg.Close()
		flush, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.seen.flush(flush, s.Store, s.Log)
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		s.wakeHub().stop()
		return err
	case <-ctx.Done():
		// Held wake requests are answered now, not waited for.
		s.wakeHub().stop()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(shut); err != nil {
			return fmt.Errorf("shut down: %w", err)
		}
		return nil
	}
}

// RetiredMessage answers every request of a retired device.
const RetiredMessage = "device retired by the administrator: it comes back only with a new enrollment"

type deviceHandler func(w http.ResponseWriter, r *http.Request, d store.Device, cert *x509.Certificate)

// device authenticates the caller by its verified client certificate and
// checks it is the certificate issued to a device that has not left and
// is not on the deny list of retired certificates.
func (s *Server) device(h deviceHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			s.fail(w, r, http.StatusUnauthorized, "a device certificate is required: enroll the device first")
			return
		}
		cert := r.TLS.VerifiedChains[0][0]
		// The tenant CA issued this certificate: its name is a device id
		// even when the device is refused below.
		noteDevice(r, cert.Subject.CommonName)
		d, err := s.Store.Device(r.Context(), cert.Subject.CommonName)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusForbidden, "unknown device")
			return
		} else if err != nil {
			s.internal(w, r, "read device", err)
			return
		}
		// The deny list: d.Retired is the entry of d's current certificate.
		// A retired device is refused whichever of its certificates it
		// presents, a renewed one not confirmed yet included.
		if d.Retired != nil {
			s.Log.Warn("retired device refused", zap.String("device", d.ID), zap.String("cert_serial", d.CertSerial),
				zap.String("path", r.URL.Path), zap.String("remote", r.RemoteAddr))
			s.fail(w, r, http.StatusForbidden, RetiredMessage)
			return
		}
		if d.Left {
			s.fail(w, r, http.StatusForbidden, "device has left the tenant: enroll it again")
			return
		}
		if d, err = s.acceptCert(r.Context(), d, cert); errors.Is(err, errSuperseded) {
			s.fail(w, r, http.StatusForbidden, "device certificate superseded")
			return
		} else if err != nil {
			s.internal(w, r, "confirm renewed certificate", err)
			return
		}
		h(w, r, d, cert)
	}
}

// fail answers a refusal. Its reason goes into the request's log line;
// outside logRequests it is logged on its own.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if rl := requestLog(r); rl != nil {
		rl.reason = msg
	} else {
		s.Log.Info("device request refused", zap.String("path", r.URL.Path), zap.Int("status", code), zap.String("reason", msg))
	}
	writeJSON(w, code, protocol.Error{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// errTooLarge is a request body over protocol.MaxRequestBody (413).
var errTooLarge = errors.New("request body too large")

// decode reads a JSON body of at most protocol.MaxRequestBody bytes,
// gzip-compressed or not.
func decode(r *http.Request, v any) error {
	var body io.Reader = http.MaxBytesReader(nil, r.Body, protocol.MaxRequestBody)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return fmt.Errorf("bad gzip body: %w", err)
		}
		defer zr.Close()
		body = io.LimitReader(zr, protocol.MaxRequestBody+1)
	}
	b, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || len(b) > protocol.MaxRequestBody {
		return fmt.Errorf("%w: the limit is %d bytes", errTooLarge, protocol.MaxRequestBody)
	}
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("bad JSON body: %w", err)
	}
	return nil
}

// decodeFrom decodes a device's request into v and checks that the device
// id it names (read through id once v is filled) is the authenticated one.
// It answers the refusal itself and reports whether to go on.
func (s *Server) decodeFrom(w http.ResponseWriter, r *http.Request, d store.Device, v any, id *string) bool {
	if err := decode(r, v); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		s.fail(w, r, code, err.Error())
		return false
	}
	if *id != d.ID {
		s.fail(w, r, http.StatusForbidden, "device id does not match the certificate")
		return false
	}
	return true
}

// handleEnroll enrolls a device. The order is what keeps it cheap to
// refuse: the attempt is counted against its address first, the token is
// checked (without being used) before the CSR, the CSR before the token is
// used, so a bad request does not burn it, and a certificate is signed
// only once the token is redeemed.
func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	if !s.enrollAllowed(w, r) {
		return
	}
	var req protocol.EnrollRequest
	if err := decode(r, &req); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if req.ProtocolVersion != protocol.Version {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("protocol version %d is not supported (server speaks %d)", req.ProtocolVersion, protocol.Version))
		return
	}
	if err := checkReported(req.Facts, req.Capabilities); err != nil {
		s.fail(w, r, http.StatusBadRequest, "enrollment refused: "+err.Error())
		return
	}
	tok, err := protocol.ParseEnrollToken(req.Token)
	if err != nil {
		s.fail(w, r, http.StatusUnauthorized, "enrollment token refused: "+err.Error())
		return
	}
	if tok.CAPin != s.Tenant.CAPin() {
		s.fail(w, r, http.StatusUnauthorized, "enrollment token refused: it was made for another tenant")
		return
	}
	now := s.now()
	if _, err := s.Store.CheckToken(r.Context(), tok.SecretHash(), now); !s.tokenUsable(w, r, err) {
		return
	}
	if _, err := pki.CheckDeviceCSR(req.CSR); err != nil {
		s.fail(w, r, http.StatusBadRequest, "certificate request refused: "+err.Error())
		return
	}
	t, err := s.Store.RedeemToken(r.Context(), tok.SecretHash(), now)
	if !s.tokenUsable(w, r, err) {
		return
	}
	id := newID("dev")
	cert, err := s.Tenant.IssueDevice(req.CSR, id, now)
	if err != nil {
		s.internal(w, r, "issue device certificate", err)
		return
	}
	req.Facts.AgentVersion = strings.TrimSpace(req.Facts.AgentVersion)
	d := store.Device{
		ID: id, Facts: req.Facts, User: t.User, Capabilities: req.Capabilities,
		AgentVersion: req.Facts.AgentVersion, CertSerial: certSerial(cert), CertNotAfter: cert.NotAfter, EnrolledAt: now,
	}
	if err := s.Store.CreateDevice(r.Context(), d); err != nil {
		s.internal(w, r, "create device", err)
		return
	}
	noteDevice(r, id)
	s.Log.Info("device enrolled", zap.String("device", id), zap.String("serial", req.Facts.SerialNumber), zap.String("user", t.User))
	writeJSON(w, http.StatusOK, protocol.EnrollResponse{
		DeviceID: id, Certificate: cert.Raw, SigningCert: s.signerFor(req.Capabilities).Cert.Raw, CACert: s.Tenant.CA.Raw,
	})
}

// tokenUsable answers a token the store refused (401) or could not read,
// and reports whether enrollment goes on.
func (s *Server) tokenUsable(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case errors.Is(err, store.ErrTokenUnknown), errors.Is(err, store.ErrTokenUsed), errors.Is(err, store.ErrTokenExpired),
		errors.Is(err, store.ErrTokenRevoked):
		s.fail(w, r, http.StatusUnauthorized, "enrollment token refused: "+err.Error())
		return false
	case err != nil:
		s.internal(w, r, "read enrollment token", err)
		return false
	}
	return true
}

func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request, d store.Device, _ *x509.Certificate) {
	if err := s.Store.MarkDeviceLeft(r.Context(), d.ID, s.now()); err != nil {
		s.internal(w, r, "mark device left", err)
		return
	}
	s.Log.Info("device left", zap.String("device", d.ID))
	writeJSON(w, http.StatusOK, struct{}{})
}
