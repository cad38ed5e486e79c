package logging

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mobileatwork/mobileatwork/protocol"
)

func messages(lines []protocol.LogLine) []string {
	out := []string{}
	for _, l := range lines {
		out = append(out, l.Level+" "+l.Message)
	}
	return out
}

func TestRecentKeepsWarningsAndAbove(t *testing.T) {
	tests := []struct {
		name  string
		level zapcore.Level // of the other outputs
		log   func(*zap.Logger)
		want  []string
	}{
		{
			name:  "info and debug are not kept",
			level: zapcore.DebugLevel,
			log: func(l *zap.Logger) {
				l.Debug("d")
				l.Info("i")
				l.Warn("w")
				l.Error("e")
			},
			want: []string{"warn w", "error e"},
		},
		{
			name:  "warnings below the log level are not kept either",
			level: zapcore.ErrorLevel,
			log: func(l *zap.Logger) {
				l.Warn("w")
				l.Error("e")
			},
			want: []string{"error e"},
		},
		{
			name:  "fields are rendered in order, after the logger's own",
			level: zapcore.InfoLevel,
			log: func(l *zap.Logger) {
				l.Named("catalog").With(zap.String("assignment", "asg_1")).Warn("check-in failed",
					zap.Error(errors.New("connection refused")), zap.Int("attempt", 3), zap.Bool("ok", false))
			},
			want: []string{`warn catalog: check-in failed assignment=asg_1 error="connection refused" attempt=3 ok=false`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecent(10, 512)
			tt.log(zap.New(r.Core(tt.level)))
			if got := messages(r.Lines()); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("kept %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRecentKeepsTheNewestOldestFirst(t *testing.T) {
	tests := []struct {
		size, logged int
		want         []string
	}{
		{size: 3, logged: 0, want: []string{}},
		{size: 3, logged: 2, want: []string{"warn 0", "warn 1"}},
		{size: 3, logged: 3, want: []string{"warn 0", "warn 1", "warn 2"}},
		{size: 3, logged: 7, want: []string{"warn 4", "warn 5", "warn 6"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.logged), func(t *testing.T) {
			r := NewRecent(tt.size, 512)
			l := zap.New(r.Core(zapcore.InfoLevel))
			for i := range tt.logged {
				l.Warn(fmt.Sprint(i))
			}
			got := messages(r.Lines())
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("kept %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRecentCutsLongLines(t *testing.T) {
	tests := []struct {
		name, msg string
		max       int
		want      string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"long", "abcdefgh", 5, "abcde"},
		{"inside a rune", "abcd日本", 5, "abcd"}, // 日 is 3 bytes
		{"after a rune", "abcd日本", 7, "abcd日"},
		{"invalid UTF-8 replaced", "ab\xffc", 10, "ab\uFFFDc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRecent(1, tt.max)
			zap.New(r.Core(zapcore.InfoLevel)).Warn(tt.msg)
			lines := r.Lines()
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1", len(lines))
			}
			if got := lines[0].Message; got != tt.want || len(got) > tt.max || !utf8.ValidString(got) {
				t.Errorf("message %q, want %q (at most %d bytes, UTF-8)", got, tt.want, tt.max)
			}
		})
	}
}

func TestRecentIsSafeForConcurrentUse(t *testing.T) {
	r := NewAgentRecent()
	l := zap.New(r.Core(zapcore.InfoLevel))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				l.Warn("w", zap.Int("g", g), zap.Int("i", i))
				r.Lines()
			}
		}()
	}
	wg.Wait()
	if n := len(r.Lines()); n != protocol.MaxRecentLog {
		t.Fatalf("%d lines, want %d", n, protocol.MaxRecentLog)
	}
}

func TestNewTeesRecent(t *testing.T) {
	r := NewAgentRecent()
	l, sync, err := New(Options{Level: "warn", Recent: r})
	if err != nil {
		t.Fatal(err)
	}
	defer sync()
	l.Info("not kept")
	l.Warn("kept")
	if got := messages(r.Lines()); len(got) != 1 || got[0] != "warn kept" {
		t.Fatalf("kept %q, want the warning only", got)
	}
	var nilRecent *Recent
	if nilRecent.Lines() != nil {
		t.Fatal("a nil Recent has lines")
	}
}
