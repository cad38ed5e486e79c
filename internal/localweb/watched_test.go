package localweb

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWatched(t *testing.T) {
	ev := &Events{}
	srv := httptest.NewServer(ev)
	defer srv.Close()
	if ev.Watched() {
		t.Fatal("watched with no page connected")
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Watched() {
		t.Error("not watched while a page is connected")
	}
	cancel()
	res.Body.Close()
	srv.Close() // returns once the stream's handler has
	if ev.Watched() {
		t.Fatal("still watched after the page left")
	}
}
