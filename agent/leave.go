package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Leave tells the server that this device is uninstalling the agent, so the
// tenant stops expecting check-ins and refuses this certificate from now on.
// It uses the device's mutual TLS like every other request; callers that
// must work offline (uninstall) treat its error as a warning.
func (a *Agent) Leave(ctx context.Context) error {
	_, err := do(ctx, a.api.httpClient(), "POST", a.url(protocol.PathLeave), protocol.LeaveRequest{
		DeviceID: a.id.DeviceID, Reason: "uninstall",
	}, protocol.MaxResponseBody)
	if err != nil {
		return fmt.Errorf("tell %s that the device leaves: %w", a.id.ServerURL, err)
	}
	return nil
}

// UninstallRemovesManagedApps decides whether an uninstall removes the apps
// the agent installed: the explicit choice when there is one (non-nil),
// else what the tenant's configuration said in the last verified check-in
// saved in stateDir, else no. It reads that payload without the identity,
// so a damaged state directory can still be uninstalled; an unreadable
// payload keeps the apps and is returned as the error.
func UninstallRemovesManagedApps(stateDir string, explicit *bool) (bool, error) {
	if explicit != nil {
		return *explicit, nil
	}
	var p protocol.CheckinPayload
	err := atomicfile.ReadJSON(filepath.Join(stateDir, payloadFile), &p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil // never checked in: nothing asks for it
	case err != nil:
		return false, fmt.Errorf("the tenant's choice for managed apps is unknown, they are kept: %w", err)
	}
	return p.Config.RemoveManagedApps, nil
}
