package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/variables"
)

// appliesTo tells whether an assignment targets the device.
func appliesTo(a store.Assignment, d store.Device) bool { return targets(a.Target, a.TargetID, d) }

// targets tells whether the target (kind, id), as ParseTarget reads it,
// includes the device. Assignments and app distributions share it.
func targets(kind, id string, d store.Device) bool {
	switch kind {
	case store.TargetAll:
		return true
	case store.TargetDevice:
		return id == d.ID
	case store.TargetGroup:
		return slices.Contains(d.Groups, id)
	case store.TargetUser:
		return d.User != "" && strings.EqualFold(id, d.User)
	}
	return false
}

// variableValues are the per-device values of the input variables. The
// reference server has no user directory: the user id is the local part of
// the enrollment email, the display name the full name of the Mac's console
// user as the device reports it.
func variableValues(d store.Device) map[string]string {
	uid, _, _ := strings.Cut(d.User, "@")
	name := d.Facts.ConsoleUserFullName
	if name == "" {
		name = uid
	}
	return map[string]string{
		variables.UserWorkEmailAddress: d.User,
		variables.UserUID:              uid,
		variables.UserDisplayName:      name,
		variables.DeviceSerialNumber:   d.Facts.SerialNumber,
		variables.DeviceName:           d.Facts.Hostname,
		variables.DeviceID:             d.ID,
	}
}

// deviceAssignments builds what the device receives: the assignments that
// target it, with inputs resolved for it, schedules it can honour, and a key
// envelope sealed to its certificate.
func (s *Server) deviceAssignments(ctx context.Context, d store.Device, cert *x509.Certificate) ([]protocol.Assignment, error) {
	all, err := s.Store.Assignments(ctx)
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	vals := variableValues(d)
	canSchedule := slices.Contains(d.Capabilities, protocol.CapSchedule)
	out := []protocol.Assignment{}
	for _, a := range all {
		if !appliesTo(a, d) {
			continue
		}
		sc, err := s.Store.Script(ctx, a.ScriptID)
		if err != nil {
			return nil, fmt.Errorf("assignment %s: script %s: %w", a.ID, a.ScriptID, err)
		}
		inputs := make([]protocol.Input, 0, len(sc.Inputs))
		for _, decl := range sc.Inputs {
			v, ok := a.Inputs[decl.Name]
			if !ok {
				v = decl.Default
			}
			inputs = append(inputs, protocol.Input{Label: decl.Label, Name: decl.Name, Value: variables.Resolve(v, vals)})
		}
		spec := a.Schedule
		if spec.Recurring() && !canSchedule {
			// Clients before schedules existed run a scheduled script once.
			spec = schedule.Spec{Kind: schedule.Once}
		}
		env, err := protocol.SealKeyGrant(protocol.KeyGrant{
			AssignmentID: a.ID, BlobSHA256: sc.BlobSHA256, Key: sc.BlobKey,
		}, cert, s.Tenant.Signing)
		if err != nil {
			return nil, fmt.Errorf("seal key for assignment %s: %w", a.ID, err)
		}
		out = append(out, protocol.Assignment{
			ID: a.ID, Version: a.Version, ScriptID: sc.ID, Name: sc.Name,
			Inputs: inputs, Schedule: spec, RunAs: a.RunAs,
			BlobURL: protocol.PathBlob + a.ID, BlobSHA256: sc.BlobSHA256, KeyEnvelope: env,
		})
	}
	return out, nil
}
