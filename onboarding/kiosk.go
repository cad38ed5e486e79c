package onboarding

import (
	"context"
	"fmt"
	"io"
)

// Kiosk shows the progress page so that the user cannot leave it until
// onboarding ends. Show blocks until ctx is done.
type Kiosk interface {
	Show(ctx context.Context, pageURL string) error
}

// BrowserKiosk is the twin of the macOS kiosk window for systems without
// one: it prints the page's address for a browser and waits.
type BrowserKiosk struct {
	Out io.Writer
}

// Show prints the address and waits until ctx is done.
func (k BrowserKiosk) Show(ctx context.Context, pageURL string) error {
	if k.Out != nil {
		fmt.Fprintf(k.Out, "onboarding progress: %s\n", pageURL)
	}
	<-ctx.Done()
	return nil
}
