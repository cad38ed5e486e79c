package protocol

// PathWake is the wake channel (mutual TLS): the agent holds a GET open
// and the server answers 204 when it has nothing to say (the agent asks
// again at once) or 200 with a WakeAnswer when the device should check in
// now. A wake carries nothing to act on: what the device then runs comes
// in the signed check-in answer, verified like any other.
const PathWake = "/v1/wake"

// WakeAnswer is the body of a 200 from PathWake. The agent does not read
// it: any 200 means "check in now", which is all a forged answer could
// make it do.
type WakeAnswer struct {
	Checkin bool `json:"checkin"`
}
