package desktop

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

// Window shows a page in a regular window that the user may move, resize
// and close, as Apps@Work opens after registration. Show returns when the
// user closed it or ctx is done; a window handed to another application
// (a browser) returns once it is handed over.
type Window interface {
	Show(ctx context.Context, pageURL string) error
}

// BrowserWindow is the twin of the macOS window for systems without one:
// it opens the page in the desktop's browser with Opener or, without one,
// prints its address.
type BrowserWindow struct {
	Opener interface {
		Open(ctx context.Context, url string) error
	}
	Out io.Writer
}

// Show hands the page to the browser, or prints its address when that
// fails: the user can still open it.
func (w BrowserWindow) Show(ctx context.Context, pageURL string) error {
	if w.Opener != nil {
		if err := w.Opener.Open(ctx, pageURL); err == nil {
			return nil
		}
	}
	if w.Out != nil {
		fmt.Fprintf(w.Out, "Apps@Work: %s\n", pageURL)
	}
	return nil
}
