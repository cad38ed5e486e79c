// Package protocol holds everything the agent and the reference server share:
// the wire types of the device API, its version, and the crypto envelope that
// protects check-in responses, script keys and script blobs.
//
// Nothing else is shared between the two sides; a change here is a change of
// the protocol and must keep older agents working or bump Version.
package protocol
