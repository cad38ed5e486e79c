package main

import (
	"fmt"
	"io"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// field prints "label: value" lines, aligned; values may come from
// devices, so they are written Printable.
func field(w io.Writer, label, value string) {
	fmt.Fprintf(w, "%-22s %s\n", label+":", cli.Printable(value))
}

// distributionText is "all", "none" or "custom: TARGET,...".
func distributionText(ts []distribution.Target) string {
	return distributionDocText(jsonview.NewDistribution(ts))
}

func stampOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return stamp(t)
}
