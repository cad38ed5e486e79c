package jsonview

import (
	"time"

	"github.com/mobileatwork/mobileatwork/server"
)

// Doctor is what `doctor --json` prints.
type Doctor struct {
	At           time.Time      `json:"at"`
	NeedsAction  bool           `json:"needs_action"`
	Certificates []DoctorCert   `json:"certificates"`
	Devices      []DoctorDevice `json:"devices"`
	// RetiredSigners counts the retired signing certificates agents refuse.
	RetiredSigners int `json:"retired_signers"`
}

// DoctorCert is one tenant certificate; action absent when nothing needs doing.
type DoctorCert struct {
	Name     string    `json:"name"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"not_after"`
	Action   string    `json:"action,omitempty"`
}

// DoctorDevice is a device whose certificate needs action.
type DoctorDevice struct {
	ID          string     `json:"id"`
	NotAfter    time.Time  `json:"not_after"`
	LastCheckin *time.Time `json:"last_checkin,omitempty"`
	Action      string     `json:"action"`
}

// NewDoctor shapes a doctor's report.
func NewDoctor(d server.Doctor) Doctor {
	out := Doctor{At: d.At, NeedsAction: d.NeedsAction(), Certificates: []DoctorCert{}, Devices: []DoctorDevice{}, RetiredSigners: d.RetiredSigners}
	for _, c := range d.Certificates {
		out.Certificates = append(out.Certificates, DoctorCert{Name: c.Name, Serial: c.Serial, NotAfter: c.NotAfter, Action: c.Action})
	}
	for _, dev := range d.Devices {
		out.Devices = append(out.Devices, DoctorDevice{ID: dev.ID, NotAfter: dev.NotAfter, LastCheckin: when(dev.LastCheckin), Action: dev.Action})
	}
	return out
}
