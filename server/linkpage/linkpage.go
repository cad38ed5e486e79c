// Package linkpage is the page of a download link on the public
// enrollment listener: what it is, the organisation, a Download button, or
// in plain words why the link no longer works. It needs no script, loads
// nothing from elsewhere, and is served under a strict CSP.
package linkpage

import (
	_ "embed"
	"html/template"
	"net/http"
)

// The states a page shows, the store's link states and two of its own.
const (
	Active      = "active"
	Used        = "used"
	Expired     = "expired"
	Revoked     = "revoked"
	Unknown     = "unknown"     // no such link, or not a link at all: the same words
	Unavailable = "unavailable" // the package cannot be built now
)

// CSSPath is where the page's style sheet is served.
const CSSPath = "/static/link.css"

//go:embed web/link.html
var pageHTML string

//go:embed web/link.css
var css []byte

var page = template.Must(template.New("link").Parse(pageHTML))

// Page is what one page shows.
type Page struct {
	State        string
	Organization string
	Heading      string
	Message      string
	Download     string // the package's path; set only on an active link
	SHA256       string // once the package is built
}

// words are the heading and message of each state.
var words = map[string][2]string{
	Active:      {"Register your Mac", "Download the Mobile@Work installer to register this Mac with your organisation."},
	Used:        {"This link has been used", "This download link has been used as many times as it allows. Ask your IT team for a new one."},
	Expired:     {"This link has expired", "This download link is no longer valid. Ask your IT team for a new one."},
	Revoked:     {"This link was withdrawn", "Your IT team withdrew this download link. Ask them for a new one."},
	Unknown:     {"This link is not valid", "There is no download at this address. Check that you opened the whole link from your message, or ask your IT team for a new one."},
	Unavailable: {"The download is not available", "The installer cannot be prepared right now. Try again later; if it goes on, tell your IT team."},
}

// For is the page of a state, in the organisation's name.
func For(state, organization string) Page {
	w, ok := words[state]
	if !ok {
		state, w = Unknown, words[Unknown]
	}
	return Page{State: state, Organization: organization, Heading: w[0], Message: w[1]}
}

// Text is the message of a state alone, for logs and the download route.
func Text(state string) string { return For(state, "").Message }

// SetHeaders sets what every response of the listener carries: a CSP that
// allows only the style sheet, no referrer (the address holds the link's
// secret), no caching, no framing, no sniffing.
func SetHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
}

// Write answers p with status.
func Write(w http.ResponseWriter, status int, p Page) error {
	SetHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	return page.Execute(w, p)
}

// ServeCSS answers the style sheet.
func ServeCSS(w http.ResponseWriter, _ *http.Request) {
	SetHeaders(w.Header())
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(css)
}
