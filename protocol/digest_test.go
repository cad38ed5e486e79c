package protocol

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol/schedule"
)

// richPayload sets every kind of field the content holds: times in a zone
// other than UTC, a float, nested pointers and empty lists.
func richPayload() CheckinPayload {
	t := time.Date(2026, 3, 14, 9, 26, 53, 123456789, time.FixedZone("CET", 3600))
	return CheckinPayload{
		ProtocolVersion: Version, DeviceID: "dev_1", Nonce: make([]byte, 32), IssuedAt: t, ExpiresAt: t.Add(5 * time.Minute),
		Configuration: &ConfigurationRef{ID: "cfg_default", Name: "default", Version: 3},
		Config:        Config{CheckinIntervalMinutes: 15, MaxExecutionSeconds: 60, MaxResponseKB: 1, KillGraceSeconds: 5, RemoveManagedApps: true},
		Assignments: []Assignment{{
			ID: "cfg_a", Version: 2, ScriptID: "scr_a", Name: "héllo <&>",
			Inputs:   []Input{{Label: "Who", Name: "who", Value: "ada"}, {Name: "empty", Value: ""}},
			Schedule: schedule.Spec{Kind: schedule.Weekly, At: "09:00", Days: []string{"mon", "fri"}, TZ: "utc", Start: "2026-01-01"},
			RunAs:    RunAsConsoleUser, BlobURL: PathBlob + "cfg_a/2", BlobSHA256: "ab", KeyEnvelope: []byte{0, 1, 2, 255},
		}, {ID: "cfg_b", Version: 1, ScriptID: "scr_b", Inputs: []Input{}, Schedule: schedule.Spec{Kind: schedule.Once}, RunAs: RunAsRoot}},
		Apps: []AppOffer{{
			ID: "app_1", Name: "Editor", Kind: AppKindInHouse, Rating: 4.3,
			Icon:        &Asset{URL: "/v1/apps/app_1/images/aa", SHA256: "aa", Size: 10, ContentType: "image/png", Alt: "icon"},
			Screenshots: []Asset{{URL: "/v1/apps/app_1/images/bb", SHA256: "bb", Size: 20}},
			Reviews:     []Review{{Author: "bob", Rating: 4, Text: "fine", Date: t}},
			Package:     &Asset{URL: "/v1/apps/app_1/package", SHA256: "cc", Size: 30},
		}},
		Onboarding: &OnboardingPlan{Enabled: true, SetupTimeoutSeconds: 600, WindowMinutes: 60, LandingURL: "https://example.com",
			Profiles: []Profile{{ID: "prf_1", Name: "Wi-Fi", Identifier: "com.example.wifi"}}},
	}
}

// The agent hashes the payload it decoded and saved; the server the one it
// built. Both must agree, through the signed JSON and the saved file.
func TestContentDigestSurvivesJSON(t *testing.T) {
	for name, p := range map[string]CheckinPayload{
		"rich":  richPayload(),
		"empty": {DeviceID: "dev_1", Assignments: []Assignment{}},
		"nil":   {DeviceID: "dev_1"},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var back CheckinPayload
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			b2, _ := json.Marshal(back)
			var again CheckinPayload
			json.Unmarshal(b2, &again)
			if got, want := ContentDigest(again), ContentDigest(p); got != want {
				t.Fatalf("digest after JSON %s, before %s", got, want)
			}
		})
	}
}

// What changes at every check-in is outside the digest; every part of the
// content is inside.
func TestContentDigestCovers(t *testing.T) {
	want := ContentDigest(richPayload())
	for _, tc := range []struct {
		name    string
		edit    func(p *CheckinPayload)
		changes bool
	}{
		{"nonce", func(p *CheckinPayload) { p.Nonce = []byte("another nonce of 16+ bytes") }, false},
		{"validity window", func(p *CheckinPayload) { p.IssuedAt, p.ExpiresAt = time.Now(), time.Now().Add(time.Hour) }, false},
		{"resend", func(p *CheckinPayload) { p.Resend = true }, false},
		{"device", func(p *CheckinPayload) { p.DeviceID = "dev_2" }, false},
		{"configuration version", func(p *CheckinPayload) { p.Configuration.Version++ }, true},
		{"no configuration", func(p *CheckinPayload) { p.Configuration = nil }, true},
		{"interval", func(p *CheckinPayload) { p.Config.CheckinIntervalMinutes = 5 }, true},
		{"assignment version", func(p *CheckinPayload) { p.Assignments[0].Version++ }, true},
		{"input value", func(p *CheckinPayload) { p.Assignments[0].Inputs[0].Value = "bob" }, true},
		{"schedule", func(p *CheckinPayload) { p.Assignments[0].Schedule.At = "10:00" }, true},
		{"key envelope", func(p *CheckinPayload) { p.Assignments[0].KeyEnvelope = []byte{9} }, true},
		{"assignment dropped", func(p *CheckinPayload) { p.Assignments = p.Assignments[:1] }, true},
		{"app rating", func(p *CheckinPayload) { p.Apps[0].Rating = 4.4 }, true},
		{"app package", func(p *CheckinPayload) { p.Apps[0].Package.SHA256 = "dd" }, true},
		{"no apps", func(p *CheckinPayload) { p.Apps = nil }, true},
		{"onboarding profile", func(p *CheckinPayload) { p.Onboarding.Profiles = nil }, true},
		{"onboarding off", func(p *CheckinPayload) { p.Onboarding = nil }, true},
		{"more", func(p *CheckinPayload) { p.More = true }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := richPayload()
			tc.edit(&p)
			if got := ContentDigest(p); (got != want) != tc.changes {
				t.Fatalf("digest changed = %v, want %v", got != want, tc.changes)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	held := richPayload()
	digest := ContentDigest(held)
	fresh := CheckinPayload{ProtocolVersion: Version, DeviceID: "dev_1", Nonce: []byte("fresh nonce, 16 bytes+"),
		IssuedAt: time.Unix(1e9, 0).UTC(), ExpiresAt: time.Unix(1e9+300, 0).UTC()}
	full := richPayload()
	full.Assignments = nil
	for _, tc := range []struct {
		name   string
		answer CheckinPayload
		held   *CheckinPayload
		want   error
	}{
		{"full answer stands", full, &held, nil},
		{"full answer without held", full, nil, nil},
		{"unchanged, held", Unchanged(fresh, digest), &held, nil},
		{"unchanged, nothing held", Unchanged(fresh, digest), nil, ErrNotHeld},
		{"unchanged, other content", Unchanged(fresh, ContentDigest(full)), &held, ErrNotHeld},
		{"unchanged, no digest", Unchanged(fresh, ""), &held, ErrNotHeld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ContentDigest(held)
			got, err := Resolve(tc.answer, tc.held)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if ContentDigest(held) != before {
				t.Fatal("Resolve changed the held payload")
			}
			switch {
			case err != nil:
			case !tc.answer.Unchanged:
				if ContentDigest(got) != ContentDigest(tc.answer) || got.Unchanged {
					t.Fatal("a full answer is not acted on as it is")
				}
			default:
				if ContentDigest(got) != digest || string(got.Nonce) != string(fresh.Nonce) ||
					!got.ExpiresAt.Equal(fresh.ExpiresAt) || got.Resend || !got.Unchanged {
					t.Fatalf("resolved %+v: want the held content under the answer's envelope", got)
				}
			}
			// The agent's way, with the digest its request named: the same.
			sent := ""
			if tc.held != nil {
				sent = ContentDigest(*tc.held)
			}
			again, err2 := ResolveHeld(tc.answer, tc.held, sent)
			if !errors.Is(err2, tc.want) || (err == nil && ContentDigest(again) != ContentDigest(got)) {
				t.Fatalf("ResolveHeld: %v, want %v and Resolve's payload", err2, tc.want)
			}
		})
	}
}

// An unchanged answer carries no content: it is small whatever the device
// holds, and it is signed and bound like any answer.
func TestUnchangedAnswerIsSmallAndBound(t *testing.T) {
	p := richPayload()
	u := Unchanged(p, ContentDigest(p))
	if u.Configuration != nil || u.Assignments != nil || u.Apps != nil || u.Onboarding != nil || u.More {
		t.Fatalf("unchanged answer carries content: %+v", u)
	}
	if u.DeviceID != p.DeviceID || string(u.Nonce) != string(p.Nonce) || !u.ExpiresAt.Equal(p.ExpiresAt) {
		t.Fatal("unchanged answer lost the request binding")
	}
}
