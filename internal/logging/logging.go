// Package logging builds the zap loggers of both binaries: JSON lines to a
// rotated file for support, and short human lines on stderr for whoever runs
// a command by hand.
package logging

import (
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"gopkg.in/natefinch/lumberjack.v2"
)

// Options selects the outputs.
type Options struct {
	File    string // JSON log file, rotated; empty for none
	Console bool   // human-readable lines on stderr
	Level   string // debug, info, warn, error; default info
	// Recent, when set, also keeps the latest warnings and errors that
	// pass Level, for the agent to send with its check-ins.
	Recent *Recent
}

// New returns a logger and a function that flushes it.
func New(o Options) (*zap.Logger, func(), error) {
	lvl := zapcore.InfoLevel
	if o.Level != "" {
		if err := lvl.UnmarshalText([]byte(o.Level)); err != nil {
			return nil, nil, fmt.Errorf("log level %q: want debug, info, warn or error", o.Level)
		}
	}
	var cores []zapcore.Core
	if o.File != "" {
		if err := os.MkdirAll(filepath.Dir(o.File), 0o755); err != nil {
			return nil, nil, fmt.Errorf("log directory: %w", err)
		}
		enc := zap.NewProductionEncoderConfig()
		enc.EncodeTime = zapcore.ISO8601TimeEncoder
		w := zapcore.AddSync(&lumberjack.Logger{Filename: o.File, MaxSize: 10, MaxBackups: 5, Compress: true})
		cores = append(cores, zapcore.NewCore(zapcore.NewJSONEncoder(enc), w, lvl))
	}
	if o.Console {
		enc := zap.NewDevelopmentEncoderConfig()
		enc.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05")
		enc.EncodeCaller = nil
		enc.StacktraceKey = ""
		cores = append(cores, zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(os.Stderr), lvl))
	}
	if o.Recent != nil {
		cores = append(cores, o.Recent.Core(lvl))
	}
	if len(cores) == 0 {
		return zap.NewNop(), func() {}, nil
	}
	l := zap.New(zapcore.NewTee(cores...))
	return l, func() { _ = l.Sync() }, nil
}

// Interactive reports whether f is a terminal (a character device): the
// daemon writes its short lines to stderr only then. Under launchd its
// stderr is a file nobody rotates, so there it logs only to its own rotated
// file.
func Interactive(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
