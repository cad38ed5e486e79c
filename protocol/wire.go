package protocol

import (
	"time"

	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

// Version is the device API version carried in every request.
const Version = 1

// Device API paths, served over TLS by the tenant server.
const (
	PathEnroll        = "/v1/enroll"    // server TLS only: the device has no certificate yet
	PathCheckin       = "/v1/checkin"   // mutual TLS from here on
	PathBlob          = "/v1/blobs/"    // + assignment id
	PathResults       = "/v1/results"   //
	PathInventory     = "/v1/inventory" //
	PathLeave         = "/v1/leave"     // the device is uninstalling
	ContentTypeSigned = "application/pkcs7-mime; smime-type=signed-data"
)

// Capabilities an agent may announce; the server adapts what it sends.
const (
	CapSchedule   = "schedule"   // understands daily/weekly schedules (clients >= 1.66)
	CapInventory  = "inventory"  // sends inventory reports
	CapOnboarding = "onboarding" // runs the staged onboarding
	CapCancel     = "cancel"     // stops a running script on the payload's Cancel order
	CapTriggers   = "triggers"   // runs scripts on enrollment, login, network change and named events
)

// Limits enforced by both sides.
const (
	MaxRequestBody  = 4 << 20 // a device request, after decompression
	MaxResponseBody = 8 << 20 // a check-in response
	MaxBlobBody     = 2 << 20 // one encrypted script blob
	MaxScriptBytes  = 1 << 20 // one script, before encryption
)

// Facts describe the device; sent at enrollment and with each check-in.
type Facts struct {
	SerialNumber string `json:"serial_number"`
	Model        string `json:"model,omitempty"`
	OSVersion    string `json:"os_version,omitempty"`
	OSBuild      string `json:"os_build,omitempty"`
	Hostname     string `json:"hostname,omitempty"`
	AgentVersion string `json:"agent_version"`
	// ConsoleUser is the short name of the logged-in GUI user, if any, and
	// ConsoleUserFullName that user's full name.
	ConsoleUser         string `json:"console_user,omitempty"`
	ConsoleUserFullName string `json:"console_user_full_name,omitempty"`
	// TimeZone is the device's IANA zone, so the server can tell when a
	// schedule in device-local time runs next.
	TimeZone string `json:"time_zone,omitempty"`
}

// EnrollRequest is posted once, with a one-time token, to obtain a device certificate.
type EnrollRequest struct {
	ProtocolVersion int      `json:"protocol_version"`
	Token           string   `json:"token"`
	CSR             []byte   `json:"csr"` // DER PKCS#10, RSA 3072
	Facts           Facts    `json:"facts"`
	Capabilities    []string `json:"capabilities"`
}

// EnrollResponse carries the device identity and the tenant certificates to pin.
type EnrollResponse struct {
	DeviceID    string `json:"device_id"`
	Certificate []byte `json:"certificate"`  // DER, the device certificate
	SigningCert []byte `json:"signing_cert"` // DER, the tenant signing certificate
	CACert      []byte `json:"ca_cert"`      // DER, the tenant CA
}

// CheckinRequest is posted at each check-in over mutual TLS.
type CheckinRequest struct {
	ProtocolVersion int      `json:"protocol_version"`
	DeviceID        string   `json:"device_id"`
	AgentVersion    string   `json:"agent_version"`
	Capabilities    []string `json:"capabilities"`
	// Nonce is fresh random bytes that the signed response must echo: it binds
	// the response to this request and defeats replay.
	Nonce []byte `json:"nonce"`
	Facts Facts  `json:"facts"`
	// RecentLog is the agent's latest log lines of level warn and above,
	// oldest first, at most MaxRecentLog lines of MaxLogLineBytes each, for
	// the administrator's device page.
	RecentLog []LogLine `json:"recent_log,omitempty"`
	// MaxResponseBytes is the largest signed response the agent accepts;
	// the server keeps under it (0: MaxResponseBody).
	MaxResponseBytes int `json:"max_response_bytes,omitempty"`
	// PayloadDigest is the ContentDigest of the last payload the agent
	// verified and holds; empty when it holds none. When the content is
	// still current the server answers Unchanged instead of resending it.
	PayloadDigest string `json:"payload_digest,omitempty"`
}

// Bounds of CheckinRequest.RecentLog.
const (
	MaxRecentLog    = 20
	MaxLogLineBytes = 512
)

// LogLine is one line of the agent's log as the server shows it.
type LogLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"` // warn, error, ...
	Message string    `json:"message"`
}

// CheckinPayload is the JSON signed by the tenant signing certificate and
// returned, as PKCS#7 SignedData, in answer to a check-in.
type CheckinPayload struct {
	ProtocolVersion int       `json:"protocol_version"`
	DeviceID        string    `json:"device_id"`
	Nonce           []byte    `json:"nonce"`
	IssuedAt        time.Time `json:"issued_at"`
	ExpiresAt       time.Time `json:"expires_at"`
	// Configuration names the Mobile@Work configuration in effect on the
	// device; nil when none is distributed to it, and then the device runs no
	// script and Assignments is empty.
	Configuration *ConfigurationRef `json:"configuration,omitempty"`
	Config        Config            `json:"config"`
	Assignments   []Assignment      `json:"assignments"`
	// Apps are the catalog apps distributed to the device (Apps@Work and
	// onboarding); Onboarding is the onboarding plan, nil when disabled.
	Apps       []AppOffer      `json:"apps,omitempty"`
	Onboarding *OnboardingPlan `json:"onboarding,omitempty"`
	// Resend is true when the server redistributes the whole configuration,
	// e.g. after the agent reported a new version.
	Resend bool `json:"resend,omitempty"`
	// More is true when more script configurations reach the device than
	// one response holds: the agent checks in again soon for the others.
	// Run-once configurations the device finished are not sent again, so
	// each round makes room for the next.
	More bool `json:"more,omitempty"`
	// Unchanged answers a request whose PayloadDigest is still current: the
	// payload carries no content and Digest repeats the digest it vouches
	// for; the agent acts on the payload it holds.
	Unchanged bool   `json:"unchanged,omitempty"`
	Digest    string `json:"digest,omitempty"`
	// Cancel lists the runs the administrator cancelled while the device
	// ran them: the agent stops a running script named here and reports it
	// cancelled. Sent only to agents announcing CapCancel.
	Cancel []RunRef `json:"cancel,omitempty"`
	// RetiredSigners are the fingerprints (Fingerprint) of the signing
	// certificates the tenant retired: the agent adds them to those it
	// refuses, and never removes one. Sent only to agents announcing
	// CapRetiredSigners.
	RetiredSigners []string `json:"retired_signers,omitempty"`
}

// RunRef names the runs of one version of a script configuration.
type RunRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// Config is the tenant's Mobile@Work configuration as it applies to the device.
type Config struct {
	CheckinIntervalMinutes int `json:"checkin_interval_minutes"`
	MaxExecutionSeconds    int `json:"max_execution_seconds"`
	MaxResponseKB          int `json:"max_response_kb"`
	KillGraceSeconds       int `json:"kill_grace_seconds"`
	// RemoveManagedApps makes `mobileatwork uninstall` remove the apps the
	// agent installed when no flag says otherwise.
	RemoveManagedApps bool `json:"remove_managed_apps,omitempty"`
	// ScriptsStopped is the brake on scripts (`scripts.enabled=false`, or
	// `stop-scripts`): the agent runs none and stops the one running.
	// ScriptsStoppedReason says who stopped them and why.
	ScriptsStopped       bool   `json:"scripts_stopped,omitempty"`
	ScriptsStoppedReason string `json:"scripts_stopped_reason,omitempty"`
}

// ConfigurationRef names a configuration and the version the device holds.
type ConfigurationRef struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// Documented defaults of the Mobile@Work configuration.
var DefaultConfig = Config{
	CheckinIntervalMinutes: 15,
	MaxExecutionSeconds:    60,
	MaxResponseKB:          1,
	KillGraceSeconds:       5,
}

// Run-as choices of an assignment.
const (
	RunAsRoot        = "root"
	RunAsConsoleUser = "console_user"
)

// Input is one resolved script input, in declaration order.
type Input struct {
	Label string `json:"label,omitempty"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Assignment tells the device to run one script, once or on a schedule: it
// is a script configuration as it applies to the device, and ID is the
// configuration's id.
type Assignment struct {
	ID       string        `json:"id"`
	Version  int           `json:"version"` // bumped when what runs changes; resets the device's schedule state
	ScriptID string        `json:"script_id"`
	Name     string        `json:"name"`
	Inputs   []Input       `json:"inputs"`
	Schedule schedule.Spec `json:"schedule"`
	RunAs    string        `json:"run_as"`
	// BlobURL is the path, relative to the server, of the encrypted blob.
	BlobURL    string `json:"blob_url"`
	BlobSHA256 string `json:"blob_sha256"` // hex
	// KeyEnvelope is SignedData(tenant) over EnvelopedData(device) of a KeyGrant.
	KeyEnvelope []byte `json:"key_envelope"`
	// Retries is how many more times a failed, timed-out or errored run is
	// tried (see Retryable); sent only to agents announcing CapRetries.
	Retries int `json:"retries,omitempty"`
}

// KeyGrant is what a key envelope protects: the key that opens one blob.
type KeyGrant struct {
	AssignmentID string `json:"assignment_id"`
	BlobSHA256   string `json:"blob_sha256"` // hex
	Key          []byte `json:"key"`         // AES-256
}

// Script is the signed content inside a blob.
type Script struct {
	ScriptID string    `json:"script_id"`
	Name     string    `json:"name"`
	SHA256   string    `json:"sha256"` // of Body, hex
	Body     []byte    `json:"body"`
	SignedAt time.Time `json:"signed_at"`
}

// Result statuses.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusTimedOut  = "timed_out"
	StatusRejected  = "rejected"
	StatusError     = "error"
	StatusCancelled = "cancelled" // stopped by `config cancel` or the brake on scripts
)

// ResultStatuses are the statuses a result may have, in the order they
// are listed to an administrator.
var ResultStatuses = []string{StatusSucceeded, StatusFailed, StatusTimedOut, StatusRejected, StatusError, StatusCancelled}

// Result reports one run (or one refusal to run) of an assignment.
type Result struct {
	RunID             string `json:"run_id"` // idempotency key
	DeviceID          string `json:"device_id"`
	AssignmentID      string `json:"assignment_id"`
	AssignmentVersion int    `json:"assignment_version"`
	ScriptID          string `json:"script_id"`
	// ScriptSHA256 is the SHA-256 (hex) of the body that ran, as verified;
	// empty when nothing ran because verification failed.
	ScriptSHA256 string `json:"script_sha256,omitempty"`
	// Occurrence is the scheduled instant this run belongs to (zero for once).
	Occurrence  time.Time `json:"occurrence,omitempty"`
	Status      string    `json:"status"`
	ExitCode    int       `json:"exit_code"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	DurationMS  int64     `json:"duration_ms"`
	Stdout      string    `json:"stdout"`
	Stderr      string    `json:"stderr"`
	StdoutBytes int64     `json:"stdout_bytes"`
	StderrBytes int64     `json:"stderr_bytes"`
	Truncated   bool      `json:"truncated"`
	// InvalidUTF8 is set when output bytes that are not UTF-8 were replaced.
	InvalidUTF8 bool   `json:"invalid_utf8,omitempty"`
	Error       string `json:"error,omitempty"`
	// Waiting marks a report of a run that has not happened yet and will
	// (WaitingConsoleUser: no user is logged in): the configuration is not
	// finished on the device.
	Waiting string `json:"waiting,omitempty"`
	// Attempt numbers the runs of an assignment that allows retries, from
	// 1; 0 is the only run of one that allows none. RetryAt, when set, is
	// when the agent tries again: the run is not over.
	Attempt int       `json:"attempt,omitempty"`
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// Waiting reasons of a Result.
const WaitingConsoleUser = "console_user"

// ResultsRequest delivers queued results; the server acknowledges each run id
// it has stored (or already had).
type ResultsRequest struct {
	DeviceID string   `json:"device_id"`
	Results  []Result `json:"results"`
}

// ResultsAck lists the run ids the server holds durably, and those it will
// never hold (malformed or over a limit): a refused result must not block
// the others.
type ResultsAck struct {
	Accepted []string  `json:"accepted"`
	Refused  []Refusal `json:"refused,omitempty"`
}

// LeaveRequest tells the server the device is uninstalling the agent.
type LeaveRequest struct {
	DeviceID string `json:"device_id"`
	Reason   string `json:"reason,omitempty"`
}

// Error is the JSON body of every non-2xx answer of the device API.
type Error struct {
	Error string `json:"error"`
}
