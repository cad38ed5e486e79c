package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/server"
)

func enrollFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("enroll-listen", "", "also serve download links (GET /e/SECRET) on this address, apart from the device API")
	f.String("enroll-addr-file", "", "write the enrollment listener's bound address to this file once listening")
	f.String("enroll-cert", "", "PEM certificate chain of the enrollment listener (default: the server's TLS certificate)")
	f.String("enroll-key", "", "PEM private key of --enroll-cert")
	f.String("agent-dir", "", "directory of mobileatwork-arm64 and mobileatwork-amd64, to build the packages of download links")
	f.String("sign-cert", "", "sign the packages of download links with this PEM certificate chain of a Developer ID Installer identity, leaf first")
	f.String("sign-key", "", "PEM RSA private key of --sign-cert")
}

// serveEnroll starts the public enrollment listener when --enroll-listen
// asks for it. The returned context ends when either listener fails; stop
// ends the listener and waits for it.
func serveEnroll(ctx context.Context, s *server.Server) (context.Context, func(), error) {
	addr := v.GetString("enroll-listen")
	if addr == "" {
		for _, f := range []string{"enroll-cert", "enroll-key", "agent-dir", "enroll-addr-file", "sign-cert", "sign-key"} {
			if v.GetString(f) != "" {
				return nil, nil, fmt.Errorf("--%s needs --enroll-listen ADDR", f)
			}
		}
		return ctx, func() {}, nil
	}
	o := server.EnrollOptions{AgentDir: v.GetString("agent-dir")}
	certFile, keyFile := v.GetString("enroll-cert"), v.GetString("enroll-key")
	if (certFile == "") != (keyFile == "") {
		return nil, nil, errors.New("--enroll-cert and --enroll-key go together")
	}
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--enroll-cert/--enroll-key: %w", err)
		}
		o.Cert = &c
	}
	signer, err := loadSigner(v.GetString("sign-cert"), v.GetString("sign-key"))
	if err != nil {
		return nil, nil, err
	}
	o.Signer = signer
	if o.AgentDir != "" {
		if st, err := os.Stat(o.AgentDir); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("--agent-dir %s: not a directory; give the directory of the two thin darwin executables (make pkg writes them to dist/darwin)", o.AgentDir)
		}
	}
	ln, err := s.ListenEnroll(addr, o)
	if err != nil {
		return nil, nil, err
	}
	log := s.Log.Sugar()
	log.Infof("serving download links on https://%s", ln.Addr())
	if o.AgentDir == "" {
		log.Warnf("no --agent-dir: download links cannot build their packages, and their pages say so")
	}
	if f := v.GetString("enroll-addr-file"); f != "" {
		if err := os.WriteFile(f, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			log.Errorf("write --enroll-addr-file: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	g := routines.New(ctx)
	g.Go(func(ctx context.Context) {
		if err := ln.Serve(ctx); err != nil {
			log.Errorf("enrollment listener: %v", err)
		}
		cancel() // the device API stops with it
	})
	return ctx, func() { cancel(); g.Close() }, nil
}
