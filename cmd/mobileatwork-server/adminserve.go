package main

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
)

func adminListenFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("admin-listen", "", "also serve the admin API (/api/v1) and the web console on this address, over TLS with the server certificate")
	f.String("admin-addr-file", "", "write the admin listener's bound address to this file once listening")
}

// serveAdmin starts the admin listener when --admin-listen asks for it.
// The returned context ends when it fails; stop ends it and waits for it.
func serveAdmin(ctx context.Context, s *server.Server) (context.Context, func(), error) {
	addr := v.GetString("admin-listen")
	if addr == "" {
		if v.GetString("admin-addr-file") != "" {
			return nil, nil, errors.New("--admin-addr-file needs --admin-listen ADDR")
		}
		return ctx, func() {}, nil
	}
	ln, err := adminapi.Listen(s, addr, consoleHandler(s))
	if err != nil {
		return nil, nil, err
	}
	log := s.Log.Sugar()
	log.Infof("serving the admin API and console on https://%s", ln.Addr())
	if f := v.GetString("admin-addr-file"); f != "" {
		if err := os.WriteFile(f, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			log.Errorf("write --admin-addr-file: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	g := routines.New(ctx)
	g.Go(func(ctx context.Context) {
		if err := ln.Serve(ctx); err != nil {
			log.Errorf("admin listener: %v", err)
		}
		cancel() // the device API stops with it
	})
	return ctx, func() { cancel(); g.Close() }, nil
}
