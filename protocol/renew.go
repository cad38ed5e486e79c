package protocol

// PathRenew is where a device renews its certificate (mutual TLS with the
// certificate it has).
const PathRenew = "/v1/renew"

// CapRenew is announced by agents that renew their device certificate
// before it expires; the server tells apart devices that will and devices
// that need an agent upgrade first.
const CapRenew = "renew"

// RenewRequest carries a CSR signed by the device's new key. The server
// issues a certificate for the same device id and keeps the current one
// valid until the device makes its first request with the new one.
type RenewRequest struct {
	ProtocolVersion int    `json:"protocol_version"`
	DeviceID        string `json:"device_id"`
	CSR             []byte `json:"csr"` // DER PKCS#10 of the new key
}

// RenewResponse is the new device certificate.
type RenewResponse struct {
	Certificate []byte `json:"certificate"` // DER
}
