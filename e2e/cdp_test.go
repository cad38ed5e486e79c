package e2e

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cdpBrowser drives headless Chromium through the DevTools protocol over
// --remote-debugging-pipe: JSON messages separated by NUL bytes on file
// descriptors 3 (to the browser) and 4 (from it). No websocket, no port,
// no download: the Debian chromium package is all it needs.
type cdpBrowser struct {
	t       *testing.T
	cmd     *exec.Cmd
	w       io.WriteCloser
	session string

	mu      sync.Mutex
	next    int
	pending map[int]chan cdpReply
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// chromiumPath is the Debian chromium the CI installs.
const chromiumPath = "/usr/bin/chromium"

// oneBrowser lets one Chromium run at a time: tests with a browser run in
// parallel with the others, but two browsers on a small CI machine starve
// each other past the protocol's timeouts.
var oneBrowser = make(chan struct{}, 1)

// startCDP launches Chromium with one page of the given size, or skips
// the test when Chromium is not installed; flags are added to its command
// line.
func startCDP(t *testing.T, width, height int, flags ...string) *cdpBrowser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless browser test needs %s (apt-get install chromium; .ci/run installs it)", chromiumPath)
	}
	oneBrowser <- struct{}{}
	t.Cleanup(func() { <-oneBrowser })
	toR, toW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromR, fromW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir=" + filepath.Join(t.TempDir(), "profile"),
		"--remote-debugging-pipe"}, flags...)
	cmd := exec.Command(chromiumPath, append(args, "about:blank")...)
	cmd.ExtraFiles = []*os.File{toR, fromW} // fds 3 and 4 of the browser
	// Its own process group, so that the renderers and other children it starts
	// go with it and leave its profile directory alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	toR.Close()
	fromW.Close()
	b := &cdpBrowser{t: t, cmd: cmd, w: toW, pending: map[int]chan cdpReply{}}
	go b.read(fromR)
	t.Cleanup(func() {
		b.call("", "Browser.close", nil)
		toW.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	})

	var created struct {
		TargetID string `json:"targetId"`
	}
	b.must("", "Target.createTarget", map[string]any{"url": "about:blank"}, &created)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.must("", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	b.resize(width, height)
	return b
}

func (b *cdpBrowser) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m struct {
			ID int `json:"id"`
			cdpReply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue // an event: not needed, the tests poll the DOM
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.cdpReply
		}
	}
}

// call sends one command (to the page when session is set) and waits.
func (b *cdpBrowser) call(session, method string, params any) (json.RawMessage, error) {
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan cdpReply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, _ := json.Marshal(msg)
	if _, err := b.w.Write(append(raw, 0)); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%s: browser exited", method)
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		return r.Result, nil
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("%s: no answer", method)
	}
}

func (b *cdpBrowser) must(session, method string, params, out any) {
	b.t.Helper()
	res, err := b.call(session, method, params)
	if err != nil {
		b.t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			b.t.Fatalf("%s: %v", method, err)
		}
	}
}

func (b *cdpBrowser) resize(w, h int) {
	b.must(b.session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": w, "height": h, "deviceScaleFactor": 1, "mobile": false}, nil)
}

func (b *cdpBrowser) navigate(url string) {
	b.must(b.session, "Page.navigate", map[string]any{"url": url}, nil)
}

var errJS = errors.New("script error")

// eval runs a JavaScript expression in the page and decodes its value.
func (b *cdpBrowser) eval(expr string, out any) error {
	res, err := b.call(b.session, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true,
	})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("%w: %s", errJS, r.Exception.Text)
	}
	if out != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal(r.Result.Value, out)
	}
	return nil
}

// waitFor polls a boolean expression until it holds, as the harness's
// waitFor does, and shows the page's text when it does not.
func (b *cdpBrowser) waitFor(what, expr string) {
	b.t.Helper()
	err := poll(10*time.Second, func() (bool, error) {
		var ok bool
		err := b.eval("Boolean("+expr+")", &ok)
		return ok, err
	})
	if err != nil {
		var body string
		b.eval("document.body ? document.body.innerText : ''", &body)
		b.t.Fatalf("waiting for %s: %v; page text:\n%s", what, err, body)
	}
}

// screenshot saves a PNG of the page and returns its path.
func (b *cdpBrowser) screenshot(dir, name string) string {
	b.t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	b.must(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return p
}
