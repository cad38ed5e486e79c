//go:build darwin

package onboarding

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"structs"
	"sync"

	"github.com/ebitengine/purego"
	"github.com/ebitengine/purego/objc"
)

// AppKit must run on the process's main thread; the main goroutine starts
// there, and locking it here keeps it there for CocoaKiosk.Show.
func init() { runtime.LockOSThread() }

// NSApplicationPresentationOptions of the kiosk: no Dock or menu bar to
// reach other apps, no Cmd-Tab or Mission Control switching, no Force Quit
// panel (Cmd-Opt-Esc), no log out or restart from the Apple menu, no
// Cmd-H. AppKit requires HideDock for the others to be accepted.
const (
	presentationHideDock                  = 1 << 1
	presentationHideMenuBar               = 1 << 3
	presentationDisableProcessSwitching   = 1 << 5
	presentationDisableForceQuit          = 1 << 6
	presentationDisableSessionTermination = 1 << 7
	presentationDisableHideApplication    = 1 << 8

	kioskPresentation = presentationHideDock | presentationHideMenuBar | presentationDisableProcessSwitching |
		presentationDisableForceQuit | presentationDisableSessionTermination | presentationDisableHideApplication
)

const (
	activationPolicyRegular  = 0
	styleMaskBorderless      = 0
	backingStoreBuffered     = 2
	screenSaverWindowLevel   = 1000 // above the Dock and the menu bar
	collectionCanJoinAllSpcs = 1 << 0
	collectionStationary     = 1 << 4 // Mission Control leaves it in place
	collectionFullScreenAux  = 1 << 8
)

type nsPoint struct {
	_    structs.HostLayout
	X, Y float64
}

type nsSize struct {
	_    structs.HostLayout
	W, H float64
}

type nsRect struct {
	_      structs.HostLayout
	Origin nsPoint
	Size   nsSize
}

// ErrNoWindowServer is returned when AppKit or WebKit cannot be loaded,
// e.g. when the kiosk is started outside a GUI login session.
var ErrNoWindowServer = errors.New("no window server: the kiosk must run in the console user's GUI session")

// CocoaKiosk is a borderless, full-screen NSWindow holding a WKWebView of
// the progress page, driven through the Objective-C runtime with purego
// (no cgo). Show must be called from the main goroutine.
type CocoaKiosk struct{}

var (
	kioskOnce  sync.Once
	kioskClass objc.Class
	kioskErr   error
)

// windowClass registers an NSWindow subclass that may become key: a
// borderless window otherwise refuses keyboard focus, and the page must be
// usable with the keyboard.
func windowClass() (objc.Class, error) {
	kioskOnce.Do(func() {
		for _, fw := range []string{
			"/System/Library/Frameworks/AppKit.framework/AppKit",
			"/System/Library/Frameworks/WebKit.framework/WebKit",
		} {
			if _, err := purego.Dlopen(fw, purego.RTLD_GLOBAL|purego.RTLD_NOW); err != nil {
				kioskErr = fmt.Errorf("%w: load %s: %v", ErrNoWindowServer, fw, err)
				return
			}
		}
		yes := func(objc.ID, objc.SEL) bool { return true }
		kioskClass, kioskErr = objc.RegisterClass("MAWKioskWindow", objc.GetClass("NSWindow"), nil, nil, []objc.MethodDef{
			{Cmd: objc.RegisterName("canBecomeKeyWindow"), Fn: yes},
			{Cmd: objc.RegisterName("canBecomeMainWindow"), Fn: yes},
		})
	})
	return kioskClass, kioskErr
}

// Show opens the kiosk window on pageURL and runs the AppKit event loop.
// When ctx is done the application terminates, which ends the process:
// AppKit's loop does not return to its caller.
func (CocoaKiosk) Show(ctx context.Context, pageURL string) error {
	cls, err := windowClass()
	if err != nil {
		return err
	}
	sel := objc.RegisterName
	str := func(s string) objc.ID {
		return objc.ID(objc.GetClass("NSString")).Send(sel("stringWithUTF8String:"), s)
	}
	app := objc.ID(objc.GetClass("NSApplication")).Send(sel("sharedApplication"))
	if app == 0 {
		return ErrNoWindowServer
	}
	app.Send(sel("setActivationPolicy:"), activationPolicyRegular)
	screen := objc.ID(objc.GetClass("NSScreen")).Send(sel("mainScreen"))
	if screen == 0 {
		return ErrNoWindowServer
	}
	frame := objc.Send[nsRect](screen, sel("frame"))

	win := objc.ID(cls).Send(sel("alloc")).Send(sel("initWithContentRect:styleMask:backing:defer:"),
		frame, styleMaskBorderless, backingStoreBuffered, false)
	win.Send(sel("setLevel:"), screenSaverWindowLevel)
	win.Send(sel("setCollectionBehavior:"), collectionCanJoinAllSpcs|collectionStationary|collectionFullScreenAux)
	win.Send(sel("setMovable:"), false)
	win.Send(sel("setTitle:"), str("Setting up your Mac"))

	cfg := objc.ID(objc.GetClass("WKWebViewConfiguration")).Send(sel("new"))
	web := objc.ID(objc.GetClass("WKWebView")).Send(sel("alloc")).Send(sel("initWithFrame:configuration:"), frame, cfg)
	if web == 0 {
		return fmt.Errorf("%w: WKWebView unavailable", ErrNoWindowServer)
	}
	u := objc.ID(objc.GetClass("NSURL")).Send(sel("URLWithString:"), str(pageURL))
	if u == 0 {
		return fmt.Errorf("kiosk: invalid page URL")
	}
	web.Send(sel("loadRequest:"), objc.ID(objc.GetClass("NSURLRequest")).Send(sel("requestWithURL:"), u))
	win.Send(sel("setContentView:"), web)
	win.Send(sel("makeKeyAndOrderFront:"), objc.ID(0))
	win.Send(sel("makeFirstResponder:"), web)

	app.Send(sel("setPresentationOptions:"), uint64(kioskPresentation))
	app.Send(sel("activateIgnoringOtherApps:"), true)

	go func() {
		<-ctx.Done()
		app.Send(sel("performSelectorOnMainThread:withObject:waitUntilDone:"), sel("terminate:"), objc.ID(0), false)
	}()
	app.Send(sel("run"))
	return nil
}

// DefaultKiosk is the macOS kiosk window.
func DefaultKiosk() Kiosk { return CocoaKiosk{} }
