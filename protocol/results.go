package protocol

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Wire limits of results. A results request is at most MaxRequestBody; one
// result is at most MaxResultBytes as JSON, whatever its output holds (JSON
// escapes "<" to six bytes and control characters likewise, so a cap on
// output bytes alone does not bound what goes on the wire), and a batch
// leaves room for its envelope.
const (
	MaxResultBytes       = 3 << 20
	MaxResultsBatchBytes = MaxRequestBody - 64<<10
	MaxResultsBatchCount = 50
)

// Refusal is a result the server will never store, and why. The agent
// puts a short error result in its place so that the run is still
// reported, and stops resending the refused one.
type Refusal struct {
	RunID  string `json:"run_id"`
	Reason string `json:"reason"`
}

// EncodedSize is the size of v as it goes on the wire, as JSON.
func EncodedSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}

// fitMarker replaces the middle of an output cut to fit MaxResultBytes.
const fitMarker = "\n[... output cut to fit the result upload limit ...]\n"

// FitResult returns r with its outputs cut, head and tail kept, until it
// encodes to at most limit bytes; a result that already fits is returned
// as it is. A cut result says so in Truncated and Error.
func FitResult(r Result, limit int) Result {
	if EncodedSize(r) <= limit {
		return r
	}
	r.Truncated = true
	note := "output cut to fit the result upload limit"
	if r.Error == "" {
		r.Error = note
	} else if len(r.Error) < 4096 {
		r.Error += "; " + note
	} else {
		r.Error = cutMiddle(r.Error, 4096)
	}
	// Halve the longer stream's kept bytes until the result fits: at most
	// a few dozen encodings, each bounded by the caps.
	for range 64 {
		if EncodedSize(r) <= limit {
			return r
		}
		if len(r.Stdout) >= len(r.Stderr) {
			r.Stdout = cutMiddle(r.Stdout, len(r.Stdout)/2)
		} else {
			r.Stderr = cutMiddle(r.Stderr, len(r.Stderr)/2)
		}
	}
	r.Stdout, r.Stderr = "", ""
	return r
}

// cutMiddle keeps about n bytes of s, half from its head and half from its
// tail, on character boundaries, with a marker between.
func cutMiddle(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= len(fitMarker) {
		return ""
	}
	keep := (n - len(fitMarker)) / 2
	tail := len(s) - keep
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return Clip(s, keep) + fitMarker + s[tail:]
}

// Clip shortens s to at most n bytes without splitting a character: the
// length limits both sides apply to texts cut, not refuse, what is over.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// UndeliveredResult is what the agent reports in place of a result the
// server refused: the run's identity and status, no output, and why.
func UndeliveredResult(r Result, reason string) Result {
	out := Result{
		RunID: r.RunID, DeviceID: r.DeviceID, AssignmentID: r.AssignmentID, AssignmentVersion: r.AssignmentVersion,
		ScriptID: r.ScriptID, ScriptSHA256: r.ScriptSHA256, Occurrence: r.Occurrence, Status: StatusError,
		ExitCode: r.ExitCode, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, DurationMS: r.DurationMS,
		StdoutBytes: r.StdoutBytes, StderrBytes: r.StderrBytes, Truncated: true, Attempt: r.Attempt, RetryAt: r.RetryAt,
	}
	out.Error = cutMiddle(fmt.Sprintf("%s%s (the run ended %s; its output is kept on the device)", UndeliveredPrefix, reason, r.Status), 1024)
	return out
}

// UndeliveredPrefix starts the error of every UndeliveredResult, so that a
// refusal of one of those is not answered with another.
const UndeliveredPrefix = "result not delivered: the server refused it: "
