package server

import (
	"slices"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// DetailNoTriggers is the error detail of a triggered script configuration
// on a device whose agent does not announce triggers: it is withheld, as an
// older agent would run it once at once.
const DetailNoTriggers = "the agent is too old for triggers: upgrade it to run this configuration"

// lacksTriggers tells whether c runs on a trigger the device's agent does
// not understand.
func lacksTriggers(c store.Configuration, d store.Device) bool {
	return c.Script.Schedule.Triggered() && !slices.Contains(d.Capabilities, protocol.CapTriggers)
}

// deliverable drops what the device's agent cannot honour.
func deliverable(scripts []store.Configuration, d store.Device) []store.Configuration {
	return slices.DeleteFunc(slices.Clone(scripts), func(c store.Configuration) bool { return lacksTriggers(c, d) })
}
