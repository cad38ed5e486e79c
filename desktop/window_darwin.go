//go:build darwin

package desktop

import (
	"context"
	"errors"
	"fmt"
	"structs"
	"sync"
	"unsafe"

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
	presentationDefault      = 0
	eventApplicationDefined  = 15 // NSEventTypeApplicationDefined

	kioskCollection = collectionCanJoinAllSpcs | collectionStationary | collectionFullScreenAux
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

func toRect(r nsRect) Rect { return Rect{r.Origin.X, r.Origin.Y, r.Size.W, r.Size.H} }

func fromRect(r Rect) nsRect {
	return nsRect{Origin: nsPoint{X: r.X, Y: r.Y}, Size: nsSize{W: r.W, H: r.H}}
}

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

// Show opens the kiosk window on pageURL, covers every other display with a
// shield, and runs the AppKit event loop until ctx is done. It then closes
// its windows, gives the Dock and menu bar back and returns, so the caller
// decides what comes next and with which exit status.
func (CocoaKiosk) Show(ctx context.Context, pageURL string) error {
	cls, err := windowClass()
	if err != nil {
		return err
	}
	if _, err := controllerClass(); err != nil {
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
// the user closes the window (or quits), which ends the process, or ctx is
// done, when it returns.
func (w CocoaWindow) Show(ctx context.Context, pageURL string) error {
	if _, err := windowClass(); err != nil { // loads AppKit and WebKit
		return err
	}
	if _, err := controllerClass(); err != nil {
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

var (
	controllerOnce sync.Once
	controllerCls  objc.Class
	screensChanged objc.ID // NSApplicationDidChangeScreenParametersNotification
	controllerErr  error
)

// controllerClass registers the object that AppKit calls back on the main
// thread: it ends the event loop for showPage and refits the kiosk when
// displays come, go or change resolution.
func controllerClass() (objc.Class, error) {
	controllerOnce.Do(func() {
		appKit, err := purego.Dlopen("/System/Library/Frameworks/AppKit.framework/AppKit", purego.RTLD_GLOBAL|purego.RTLD_NOW)
		if err == nil {
			var sym uintptr
			sym, err = purego.Dlsym(appKit, "NSApplicationDidChangeScreenParametersNotification")
			if err == nil {
				// The symbol is an NSString * const: read the pointer it holds.
				screensChanged = **(**objc.ID)(unsafe.Pointer(&sym))
			}
		}
		if err != nil {
			controllerErr = fmt.Errorf("%w: %v", ErrNoWindowServer, err)
			return
		}
		controllerCls, controllerErr = objc.RegisterClass("MAWKioskController", objc.GetClass("NSObject"), nil, nil, []objc.MethodDef{
			{Cmd: objc.RegisterName("stopRunning:"), Fn: stopRunning},
			{Cmd: objc.RegisterName("screensChanged:"), Fn: onScreensChanged},
		})
	})
	return controllerCls, controllerErr
}

// stopRunning ends [NSApp run] so that it returns to showPage. stop: takes
// effect once the loop has handled an event, hence the empty one posted
// first in the queue.
func stopRunning(_ objc.ID, _ objc.SEL, _ objc.ID) {
	sel := objc.RegisterName
	app := objc.ID(objc.GetClass("NSApplication")).Send(sel("sharedApplication"))
	app.Send(sel("stop:"), objc.ID(0))
	ev := objc.ID(objc.GetClass("NSEvent")).Send(
		sel("otherEventWithType:location:modifierFlags:timestamp:windowNumber:context:subtype:data1:data2:"),
		uint64(eventApplicationDefined), nsPoint{}, uint64(0), float64(0), int64(0), objc.ID(0), int16(0), int64(0), int64(0))
	app.Send(sel("postEvent:atStart:"), ev, true)
}

// onScreensChanged refits the kiosk on the main thread, where AppKit
// posts the notification; from any other thread it goes there first.
func onScreensChanged(self objc.ID, cmd objc.SEL, _ objc.ID) {
	if !objc.Send[bool](objc.ID(objc.GetClass("NSThread")), objc.RegisterName("isMainThread")) {
		self.Send(objc.RegisterName("performSelectorOnMainThread:withObject:waitUntilDone:"), cmd, objc.ID(0), false)
		return
	}
	if cover != nil {
		cover.fit()
	}
}

// kioskCover is the kiosk's windows: the page on the main screen and a
// shield on every other display.
type kioskCover struct {
	page    objc.ID
	shields []objc.ID
}

// cover is the kiosk showing, if any. Only the main thread touches it:
// showPage, and onScreensChanged, which AppKit calls from the event loop
// that showPage runs.
var cover *kioskCover

// fit puts the page over the main screen and shields over the others, as
// they are now.
func (c *kioskCover) fit() {
	sel := objc.RegisterName
	nsScreen := objc.ID(objc.GetClass("NSScreen"))
	main := nsScreen.Send(sel("mainScreen"))
	if main == 0 {
		return // no display for now: keep the windows where they are
	}
	mainFrame := objc.Send[nsRect](main, sel("frame"))
	c.page.Send(sel("setFrame:display:"), mainFrame, true)
	var frames []Rect
	screens := nsScreen.Send(sel("screens"))
	for i := range objc.Send[uint64](screens, sel("count")) {
		frames = append(frames, toRect(objc.Send[nsRect](screens.Send(sel("objectAtIndex:"), i), sel("frame"))))
	}
	c.closeShields()
	for _, f := range shieldFrames(frames, toRect(mainFrame)) {
		c.shields = append(c.shields, newShield(fromRect(f)))
	}
}

func (c *kioskCover) closeShields() {
	for _, s := range c.shields {
		closeWindow(s)
	}
	c.shields = nil
}

// newShield is a plain opaque window over frame, at the kiosk's level and
// in every space like the page. It takes the clicks on its display:
// ignoring mouse events would pass them to the windows below, and so to
// other apps. Being borderless, it never becomes key, so the page keeps
// the keyboard.
func newShield(frame nsRect) objc.ID {
	sel := objc.RegisterName
	w := objc.ID(objc.GetClass("NSWindow")).Send(sel("alloc")).Send(sel("initWithContentRect:styleMask:backing:defer:"),
		frame, uint64(styleMaskBorderless), uint64(backingStoreBuffered), false)
	w.Send(sel("setReleasedWhenClosed:"), false)
	w.Send(sel("setLevel:"), int64(screenSaverWindowLevel))
	w.Send(sel("setCollectionBehavior:"), uint64(kioskCollection))
	w.Send(sel("setMovable:"), false)
	w.Send(sel("setOpaque:"), true)
	w.Send(sel("setBackgroundColor:"), objc.ID(objc.GetClass("NSColor")).Send(sel("blackColor")))
	w.Send(sel("orderFront:"), objc.ID(0))
	return w
}

// closeWindow takes a window off screen and drops the reference its
// creator holds (windows here are not released when closed).
func closeWindow(w objc.ID) {
	w.Send(objc.RegisterName("close"))
	w.Send(objc.RegisterName("release"))
}

// activate brings the application forward: [NSApp activate] from macOS 14
// (cooperative activation), where activateIgnoringOtherApps: is
// deprecated; the older call before.
func activate(app objc.ID) {
	sel := objc.RegisterName
	if objc.Send[bool](app, sel("respondsToSelector:"), sel("activate")) {
		app.Send(sel("activate"))
		return
	}
	app.Send(sel("activateIgnoringOtherApps:"), true)
}

// showPage opens a window of w's kind on pageURL and runs the AppKit event
// loop until ctx is done, then closes its windows and returns. A regular
// window the user closes ends the process instead (its delegate quits).
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
	// This function owns the window and releases it after closing it:
	// AppKit must not free it on close as well.
	win.Send(sel("setReleasedWhenClosed:"), false)
	defer closeWindow(win)
	if w.kiosk {
		win.Send(sel("setLevel:"), screenSaverWindowLevel)
		win.Send(sel("setCollectionBehavior:"), uint64(kioskCollection))
		win.Send(sel("setMovable:"), false)
	} else {
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

	ctl := objc.ID(controllerCls).Send(sel("new"))
	defer ctl.Send(sel("release"))
	if w.kiosk {
		cover = &kioskCover{page: win}
		cover.fit()
		center := objc.ID(objc.GetClass("NSNotificationCenter")).Send(sel("defaultCenter"))
		center.Send(sel("addObserver:selector:name:object:"), ctl, sel("screensChanged:"), screensChanged, objc.ID(0))
		app.Send(sel("setPresentationOptions:"), uint64(kioskPresentation))
		defer func() {
			center.Send(sel("removeObserver:"), ctl)
			cover.closeShields()
			cover = nil
			app.Send(sel("setPresentationOptions:"), uint64(presentationDefault))
		}()
	}
	activate(app)

	// The watcher ends the event loop when ctx is done. It belongs to this
	// call: should the loop return otherwise, Close stops and waits for it
	// without stopping an event loop ctx did not end.
	g := routines.New(ctx)
	defer g.Close()
	g.Go(func(gctx context.Context) {
		<-gctx.Done()
		if ctx.Err() == nil {
			return
		}
		ctl.Send(sel("performSelectorOnMainThread:withObject:waitUntilDone:"), sel("stopRunning:"), objc.ID(0), false)
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
