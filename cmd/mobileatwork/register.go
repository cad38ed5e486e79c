package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/registration"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// awaitRegistration keeps a daemon whose device is not enrolled (the
// generic package: no enrollment file, no managed preferences) serving the
// "Register this Mac" page to the console user until the device is
// enrolled; meanwhile it tries the package's enrollment file again, as a
// restart of the daemon used to. It reports false when the daemon was
// stopped before.
func awaitRegistration(log *zap.Logger) bool {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	eo := agent.EnrollOptions{
		StateDir: v.GetString("state-dir"), Facts: agent.DeviceFacts(version.Version), Capabilities: version.Capabilities(),
	}
	err := registration.Wait(ctx, registration.Options{
		StateDir: eo.StateDir,
		Enroll: func(ctx context.Context, serverURL, token string) (*agent.Identity, error) {
			o := eo
			o.ServerURL, o.Token = serverURL, token
			return agent.Enroll(ctx, o)
		},
		Retry: func(ctx context.Context) {
			agent.EnrollAtStart(ctx, launchd.EnrollFilePath, nil, eo, log.Named("enroll"))
		},
		Log: log.Named("registration"),
	})
	if err != nil {
		log.Info("agent stopping before this Mac was registered", zap.Error(err))
		return false
	}
	return true
}
