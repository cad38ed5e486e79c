package protocol

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFitResult(t *testing.T) {
	const limit = 64 << 10
	big := func(s string, n int) string { return strings.Repeat(s, n/len(s)) }
	tests := []struct {
		name           string
		stdout, stderr string
		cut            bool
	}{
		{"small stays as it is", "hello\n", "", false},
		{"escaped characters are counted as sent", big("<", 30<<10), "", true}, // 30 KiB of "<" is 180 KiB of JSON
		{"control characters too", big("\x01", 20<<10), big("\x02", 20<<10), true},
		{"multi-byte text keeps whole characters", big("é€😀", 90<<10), "", true},
		{"both streams large", big("a", 60<<10), big("b", 60<<10), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Result{RunID: "r1", DeviceID: "d1", Status: StatusSucceeded, Stdout: tt.stdout, Stderr: tt.stderr,
				StdoutBytes: int64(len(tt.stdout)), StderrBytes: int64(len(tt.stderr))}
			got := FitResult(r, limit)
			if n := EncodedSize(got); n > limit {
				t.Fatalf("encoded size %d > limit %d", n, limit)
			}
			if !tt.cut {
				if got != r {
					t.Fatalf("a fitting result was changed: %+v", got)
				}
				return
			}
			if !got.Truncated || !strings.Contains(got.Error, "upload limit") {
				t.Fatalf("a cut result does not say so: truncated=%v error=%q", got.Truncated, got.Error)
			}
			if !utf8.ValidString(got.Stdout) || !utf8.ValidString(got.Stderr) {
				t.Fatal("cut output is not valid UTF-8")
			}
			if got.StdoutBytes != r.StdoutBytes || got.Status != r.Status || got.RunID != r.RunID {
				t.Fatal("cutting changed the run's facts")
			}
			// Head and tail survive.
			if tt.stdout != "" && (got.Stdout[:1] != tt.stdout[:1] || got.Stdout[len(got.Stdout)-1] != tt.stdout[len(tt.stdout)-1]) {
				t.Fatal("head or tail of stdout lost")
			}
		})
	}
}

func TestUndeliveredResult(t *testing.T) {
	r := Result{RunID: "r1", DeviceID: "d1", AssignmentID: "c1", AssignmentVersion: 2, Status: StatusFailed, ExitCode: 3,
		Stdout: strings.Repeat("x", 1<<20), StdoutBytes: 1 << 20, Attempt: 2, RetryAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	u := UndeliveredResult(r, strings.Repeat("too big ", 1000))
	// The attempt and the retry stay: the run is still not over.
	if u.Attempt != 2 || !u.RetryAt.Equal(r.RetryAt) {
		t.Errorf("undelivered attempt %d, retry at %v; want those of the run", u.Attempt, u.RetryAt)
	}
	if u.RunID != "r1" || u.AssignmentID != "c1" || u.AssignmentVersion != 2 || u.Status != StatusError || u.ExitCode != 3 ||
		u.Stdout != "" || u.StdoutBytes != 1<<20 || !strings.HasPrefix(u.Error, UndeliveredPrefix) || len(u.Error) > 1024 {
		t.Fatalf("undelivered = %+v", u)
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exact", 5, "exact"},
		{"abcdef", 3, "abc"},
		{"ab日本", 4, "ab"}, // 日 is 3 bytes: cutting at 4 would split it
		{"ab日本", 5, "ab日"},
		{"日", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := Clip(tt.in, tt.n)
			if got != tt.want || !utf8.ValidString(got) {
				t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
