package agent

import (
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/trigger"
	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// staleTemp is how old a temp file of an interrupted write must be before
// the agent removes it: under the state lock nothing else writes these
// directories, the margin only spares a clock that jumped.
const staleTemp = 10 * time.Minute

// sweep removes the temp files of writes a crash interrupted.
func (a *Agent) sweep() {
	for _, dir := range []string{a.o.StateDir, filepath.Join(a.o.StateDir, outboxDir), filepath.Join(a.o.StateDir, ledgerDir), filepath.Join(a.o.StateDir, trigger.SpoolDir)} {
		n, err := atomicfile.Sweep(dir, staleTemp, time.Now())
		if err != nil {
			a.o.Log.Warn("sweep interrupted writes", zap.String("dir", dir), zap.Error(err))
		}
		if n > 0 {
			a.o.Log.Info("removed temp files of interrupted writes", zap.String("dir", dir), zap.Int("files", n))
		}
	}
}
