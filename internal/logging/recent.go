package logging

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap/zapcore"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// Recent keeps, in memory, the latest log lines of level warn and above so
// the agent can send them with each check-in. It is deliberately not
// persisted: a restart of the daemon loses them, which is acceptable for a
// troubleshooting aid (the log file keeps everything). Safe for concurrent
// use; a nil *Recent keeps nothing.
type Recent struct {
	mu       sync.Mutex
	lines    []protocol.LogLine // ring buffer, next is the oldest once full
	next     int
	size     int
	maxBytes int
}

// NewRecent keeps the newest size lines, each message cut to maxBytes.
func NewRecent(size, maxBytes int) *Recent {
	return &Recent{size: max(size, 1), maxBytes: max(maxBytes, 1)}
}

// NewAgentRecent has the bounds of protocol.CheckinRequest.RecentLog.
func NewAgentRecent() *Recent { return NewRecent(protocol.MaxRecentLog, protocol.MaxLogLineBytes) }

// Lines returns the kept lines, oldest first.
func (r *Recent) Lines() []protocol.LogLine {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) == 0 {
		return nil
	}
	return append(slices.Clone(r.lines[r.next:]), r.lines[:r.next]...)
}

func (r *Recent) add(l protocol.LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) < r.size {
		r.lines = append(r.lines, l)
		return
	}
	r.lines[r.next] = l
	r.next = (r.next + 1) % r.size
}

// Core is a zap core that writes into r the entries of level warn and above
// that enab also enables, so what is kept is what reaches the other outputs.
func (r *Recent) Core(enab zapcore.LevelEnabler) zapcore.Core {
	return &recentCore{r: r, enab: enab}
}

type recentCore struct {
	r      *Recent
	enab   zapcore.LevelEnabler
	fields []zapcore.Field // from With
}

func (c *recentCore) Enabled(l zapcore.Level) bool {
	return c.r != nil && l >= zapcore.WarnLevel && c.enab.Enabled(l)
}

func (c *recentCore) With(fields []zapcore.Field) zapcore.Core {
	return &recentCore{r: c.r, enab: c.enab, fields: append(slices.Clip(c.fields), fields...)}
}

func (c *recentCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *recentCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	c.r.add(protocol.LogLine{
		Time:  e.Time.UTC(),
		Level: e.Level.String(),
		// Bytes that are not UTF-8 are replaced first, as JSON would.
		Message: protocol.Clip(strings.ToValidUTF8(render(e, append(slices.Clip(c.fields), fields...)), "\uFFFD"), c.r.maxBytes),
	})
	return nil
}

func (c *recentCore) Sync() error { return nil }

// render writes "logger: message key=value ...", fields in the order given.
func render(e zapcore.Entry, fields []zapcore.Field) string {
	var b strings.Builder
	if e.LoggerName != "" {
		b.WriteString(e.LoggerName + ": ")
	}
	b.WriteString(e.Message)
	for _, f := range fields {
		enc := zapcore.NewMapObjectEncoder()
		f.AddTo(enc)
		keys := make([]string, 0, len(enc.Fields))
		for k := range enc.Fields {
			if !strings.HasSuffix(k, "Verbose") { // zap.Error's long form of the error
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			b.WriteString(" " + k + "=" + value(enc.Fields[k]))
		}
	}
	return b.String()
}

func value(v any) string {
	s := fmt.Sprint(v)
	if s == "" || strings.ContainsAny(s, " \t\r\n\"=") {
		return strconv.Quote(s)
	}
	return s
}
