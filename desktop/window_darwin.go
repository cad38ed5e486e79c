//go:build darwin

package desktop

import (
	"context"
	"errors"
	"fmt"
	"structs"
	"sync"

	"github.com/ebitengine/purego"
	"github.com/ebitengine/purego/objc"

	"github.com/mobileatwork/mobileatwork/internal/routines"
)

// AppKit must run on the process's main thread: CocoaKiosk.Show must be
// called from the main goroutine of a program whose main package locked it
// to that thread in an init function (cmd/mobileatwork does), so a library
// does not pin the main goroutine of every program that imports it.

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
	styleMaskTitled          = 1 << 0
	styleMaskClosable        = 1 << 1
	styleMaskMiniaturizable  = 1 << 2
	styleMaskResizable       = 1 << 3
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
	return showPage(ctx, pageURL, webWindow{
		class: objc.Class(cls), title: "Setting up your Mac", style: styleMaskBorderless, kiosk: true,
	})
}

// CocoaWindow is a regular, titled NSWindow holding a WKWebView: the user
// moves, resizes and closes it, and closing it ends the process. It shares
// the kiosk's AppKit code without its presentation options. Show must be
// called from the main goroutine.
type CocoaWindow struct {
	Title string
}

// Show opens the window on pageURL and runs the AppKit event loop until
// the user closes the window (or quits) or ctx is done; either ends the
// process.
func (w CocoaWindow) Show(ctx context.Context, pageURL string) error {
	if _, err := windowClass(); err != nil { // loads AppKit and WebKit
		return err
	}
	dcls, err := delegateClass()
	if err != nil {
		return err
	}
	return showPage(ctx, pageURL, webWindow{
		class: objc.GetClass("NSWindow"), title: w.Title,
		style:    styleMaskTitled | styleMaskClosable | styleMaskMiniaturizable | styleMaskResizable,
		delegate: dcls,
	})
}

// webWindow is how showPage dresses its window.
type webWindow struct {
	class    objc.Class
	title    string
	style    uint64
	kiosk    bool       // full screen, above everything, presentation options
	delegate objc.Class // application delegate; 0 for none
}

// Size of the regular window: Apps@Work's grid at four tiles a row, and
// within the smallest screens the page supports (800×600).
const windowWidth, windowHeight = 1024, 720

var (
	delegateOnce sync.Once
	delegateCls  objc.Class
	delegateErr  error
)

// delegateClass registers the application delegate of the regular window:
// closing the last window quits, so the process ends with the window.
func delegateClass() (objc.Class, error) {
	delegateOnce.Do(func() {
		yes := func(objc.ID, objc.SEL, objc.ID) bool { return true }
		delegateCls, delegateErr = objc.RegisterClass("MAWWindowAppDelegate", objc.GetClass("NSObject"), nil, nil, []objc.MethodDef{
			{Cmd: objc.RegisterName("applicationShouldTerminateAfterLastWindowClosed:"), Fn: yes},
		})
	})
	return delegateCls, delegateErr
}

// showPage opens a window of w's kind on pageURL and runs the AppKit event
// loop, which does not return: the process ends when the application
// terminates (ctx done, or for a regular window, the user closed it).
func showPage(ctx context.Context, pageURL string, w webWindow) error {
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
	if !w.kiosk {
		frame = nsRect{Size: nsSize{W: min(windowWidth, frame.Size.W), H: min(windowHeight, frame.Size.H)}}
	}

	win := objc.ID(w.class).Send(sel("alloc")).Send(sel("initWithContentRect:styleMask:backing:defer:"),
		frame, w.style, backingStoreBuffered, false)
	if w.kiosk {
		win.Send(sel("setLevel:"), screenSaverWindowLevel)
		win.Send(sel("setCollectionBehavior:"), collectionCanJoinAllSpcs|collectionStationary|collectionFullScreenAux)
		win.Send(sel("setMovable:"), false)
	} else {
		// AppKit must not free the window on close: the process ends
		// right after, and nothing else owns it.
		win.Send(sel("setReleasedWhenClosed:"), false)
		win.Send(sel("setMinSize:"), nsSize{W: 800, H: 600})
		win.Send(sel("center"))
		app.Send(sel("setMainMenu:"), mainMenu(str))
		if w.delegate != 0 {
			// NSApplication does not retain its delegate; this one is
			// never released, and lives as long as the process.
			app.Send(sel("setDelegate:"), objc.ID(w.delegate).Send(sel("new")))
		}
	}
	win.Send(sel("setTitle:"), str(w.title))

	cfg := objc.ID(objc.GetClass("WKWebViewConfiguration")).Send(sel("new"))
	web := objc.ID(objc.GetClass("WKWebView")).Send(sel("alloc")).Send(sel("initWithFrame:configuration:"), frame, cfg)
	if web == 0 {
		return fmt.Errorf("%w: WKWebView unavailable", ErrNoWindowServer)
	}
	u := objc.ID(objc.GetClass("NSURL")).Send(sel("URLWithString:"), str(pageURL))
	if u == 0 {
		return fmt.Errorf("show page: invalid page URL")
	}
	web.Send(sel("loadRequest:"), objc.ID(objc.GetClass("NSURLRequest")).Send(sel("requestWithURL:"), u))
	win.Send(sel("setContentView:"), web)
	win.Send(sel("makeKeyAndOrderFront:"), objc.ID(0))
	win.Send(sel("makeFirstResponder:"), web)

	if w.kiosk {
		app.Send(sel("setPresentationOptions:"), uint64(kioskPresentation))
	}
	app.Send(sel("activateIgnoringOtherApps:"), true)

	// The watcher ends the event loop when ctx is done. It belongs to this
	// call: should the loop ever return, Close stops and waits for it,
	// without terminating an application ctx did not end.
	g := routines.New(ctx)
	defer g.Close()
	g.Go(func(gctx context.Context) {
		<-gctx.Done()
		if ctx.Err() != nil {
			app.Send(sel("performSelectorOnMainThread:withObject:waitUntilDone:"), sel("terminate:"), objc.ID(0), false)
		}
	})
	app.Send(sel("run"))
	return nil
}

// mainMenu is the smallest menu bar a regular window needs: Close (Cmd-W)
// and Quit (Cmd-Q), and the Edit commands, so that copy, paste and select
// all work in the page's search field.
func mainMenu(str func(string) objc.ID) objc.ID {
	sel := objc.RegisterName
	menu := func(title string) objc.ID {
		return objc.ID(objc.GetClass("NSMenu")).Send(sel("alloc")).Send(sel("initWithTitle:"), str(title))
	}
	item := func(m objc.ID, title, action, key string) {
		it := objc.ID(objc.GetClass("NSMenuItem")).Send(sel("alloc")).Send(sel("initWithTitle:action:keyEquivalent:"),
			str(title), sel(action), str(key))
		m.Send(sel("addItem:"), it)
	}
	submenu := func(bar, m objc.ID) {
		it := objc.ID(objc.GetClass("NSMenuItem")).Send(sel("new"))
		it.Send(sel("setSubmenu:"), m)
		bar.Send(sel("addItem:"), it)
	}
	bar := menu("")
	appMenu := menu("Apps@Work")
	item(appMenu, "Close Window", "performClose:", "w")
	item(appMenu, "Quit Apps@Work", "terminate:", "q")
	edit := menu("Edit")
	item(edit, "Undo", "undo:", "z")
	item(edit, "Cut", "cut:", "x")
	item(edit, "Copy", "copy:", "c")
	item(edit, "Paste", "paste:", "v")
	item(edit, "Select All", "selectAll:", "a")
	submenu(bar, appMenu)
	submenu(bar, edit)
	return bar
}

// DefaultKiosk is the macOS kiosk window.
func DefaultKiosk() Kiosk { return CocoaKiosk{} }

// DefaultPageWindow is a regular macOS window titled title.
func DefaultPageWindow(title string) Window { return CocoaWindow{Title: title} }
