package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// appAssetPrefix is where devices fetch app files: /v1/apps/ID/package and
// /v1/apps/ID/images/SHA256. The paths travel, with each file's digest, in
// the signed check-in response.
const appAssetPrefix = "/v1/apps/"

// appAssetRoute is the pattern the device API serves app files at.
const appAssetRoute = "GET " + appAssetPrefix + "{app}/{asset...}"

// distributedApps returns the ids of the apps distributed to the audience,
// with the distributions that reach it: candidates from the targets index,
// decided by the one resolver configurations use.
func (s *Server) distributedApps(ctx context.Context, aud distribution.Audience) (map[string]bool, []store.AppDistribution, error) {
	cands, err := s.Store.AppDistributionsFor(ctx, aud)
	if err != nil {
		return nil, nil, fmt.Errorf("list app distributions: %w", err)
	}
	ids := map[string]bool{}
	var reaching []store.AppDistribution
	for _, dist := range cands {
		if distribution.Reaches([]distribution.Target{appTarget(dist)}, aud) {
			ids[dist.AppID] = true
			reaching = append(reaching, dist)
		}
	}
	return ids, reaching, nil
}

// appTarget is an app distribution as a distribution target: app
// distributions are stored one target a row, with the same kinds.
func appTarget(d store.AppDistribution) distribution.Target {
	return distribution.Target{Kind: d.Target, Value: d.TargetID}
}

// deviceOffers builds the Apps@Work catalog of the device: the apps
// distributed to it, by name, with their details, the newest
// reviews and the digests of every file it may fetch.
func (s *Server) deviceOffers(ctx context.Context, aud distribution.Audience) ([]protocol.AppOffer, error) {
	ids, reaching, err := s.distributedApps(ctx, aud)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	apps := make([]store.App, 0, len(ids))
	for _, id := range sortedKeys(ids) {
		a, err := s.Store.App(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", id, err)
		}
		apps = append(apps, a)
	}
	// Catalog order (oldest first) under the order by name below.
	slices.SortStableFunc(apps, func(a, b store.App) int { return a.CreatedAt.Compare(b.CreatedAt) })
	var out []protocol.AppOffer
	for _, a := range apps {
		info, err := s.appInfo(ctx, a, reaching)
		if err != nil {
			return nil, fmt.Errorf("app %s: %w", a.ID, err)
		}
		out = append(out, offer(info))
	}
	slices.SortStableFunc(out, func(a, b protocol.AppOffer) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

func imageAsset(appID string, img store.Image) protocol.Asset {
	return protocol.Asset{
		URL: appAssetPrefix + appID + "/images/" + img.SHA256, SHA256: img.SHA256,
		Size: img.Size, ContentType: img.ContentType, Alt: img.Alt,
	}
}

func offer(info AppInfo) protocol.AppOffer {
	a, det := info.App, info.Details
	o := protocol.AppOffer{
		ID: a.ID, Name: a.Name, Kind: a.Kind, PackageID: a.PackageID, BundleID: a.BundleID,
		Version: a.Version, Priority: a.Priority,
		Publisher: det.Publisher, Category: det.Category,
		ShortDescription: det.ShortDescription, Description: det.Description,
		Rating: info.Rating,
	}
	if det.Icon != nil {
		icon := imageAsset(a.ID, *det.Icon)
		o.Icon = &icon
	}
	for _, sh := range det.Screenshots {
		o.Screenshots = append(o.Screenshots, imageAsset(a.ID, sh))
	}
	for i, r := range info.Reviews {
		if i == offerReviews {
			break
		}
		o.Reviews = append(o.Reviews, protocol.Review{Author: r.Author, Rating: r.Rating, Text: r.Text, Date: r.CreatedAt})
	}
	if a.Kind == protocol.AppKindInHouse && a.FileSHA256 != "" {
		o.Package = &protocol.Asset{
			URL: appAssetPrefix + a.ID + "/package", SHA256: a.FileSHA256, Size: a.FileSize,
			ContentType: "application/octet-stream",
		}
	}
	return o
}

// handleAppAsset serves an app's PKG or image to a device the app is
// distributed to; to any other device the app does not exist.
func (s *Server) handleAppAsset(w http.ResponseWriter, r *http.Request, d store.Device, _ *x509.Certificate) {
	appID, asset := r.PathValue("app"), r.PathValue("asset")
	aud, err := s.audience(r.Context(), d)
	var ids map[string]bool
	if err == nil {
		ids, _, err = s.distributedApps(r.Context(), aud)
	}
	if err != nil {
		s.internal(w, r, "app asset", err)
		return
	}
	a, err := s.Store.App(r.Context(), appID)
	if !ids[appID] || errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "no such app for this device")
		return
	} else if err != nil {
		s.internal(w, r, "app asset", err)
		return
	}
	switch {
	case asset == "package":
		s.servePackage(w, r, a)
	case strings.HasPrefix(asset, "images/"):
		s.serveImage(w, r, a, strings.TrimPrefix(asset, "images/"))
	default:
		s.fail(w, r, http.StatusNotFound, "no such app file")
	}
}

func (s *Server) servePackage(w http.ResponseWriter, r *http.Request, a store.App) {
	if a.Kind != protocol.AppKindInHouse || a.FileSHA256 == "" {
		s.fail(w, r, http.StatusNotFound, "this app has no package to download")
		return
	}
	f, err := s.Files.Open(a.FileSHA256)
	if err != nil {
		s.Log.Error("app package", zap.String("app", a.ID), zap.Error(err))
		s.fail(w, r, http.StatusNotFound, "package file missing")
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	// A strong validator: the agent resumes with If-Range on it, and a
	// file that changed under the same URL is sent whole.
	w.Header().Set("ETag", protocol.PackageETag(a.FileSHA256))
	// ServeContent streams (a PKG can be gigabytes) and honours Range; the
	// write deadline grows with what it sends.
	http.ServeContent(&packageDeadline{ResponseWriter: w, base: s.ioTimeout()}, r, "", f.ModTime(), f)
}

func (s *Server) serveImage(w http.ResponseWriter, r *http.Request, a store.App, sum string) {
	det, err := s.Store.AppDetails(r.Context(), a.ID)
	if err != nil {
		s.internal(w, r, "app image", err)
		return
	}
	// Only images the app shows now: an old screenshot is not served.
	var img *store.Image
	if det.Icon != nil && det.Icon.SHA256 == sum {
		img = det.Icon
	}
	for i := range det.Screenshots {
		if det.Screenshots[i].SHA256 == sum {
			img = &det.Screenshots[i]
		}
	}
	if img == nil {
		s.fail(w, r, http.StatusNotFound, "no such image")
		return
	}
	// The bytes as they are on disk: the device, not the server, checks
	// them against the signed digest.
	b, err := s.Files.Get(sum, maxImage)
	if errors.Is(err, cas.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "image file missing")
		return
	} else if err != nil {
		s.internal(w, r, "app image", err)
		return
	}
	w.Header().Set("Content-Type", img.ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}
