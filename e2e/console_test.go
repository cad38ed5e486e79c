package e2e

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// consoleTenant is a tenant served by the `serve` binary with its admin
// listener, one enrolled agent, and two console accounts.
type consoleTenant struct {
	t                 *testing.T
	data, state       string
	admin, deviceID   string
	spki              string // base64 SHA-256 of the server certificate's public key
	adminPW, auditPW  string
	deviceGroup, host string
}

func (c *consoleTenant) cli(stdin string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "mobileatwork-server"), append(args, "--data", c.data)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("mobileatwork-server %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// checkin runs one check-in of the agent, as its daemon would.
func (c *consoleTenant) checkin() {
	c.t.Helper()
	if _, stderr, code := run(c.t, "mobileatwork", "checkin", "--state-dir", c.state); code != 0 {
		c.t.Fatalf("checkin: %s", stderr)
	}
}

// browser is Chromium at 1440×900 trusting the tenant's certificate by its
// SPKI, with shot (a screenshot without the toast) and hash (go to a page).
func (c *consoleTenant) browser(t *testing.T) (b *cdpBrowser, shot, hash func(string)) {
	shots := screenshotDir(t)
	b = startCDP(t, 1440, 900, "--ignore-certificate-errors-spki-list="+c.spki)
	shot = func(name string) {
		b.eval(`document.getElementById('toast').hidden = true`, nil)
		t.Logf("screenshot %s", b.screenshot(shots, name))
	}
	hash = func(h string) { b.eval(`location.hash = `+js(h), nil) }
	return b, shot, hash
}

func newConsoleTenant(t *testing.T) *consoleTenant {
	t.Helper()
	work := t.TempDir()
	c := &consoleTenant{t: t, data: filepath.Join(work, "data"), state: filepath.Join(work, "state"),
		adminPW: "correct horse battery staple", auditPW: "auditors read everything", deviceGroup: "lab"}
	c.cli("", "init")
	c.cli(c.adminPW+"\n", "admin", "add", "ada", "--role", "admin", "--password-stdin")
	c.cli(c.auditPW+"\n", "admin", "add", "audrey", "--role", "auditor", "--password-stdin")

	addrFile, adminFile := filepath.Join(work, "addr"), filepath.Join(work, "admin-addr")
	srv := exec.Command(filepath.Join(binDir, "mobileatwork-server"), "serve", "--data", c.data, "--log-level", "warn",
		"--listen", "127.0.0.1:0", "--addr-file", addrFile, "--admin-listen", "127.0.0.1:0", "--admin-addr-file", adminFile)
	if testing.Verbose() {
		srv.Stderr = os.Stderr
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	read := func(f string) string {
		var s string
		waitFor(t, 10*time.Second, "the server to write "+filepath.Base(f), func() (bool, error) {
			b, err := os.ReadFile(f)
			s = strings.TrimSpace(string(b))
			return err == nil && s != "", nil
		})
		return s
	}
	addr := read(addrFile)
	c.admin = "https://" + read(adminFile)

	tok := lastLine(c.cli("", "token", "create", "--user", "ada@example.com"))
	out, stderr, code := run(t, "mobileatwork", "enroll", "--server", "https://"+addr, "--token", tok, "--state-dir", c.state)
	if code != 0 {
		t.Fatalf("enroll: %s", stderr)
	}
	c.deviceID = lastLine(out)
	c.cli("", "groups", c.deviceID, c.deviceGroup)
	c.checkin()
	var devs []struct {
		Facts struct {
			Hostname string `json:"hostname"`
		} `json:"facts"`
	}
	if err := json.Unmarshal([]byte(c.cli("", "devices", "--json")), &devs); err != nil || len(devs) != 1 {
		t.Fatalf("devices: %v %+v", err, devs)
	}
	c.host = devs[0].Facts.Hostname

	// The browser trusts the admin listener's certificate by its public
	// key, and only that certificate.
	pemBytes, err := os.ReadFile(filepath.Join(c.data, "pki", "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		t.Fatal("pki/tls.crt holds no certificate")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	c.spki = base64.StdEncoding.EncodeToString(sum[:])
	return c
}

// key sends one key press; Enter also types "\r", which is what submits
// forms and activates buttons.
func (b *cdpBrowser) key(key string) {
	codes := map[string]int{"Tab": 9, "Enter": 13, "Escape": 27, "ArrowUp": 38, "ArrowDown": 40, "ArrowLeft": 37, "ArrowRight": 39}
	down := map[string]any{"type": "rawKeyDown", "key": key, "code": key, "windowsVirtualKeyCode": codes[key], "nativeVirtualKeyCode": codes[key]}
	if key == "Enter" {
		down["type"], down["text"] = "keyDown", "\r"
	}
	b.must(b.session, "Input.dispatchKeyEvent", down, nil)
	b.must(b.session, "Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": key, "code": key, "windowsVirtualKeyCode": codes[key], "nativeVirtualKeyCode": codes[key]}, nil)
}

// tabUntil presses Tab until the focused element matches the CSS selector.
func (b *cdpBrowser) tabUntil(selector string, max int) {
	b.t.Helper()
	for range max {
		b.key("Tab")
		var ok bool
		if b.eval(fmt.Sprintf(`document.activeElement && document.activeElement.matches(%q)`, selector), &ok); ok {
			return
		}
	}
	var at string
	b.eval(`document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : ''`, &at)
	b.t.Fatalf("Tab never reached %s; focus is on %s", selector, at)
}

// focusVisible fails unless the focused element shows a focus ring.
func (b *cdpBrowser) focusVisible(what string) {
	b.t.Helper()
	var outline string
	b.eval(`getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).outlineWidth`, &outline)
	if !strings.HasPrefix(outline, "solid") || strings.HasSuffix(outline, " 0px") {
		b.t.Fatalf("%s: focus outline %q, want a visible ring", what, outline)
	}
}

func js(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestConsoleInChromium drives the web console of the admin listener in
// headless Chromium, as administrators use it: sign-in and its refusal,
// the portal's steps to add a Mobile@Work and a script configuration with
// the live reach preview, a device page updated live by a check-in with
// the run's output shown as text, the keyboard alone through the add
// flow, an auditor refused by the server, and an ended session.
func TestConsoleInChromium(t *testing.T) {
	t.Parallel()
	c := newConsoleTenant(t)
	b, shot, hash := c.browser(t)

	// Sign in: a wrong password is refused in the server's words.
	b.navigate(c.admin + "/")
	b.waitFor("the sign-in form", `document.getElementById('signin-name') !== null`)
	signIn := func(name, pw string) {
		b.eval(fmt.Sprintf(`document.getElementById('signin-name').value = %s; document.getElementById('signin-password').value = %s; document.getElementById('signin-submit').click()`, js(name), js(pw)), nil)
	}
	signIn("ada", "not the password")
	b.waitFor("the refusal", `document.querySelector('#signin-message .error') && document.querySelector('#signin-message .error').dataset.code === 'unauthenticated'`)
	signIn("ada", c.adminPW)
	b.waitFor("the dashboard", `document.getElementById('dash-devices') && document.getElementById('dash-devices').textContent === '1'`)
	b.waitFor("the account shown", `document.getElementById('whoami').textContent === 'ada · admin'`)
	b.waitFor("the check-in age", `document.querySelector('#dash-ages li[data-label="within an hour"]').dataset.count === '1'`)

	// A script uploaded from the repository page. Its output holds markup,
	// which the console must show as text.
	hash("#/scripts/new")
	b.waitFor("the upload form", `document.getElementById('script-name') !== null`)
	b.eval(`document.getElementById('script-name').value = 'hello';
		document.getElementById('script-body').value = '#!/bin/sh\necho "hello <b>console</b> $MAW_INPUT_WHO"\n';
		document.getElementById('script-inputs').value = 'Who:who=world';
		document.getElementById('script-save').click()`, nil)
	b.waitFor("the script's page", `document.getElementById('page-title').textContent === 'hello' && document.getElementById('script-text').textContent.includes('hello <b>console</b>')`)

	// + Add, search "work", the Mobile@Work configuration, its fields.
	hash("#/configurations")
	b.waitFor("the configurations list", `document.getElementById('cfg-add') !== null && document.body.innerText.includes('default')`)
	b.eval(`document.getElementById('cfg-add').click()`, nil)
	b.waitFor("the chooser", `document.getElementById('cfg-search') !== null`)
	b.eval(`const s = document.getElementById('cfg-search'); s.value = 'work'; s.dispatchEvent(new Event('input'))`, nil)
	b.waitFor("both kinds found by 'work'", `document.querySelectorAll('#cfg-choices a').length === 2`)
	b.eval(`document.querySelector('#cfg-choices a[data-kind=mobileatwork]').click()`, nil)
	b.waitFor("the Mobile@Work fields", `document.getElementById('set-max_execution_seconds') && document.getElementById('set-max_execution_seconds').value === '60'`)
	b.waitFor("onboarding fields hidden until enabled", `document.getElementById('set-onboarding-landing_url').closest('.field').hidden`)
	b.eval(`document.getElementById('cfg-name').value = 'Lab Macs';
		document.getElementById('cfg-description').value = 'Longer scripts in the lab';
		document.getElementById('set-max_execution_seconds').value = '120';
		document.getElementById('set-checkin_interval_minutes').value = '5';
		document.getElementById('cfg-next').click()`, nil)
	// Distribution: custom, the Device groups tab, the lab group; the
	// server's dry run says how many devices that reaches.
	b.waitFor("the distribution step", `document.getElementById('dist-form') !== null && document.getElementById('reach').dataset.count === '0'`)
	b.eval(`document.getElementById('level-custom').click()`, nil)
	b.waitFor("the tabs", `!document.getElementById('custom').hidden && document.querySelectorAll('[role=tab]').length === 4`)
	b.eval(`document.getElementById('tab-3').click()`, nil)
	b.waitFor("the device groups tab", `!document.getElementById('panel-3').hidden && document.querySelector('#panel-3 input[value="group:lab"]') !== null`)
	b.eval(`document.querySelector('#panel-3 input[value="group:lab"]').click()`, nil)
	b.waitFor("the reach preview", `document.getElementById('reach').dataset.count === '1' && document.getElementById('reach').textContent === 'Reaches 1 device' && document.getElementById('reach-devices').textContent.includes(`+js(c.host)+`)`)
	shot("console-distribution-1440x900.png")
	b.resize(1024, 768)
	shot("console-distribution-1024x768.png")
	b.resize(1440, 900)
	b.eval(`document.getElementById('dist-done').click()`, nil)
	b.waitFor("the configuration's page", `document.getElementById('cfg-distribution') && document.getElementById('cfg-distribution').textContent === 'Custom: group:lab'`)
	b.waitFor("the device it reaches", `document.querySelector('#cfg-detail tr[data-id=`+js(c.deviceID)+`]') !== null`)

	// A script configuration of the uploaded script, to everyone.
	hash("#/configurations/new/script")
	b.waitFor("the script fields", `document.querySelector('#cfg-script option[value]:not([value=""])') !== null`)
	b.eval(`const f = document.getElementById('cfg-script-search'); f.value = 'hel'; f.dispatchEvent(new Event('input'))`, nil)
	b.waitFor("the script picked and its input", `document.getElementById('in-who') && document.getElementById('in-who').value === 'world'`)
	b.eval(`document.getElementById('cfg-name').value = 'Say hello';
		document.getElementById('in-who').value = 'console';
		document.getElementById('cfg-next').click()`, nil)
	b.waitFor("the distribution step", `document.getElementById('dist-form') !== null`)
	b.eval(`document.getElementById('level-all').click()`, nil)
	b.waitFor("the reach of everyone", `document.getElementById('reach').dataset.count === '1'`)
	b.eval(`document.getElementById('dist-done').click()`, nil)
	b.waitFor("the script configuration's page", `document.getElementById('cfg-distribution') && document.getElementById('cfg-distribution').textContent === 'Everyone' && document.body.innerText.includes('who=console')`)

	// The device page, open while the device checks in: the result comes
	// in over the event stream, without a reload.
	hash("#/devices/" + c.deviceID)
	b.waitFor("the device page", `document.getElementById('page-title').textContent === `+js(c.host)+` && document.documentElement.dataset.live === 'on'`)
	b.eval(`window.__sameLoad = true`, nil)
	c.checkin()
	b.waitFor("the result, live", `window.__sameLoad === true && document.querySelector('#dev-results .pill.s-succeeded') !== null`)
	b.waitFor("the configurations' statuses", `document.getElementById('device').innerText.includes('Lab Macs') && document.getElementById('device').innerText.includes('Say hello')`)
	shot("console-device-1440x900.png")
	b.eval(`document.getElementById('dev-configs').scrollIntoView()`, nil)
	shot("console-device-results-1440x900.png")
	b.resize(1024, 768)
	b.eval(`scrollTo(0, 0)`, nil)
	shot("console-device-1024x768.png")
	var sideways bool
	b.eval(`document.documentElement.scrollWidth > window.innerWidth`, &sideways)
	if sideways {
		t.Error("the device page scrolls sideways at 1024×768")
	}
	b.resize(1440, 900)
	b.eval(`scrollTo(0, 0)`, nil)
	b.eval(`document.querySelector('#dev-results button[data-run]').click()`, nil)
	b.waitFor("the output viewer", `document.getElementById('out-stdout') !== null`)
	var out struct {
		Text  string `json:"text"`
		Elems int    `json:"elems"`
	}
	b.eval(`({text: document.getElementById('out-stdout').textContent, elems: document.getElementById('out-stdout').children.length})`, &out)
	if out.Text != "hello <b>console</b> console\n" || out.Elems != 0 {
		t.Fatalf("stdout shown as %q with %d elements; want the text as the script printed it", out.Text, out.Elems)
	}
	b.key("Escape")
	b.waitFor("Escape closes the viewer", `document.querySelector('dialog') === null`)

	// Run now from the device page: the page waits for the result and
	// shows it when the device has run it.
	b.eval(`const rs = document.getElementById('run-script'); rs.value = [...rs.options].find(o => o.text === 'hello').value; document.getElementById('run-now').click()`, nil)
	b.waitFor("the run asked for", `document.getElementById('run-status').dataset.state === 'waiting'`)
	c.checkin()
	b.waitFor("the run's result, live", `window.__sameLoad === true && document.getElementById('run-status').dataset.state === 'succeeded' && document.querySelectorAll('#dev-results .pill.s-succeeded').length === 2`)

	hash("#/")
	b.waitFor("the dashboard's results", `document.querySelector('#dash-statuses li[data-status=succeeded]') && document.querySelector('#dash-statuses li[data-status=succeeded]').dataset.count === '2'`)
	shot("console-dashboard-1440x900.png")
	b.resize(1024, 768)
	shot("console-dashboard-1024x768.png")
	var overflow bool
	b.eval(`document.documentElement.scrollWidth > window.innerWidth`, &overflow)
	if overflow {
		t.Error("the dashboard scrolls sideways at 1024×768")
	}
	b.resize(1440, 900)

	// The keyboard alone: + Add, search, the Mobile@Work kind, a name,
	// Enter, everyone, Done; then Escape out of the delete confirmation.
	hash("#/configurations")
	b.waitFor("the list", `document.getElementById('cfg-add') !== null`)
	b.eval(`document.activeElement.blur()`, nil)
	b.tabUntil("#cfg-add", 20)
	b.focusVisible("+ Add")
	b.key("Enter")
	b.waitFor("the chooser", `location.hash === '#/configurations/new' && document.activeElement.id === 'page-title'`)
	b.tabUntil("#cfg-search", 3)
	b.typeText("work")
	b.key("Enter")
	b.waitFor("the form", `location.hash === '#/configurations/new/mobileatwork' && document.getElementById('cfg-name') !== null`)
	b.tabUntil("#cfg-name", 3)
	b.focusVisible("the name field")
	b.typeText("Typed by keyboard")
	b.key("Enter")
	b.waitFor("the distribution step", `document.getElementById('dist-form') !== null && document.getElementById('reach').dataset.count === '0'`)
	b.tabUntil("input[name=level]", 5)
	b.key("ArrowUp") // from "To no one" to "To everyone"
	b.waitFor("everyone chosen by arrow key", `document.getElementById('level-all').checked && document.getElementById('reach').dataset.count === '1'`)
	b.tabUntil("#dist-done", 10)
	b.key("Enter")
	b.waitFor("the new configuration", `document.getElementById('page-title').textContent === 'Typed by keyboard' && document.getElementById('cfg-distribution').textContent === 'Everyone'`)
	b.eval(`document.activeElement.blur()`, nil)
	b.tabUntil("#cfg-delete", 40)
	b.key("Enter")
	b.waitFor("the confirmation", `document.querySelector('dialog[open]') !== null`)
	b.key("Escape")
	b.waitFor("Escape cancels and focus returns", `document.querySelector('dialog') === null && document.activeElement.id === 'cfg-delete'`)
	if got := c.cli("", "config", "show", "Typed by keyboard", "--json"); !strings.Contains(got, `"Typed by keyboard"`) {
		t.Fatalf("the configuration is gone after Escape: %s", got)
	}

	// Nothing came from elsewhere.
	var external []string
	b.eval(`performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))`, &external)
	if len(external) > 0 {
		t.Fatalf("external requests: %v", external)
	}

	// An auditor reads, sees no change button, and a change it tries
	// anyway is refused by the server, whose words the page shows.
	b.eval(`document.getElementById('signout').click()`, nil)
	b.waitFor("signed out", `document.getElementById('signin-name') !== null && document.getElementById('top').hidden`)
	signIn("audrey", c.auditPW)
	b.waitFor("signed in as auditor", `document.getElementById('whoami').textContent === 'audrey · auditor'`)
	hash("#/configurations")
	b.waitFor("the list without + Add", `document.body.innerText.includes('Lab Macs') && document.getElementById('cfg-add') === null`)
	hash("#/configurations/new/mobileatwork")
	b.waitFor("the form", `document.getElementById('cfg-name') !== null`)
	b.eval(`document.getElementById('cfg-name').value = 'Not allowed'; document.getElementById('cfg-next').click()`, nil)
	b.waitFor("the server's 403", `document.querySelector('#cfg-message .error[data-code=forbidden]') && document.querySelector('#cfg-message .error').textContent.includes('auditor role may not')`)
	shot("console-auditor-refused-1440x900.png")
	if got := c.cli("", "configs", "--json"); strings.Contains(got, "Not allowed") {
		t.Fatal("the auditor's configuration was created")
	}

	// A session that ended sends the console back to sign in.
	b.must(b.session, "Network.clearBrowserCookies", nil, nil)
	hash("#/devices")
	b.waitFor("back to sign in", `document.getElementById('signin-name') !== null && document.getElementById('signin-message').textContent.includes('session has ended')`)
	signIn("audrey", c.auditPW)
	b.waitFor("back where it was", `location.hash === '#/devices' && document.querySelector('#devices tr[data-id=`+js(c.deviceID)+`]') !== null`)
}

// TestConsoleEditsInChromium drives the changes after the first add: a
// script's new version and the diff between two, a configuration edited
// through its steps, withdrawn and deleted after confirmation, a refusal
// of the server (a script in use), the results and apps pages, and the
// lockout's refusal at sign-in.
func TestConsoleEditsInChromium(t *testing.T) {
	t.Parallel()
	c := newConsoleTenant(t)
	b, shot, hash := c.browser(t)
	signIn := func(name, pw string) {
		b.eval(fmt.Sprintf(`document.getElementById('signin-name').value = %s; document.getElementById('signin-password').value = %s; document.getElementById('signin-submit').click()`, js(name), js(pw)), nil)
	}
	b.navigate(c.admin + "/#/scripts")
	b.waitFor("the sign-in form", `document.getElementById('signin-name') !== null`)
	signIn("ada", c.adminPW)
	b.waitFor("the scripts page asked for", `location.hash === '#/scripts' && document.getElementById('script-add') !== null`)

	// A script, then a new version of it, then the diff of the two.
	body := filepath.Join(t.TempDir(), "report.sh")
	if err := os.WriteFile(body, []byte("#!/bin/sh\necho one\necho two\necho three\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.cli("", "script", "add", "--name", "report", "--file", body)
	b.eval(`location.reload()`, nil)
	b.waitFor("the script listed", `[...document.querySelectorAll('a')].some(a => a.textContent === 'report')`)
	b.eval(`[...document.querySelectorAll('a')].find(a => a.textContent === 'report').click()`, nil)
	b.waitFor("its text", `document.getElementById('script-text') && document.getElementById('script-text').textContent.includes('echo two')`)
	b.eval(`document.getElementById('script-edit-open').click()`, nil)
	b.waitFor("the editor", `document.getElementById('script-body') && document.getElementById('script-body').value.includes('echo two')`)
	b.eval(`const a = document.getElementById('script-body'); a.value = a.value.replace('echo two', 'echo 2').replace('echo three\n', 'echo three\necho four\n'); document.getElementById('script-save').click()`, nil)
	b.waitFor("version 2 with a comparison", `document.getElementById('diff-a') && document.getElementById('diff-a').value === '1' && document.getElementById('diff-b').value === '2'`)
	b.eval(`document.getElementById('diff-run').click()`, nil)
	b.waitFor("the diff", `document.getElementById('diff-summary') && document.getElementById('diff-summary').textContent === '2 lines added, 1 removed'`)
	var lines []string
	b.eval(`[...document.querySelectorAll('#diff-out pre span')].map(s => s.className + ':' + s.textContent.trimEnd())`, &lines)
	want := []string{"same:  #!/bin/sh", "same:  echo one", "del:- echo two", "add:+ echo 2", "same:  echo three", "add:+ echo four"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Fatalf("diff lines %q, want %q", lines, want)
	}
	shot("console-script-diff-1440x900.png")

	// A script configuration uses it: deleting the script is refused by
	// the server, which says why.
	c.cli("", "config", "add", "script", "--name", "Reports", "--script", "report")
	b.eval(`document.getElementById('script-delete').click()`, nil)
	b.waitFor("the confirmation", `document.getElementById('confirm-yes') !== null`)
	b.eval(`document.getElementById('confirm-yes').click()`, nil)
	b.waitFor("the refusal", `document.querySelector('#script-message .error') && document.querySelector('#script-message .error').textContent.includes('is used by "Reports"')`)

	// A configuration edited through its steps, then withdrawn, then
	// deleted, each time after a confirmation.
	c.cli("", "config", "add", "mobileatwork", "--name", "Office")
	hash("#/configurations")
	b.waitFor("the list", `[...document.querySelectorAll('a')].some(a => a.textContent === 'Office')`)
	b.eval(`[...document.querySelectorAll('a')].find(a => a.textContent === 'Office').click()`, nil)
	b.waitFor("its page", `document.getElementById('page-title').textContent === 'Office' && document.getElementById('cfg-edit') !== null`)
	b.eval(`document.getElementById('cfg-edit').click()`, nil)
	b.waitFor("the form filled in", `document.getElementById('cfg-name') && document.getElementById('cfg-name').value === 'Office' && document.getElementById('set-max_response_kb').value === '1'`)
	b.eval(`document.getElementById('set-max_response_kb').value = '4'; document.getElementById('set-onboarding-enabled').click()`, nil)
	b.waitFor("onboarding fields shown", `!document.getElementById('set-onboarding-landing_url').closest('.field').hidden`)
	b.eval(`document.getElementById('set-onboarding-landing_url').value = 'https://intranet.example.com/welcome'; document.getElementById('cfg-next').click()`, nil)
	b.waitFor("the distribution step", `document.getElementById('dist-form') !== null`)
	b.eval(`document.getElementById('level-custom').click(); document.getElementById('tab-2').click()`, nil)
	b.waitFor("the devices tab", `!document.getElementById('panel-2').hidden && document.querySelector('#panel-2 input[value="device:`+c.deviceID+`"]') !== null`)
	b.eval(`const s = document.querySelector('#panel-2 input[type=search]'); s.value = 'no such mac'; s.dispatchEvent(new Event('input'))`, nil)
	b.waitFor("the search narrows", `document.querySelector('#panel-2 .checklist').textContent === 'No match.'`)
	b.eval(`const s2 = document.querySelector('#panel-2 input[type=search]'); s2.value = ''; s2.dispatchEvent(new Event('input')); document.querySelector('#panel-2 input[value="device:`+c.deviceID+`"]').click()`, nil)
	b.waitFor("reach of one device", `document.getElementById('reach').dataset.count === '1'`)
	b.eval(`document.getElementById('dist-done').click()`, nil)
	b.waitFor("the edited page", `document.getElementById('cfg-distribution') && document.getElementById('cfg-distribution').textContent === 'Custom: device:`+c.deviceID+`' && document.querySelector('.sub').textContent.includes('version 2')`)
	var shown struct {
		Settings map[string]string `json:"settings"`
		Version  int               `json:"version"`
	}
	if err := json.Unmarshal([]byte(c.cli("", "config", "show", "Office", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Version != 2 || shown.Settings["max_response_kb"] != "4" || shown.Settings["onboarding.enabled"] != "true" ||
		shown.Settings["onboarding.landing_url"] != "https://intranet.example.com/welcome" || shown.Settings["max_execution_seconds"] != "60" {
		t.Fatalf("after the edit: version %d, settings %v", shown.Version, shown.Settings)
	}
	b.eval(`document.getElementById('cfg-priority').value = '1'; document.getElementById('cfg-priority-set').click()`, nil)
	b.waitFor("ranked first", `document.querySelector('.sub').textContent.includes('priority 1')`)
	shot("console-configuration-1440x900.png")
	b.eval(`document.getElementById('cfg-withdraw').click()`, nil)
	b.waitFor("the confirmation", `document.getElementById('confirm-yes') !== null`)
	b.eval(`document.getElementById('confirm-yes').click()`, nil)
	b.waitFor("withdrawn", `document.getElementById('cfg-distribution').textContent === 'No one'`)
	b.eval(`document.getElementById('cfg-delete').click()`, nil)
	b.waitFor("the confirmation", `document.getElementById('confirm-yes') !== null`)
	b.eval(`document.getElementById('confirm-yes').click()`, nil)
	b.waitFor("back to the list", `location.hash === '#/configurations' && document.querySelector('table') !== null && ![...document.querySelectorAll('a')].some(a => a.textContent === 'Office')`)

	// Devices searched by name, and filtered by group.
	hash("#/devices?search=" + c.host)
	b.waitFor("found by name", `document.querySelector('#devices tr[data-id=`+js(c.deviceID)+`]') !== null && document.getElementById('dev-search').value === `+js(c.host))
	hash("#/devices?search=no-such-mac")
	b.waitFor("no match", `document.querySelector('#devices .empty') !== null`)
	hash("#/devices?group=" + c.deviceGroup)
	b.waitFor("found by group", `document.querySelector('#devices tr[data-id=`+js(c.deviceID)+`]') !== null && document.getElementById('dev-group').value === `+js(c.deviceGroup))

	// Results, filtered; apps; the audit log or its absence.
	c.cli("", "config", "distribute", "Reports", "--to", "all")
	c.cli("", "config", "distribute", "default", "--to", "all")
	c.checkin()
	hash("#/results?status=succeeded")
	b.waitFor("a succeeded result", `document.querySelector('#results .pill.s-succeeded') !== null && document.getElementById('res-status').value === 'succeeded'`)
	shot("console-results-1440x900.png")
	hash("#/results?status=failed")
	b.waitFor("no failed result", `document.querySelector('#results .empty') !== null`)
	hash("#/apps")
	b.waitFor("the apps page", `document.getElementById('apps').textContent !== ''`)
	hash("#/audit")
	// The changes made through the console are in the log, under the
	// account that made them.
	b.waitFor("the audit page", `document.querySelector('#audit .error') === null && [...document.querySelectorAll('#audit tr')].some(tr => tr.textContent.includes('config.delete') && tr.textContent.includes('(account)'))`)
	shot("console-audit-1440x900.png")

	// Five wrong passwords lock the account: the right one is then refused
	// with the server's words.
	b.eval(`document.getElementById('signout').click()`, nil)
	b.waitFor("signed out", `document.getElementById('signin-name') !== null`)
	for range 5 {
		signIn("audrey", "wrong")
		b.waitFor("a refusal", `document.querySelector('#signin-message .error') !== null`)
		b.eval(`document.getElementById('signin-message').replaceChildren()`, nil)
	}
	signIn("audrey", c.auditPW)
	b.waitFor("the lockout", `document.querySelector('#signin-message .error') && document.querySelector('#signin-message .error').textContent.includes('account locked: too many failed logins; try again later')`)
	shot("console-signin-locked-1440x900.png")
}
