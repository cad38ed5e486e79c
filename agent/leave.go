package agent

import (
	"context"
	"fmt"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// Leave tells the server that this device is uninstalling the agent, so the
// tenant stops expecting check-ins and refuses this certificate from now on.
// It uses the device's mutual TLS like every other request; callers that
// must work offline (uninstall) treat its error as a warning.
func (a *Agent) Leave(ctx context.Context) error {
	_, err := do(ctx, a.client, "POST", a.url(protocol.PathLeave), protocol.LeaveRequest{
		DeviceID: a.id.DeviceID, Reason: "uninstall",
	}, protocol.MaxResponseBody)
	if err != nil {
		return fmt.Errorf("tell %s that the device leaves: %w", a.id.ServerURL, err)
	}
	return nil
}
