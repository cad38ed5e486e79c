package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// checkScriptBody refuses what cannot be a shell script.
func checkScriptBody(body []byte) error {
	switch {
	case len(body) == 0:
		return invalid("the script file is empty")
	case len(body) > protocol.MaxScriptBytes:
		return invalid("the script is %d bytes; the limit is %d (1 MB)", len(body), protocol.MaxScriptBytes)
	case !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0:
		return invalid("the script is not text (NUL bytes or invalid UTF-8); upload a shell script")
	}
	return nil
}

func checkInputDecls(inputs []store.InputDecl) error {
	seen := map[string]bool{}
	for _, in := range inputs {
		if seen[strings.ToLower(in.Name)] {
			return invalid("input %q is declared twice", in.Name)
		}
		seen[strings.ToLower(in.Name)] = true
	}
	return nil
}

// seal signs and encrypts one version of a script and stores its blob.
func (s *Server) seal(sc *store.Script, body []byte) error {
	sc.SHA256, sc.Size = protocol.SHA256Hex(body), int64(len(body))
	blob, key, err := protocol.SealScript(protocol.Script{
		ScriptID: sc.ID, Name: sc.Name, SHA256: sc.SHA256, Body: body, SignedAt: sc.UpdatedAt,
	}, s.blobSigner())
	if err != nil {
		return fmt.Errorf("seal script: %w", err)
	}
	sum, err := s.Files.Put(blob)
	if err != nil {
		return fmt.Errorf("seal script: %w", err)
	}
	sc.BlobSHA256, sc.BlobKey = sum, key
	return nil
}

// AddScript validates a script, seals it (signed by the tenant, encrypted
// with a fresh key), stores the blob under the data directory and returns it.
func (s *Server) AddScript(ctx context.Context, name, description string, body []byte, inputs []store.InputDecl) (store.Script, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	if err := checkName("script", name); err != nil {
		return store.Script{}, err
	}
	if err := checkDescription(description); err != nil {
		return store.Script{}, err
	}
	if err := checkScriptBody(body); err != nil {
		return store.Script{}, err
	}
	if err := checkInputDecls(inputs); err != nil {
		return store.Script{}, err
	}
	if err := s.scriptNameFree(ctx, name, ""); err != nil {
		return store.Script{}, err
	}
	now := s.now()
	sc := store.Script{ID: newID("scr"), Name: name, Description: description, Inputs: inputs, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.seal(&sc, body); err != nil {
		return store.Script{}, err
	}
	if err := s.Store.CreateScript(ctx, sc); err != nil {
		return store.Script{}, fmt.Errorf("store script: %w", err)
	}
	return sc, s.audit(ctx, "script.add", scriptObject(sc), fmt.Sprintf("script body: v1 (sha256 %.12s); inputs: %s", sc.SHA256, inputNames(sc.Inputs)))
}

func scriptObject(sc store.Script) string { return object("script", sc.ID, sc.Name) }

func (s *Server) scriptNameFree(ctx context.Context, name, except string) error {
	all, err := s.Store.Scripts(ctx)
	if err != nil {
		return err
	}
	for _, sc := range all {
		if sc.ID != except && strings.EqualFold(sc.Name, name) {
			return invalid("a script named %q exists already (%s); choose another --name or use `script set %s`", sc.Name, sc.ID, sc.ID)
		}
	}
	return nil
}

// Script resolves a REF (id, or unique name without regard to case).
func (s *Server) Script(ctx context.Context, ref string) (store.Script, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return store.Script{}, invalid("a script is required: give its id or name; see `mobileatwork-server scripts`")
	}
	sc, err := s.Store.Script(ctx, ref)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return sc, err
	}
	all, err := s.Store.Scripts(ctx)
	if err != nil {
		return store.Script{}, err
	}
	var hits []store.Script
	for _, c := range all {
		if strings.EqualFold(c.Name, ref) {
			hits = append(hits, c)
		}
	}
	switch len(hits) {
	case 0:
		return store.Script{}, invalid("no script %q; see `mobileatwork-server scripts`", ref)
	case 1:
		return hits[0], nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return store.Script{}, invalid("script name %q is ambiguous (%s): give the id", ref, strings.Join(ids, ", "))
}

// ScriptUpdate is what `script set` changes; nil fields stay as they are.
type ScriptUpdate struct {
	Name        *string
	Description *string
	Body        []byte             // a new version when not nil
	Inputs      *[]store.InputDecl // replaces the declarations
}

// UpdateScript edits a script. A new body becomes a new version: every
// configuration that uses the script gets a new version too, so devices run
// the new body at their next check-in, and results say which body ran.
func (s *Server) UpdateScript(ctx context.Context, ref string, u ScriptUpdate) (store.Script, error) {
	sc, err := s.Script(ctx, ref)
	if err != nil {
		return store.Script{}, err
	}
	before := sc
	if u.Name == nil && u.Description == nil && u.Body == nil && u.Inputs == nil {
		return store.Script{}, invalid("nothing to change: give --name, --description, --file or --input")
	}
	if u.Name != nil {
		name := strings.TrimSpace(*u.Name)
		if err := checkName("script", name); err != nil {
			return store.Script{}, err
		}
		if err := s.scriptNameFree(ctx, name, sc.ID); err != nil {
			return store.Script{}, err
		}
		sc.Name = name
	}
	if u.Description != nil {
		sc.Description = strings.TrimSpace(*u.Description)
		if err := checkDescription(sc.Description); err != nil {
			return store.Script{}, err
		}
	}
	if u.Inputs != nil {
		if err := checkInputDecls(*u.Inputs); err != nil {
			return store.Script{}, err
		}
		if err := s.inputsStillDeclared(ctx, sc.ID, *u.Inputs); err != nil {
			return store.Script{}, err
		}
		sc.Inputs = *u.Inputs
	}
	sc.UpdatedAt = s.now()
	if u.Body != nil {
		if err := checkScriptBody(u.Body); err != nil {
			return store.Script{}, err
		}
		if protocol.SHA256Hex(u.Body) != sc.SHA256 {
			sc.Version++
			if err := s.seal(&sc, u.Body); err != nil {
				return store.Script{}, err
			}
		}
	}
	if err := s.Store.UpdateScript(ctx, sc); err != nil {
		return store.Script{}, fmt.Errorf("store script: %w", err)
	}
	summary := changes(change("name", before.Name, sc.Name), change("script body", fmt.Sprintf("v%d", before.Version), fmt.Sprintf("v%d", sc.Version)),
		change("inputs", inputNames(before.Inputs), inputNames(sc.Inputs)))
	if before.Description != sc.Description {
		summary = changes(summary, "description changed")
	}
	return sc, s.audit(ctx, "script.set", scriptObject(sc), orNoChange(summary))
}

// orNoChange is a summary that says when an accepted edit changed nothing.
func orNoChange(summary string) string {
	if summary == "" {
		return "no change"
	}
	return summary
}

// inputsStillDeclared refuses new declarations that would leave a
// configuration overriding an input the script no longer has.
func (s *Server) inputsStillDeclared(ctx context.Context, scriptID string, decls []store.InputDecl) error {
	declared := map[string]bool{}
	for _, d := range decls {
		declared[d.Name] = true
	}
	users, err := s.configsUsing(ctx, scriptID)
	if err != nil {
		return err
	}
	for _, c := range users {
		for name := range c.Script.Inputs {
			if !declared[name] {
				return invalid("configuration %q overrides input %q, which the new --input list drops; change it first with `config set %s`", c.Name, name, c.ID)
			}
		}
	}
	return nil
}

func (s *Server) configsUsing(ctx context.Context, scriptID string) ([]store.Configuration, error) {
	all, err := s.Store.Configurations(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Configuration
	for _, c := range all {
		if c.Kind == store.KindScript && c.Script.ScriptID == scriptID {
			out = append(out, c)
		}
	}
	return out, nil
}

// DeleteScript removes a script and its blobs; it is refused, naming them,
// while configurations use it.
func (s *Server) DeleteScript(ctx context.Context, ref string) (store.Script, error) {
	sc, err := s.deleteScript(ctx, ref)
	if err != nil {
		return store.Script{}, err
	}
	return sc, s.audit(ctx, "script.delete", scriptObject(sc), fmt.Sprintf("versions: %d", sc.Version))
}

func (s *Server) deleteScript(ctx context.Context, ref string) (store.Script, error) {
	sc, err := s.Script(ctx, ref)
	if err != nil {
		return store.Script{}, err
	}
	using, err := s.configsUsing(ctx, sc.ID)
	if err != nil {
		return store.Script{}, err
	}
	if len(using) > 0 {
		return store.Script{}, invalid("script %q is used by %s; delete those configurations first", sc.Name, configList(using))
	}
	blobs, err := s.scriptBlobs(ctx, sc)
	if err != nil {
		return store.Script{}, err
	}
	if err := s.Store.DeleteScript(ctx, sc.ID); errors.Is(err, store.ErrInUse) {
		return store.Script{}, invalid("script %q is in use by a configuration added meanwhile; see `mobileatwork-server configs`", sc.Name)
	} else if err != nil {
		return store.Script{}, err
	}
	if len(blobs) == 0 {
		return sc, nil
	}
	// The script is gone: a blob another script's version names (the file
	// store keeps one file per content) stays.
	used, err := s.scriptBlobsInUse(ctx)
	if err != nil {
		s.Log.Sugar().Warnf("script %s deleted, its blobs kept: %v", sc.ID, err)
		return sc, nil
	}
	for sum := range blobs {
		if used[sum] {
			continue
		}
		if err := s.Files.Delete(sum); err != nil {
			s.Log.Sugar().Warnf("delete blob %s of script %s: %v", sum, sc.ID, err)
		}
	}
	return sc, nil
}

// scriptBlobs are the digests of the blobs of every version of sc.
func (s *Server) scriptBlobs(ctx context.Context, sc store.Script) (map[string]bool, error) {
	vs, err := s.ScriptVersions(ctx, sc)
	if err != nil {
		return nil, err
	}
	sums := map[string]bool{}
	for _, sv := range vs {
		if sv.BlobSHA256 != "" {
			sums[sv.BlobSHA256] = true
		}
	}
	return sums, nil
}

// scriptBlobsInUse are the digests of the blobs the scripts in the store name.
func (s *Server) scriptBlobsInUse(ctx context.Context) (map[string]bool, error) {
	all, err := s.Store.Scripts(ctx)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, sc := range all {
		sums, err := s.scriptBlobs(ctx, sc)
		if err != nil {
			return nil, err
		}
		for sum := range sums {
			used[sum] = true
		}
	}
	return used, nil
}

// ScriptInfo is a script with the configurations that use it.
type ScriptInfo struct {
	Script store.Script
	UsedBy []store.Configuration
}

// ScriptInfo returns what `script show` prints.
func (s *Server) ScriptInfo(ctx context.Context, ref string) (ScriptInfo, error) {
	sc, err := s.Script(ctx, ref)
	if err != nil {
		return ScriptInfo{}, err
	}
	using, err := s.configsUsing(ctx, sc.ID)
	if err != nil {
		return ScriptInfo{}, err
	}
	return ScriptInfo{Script: sc, UsedBy: nonNil(using)}, nil
}

func configList(cs []store.Configuration) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%q (%s)", c.Name, c.ID)
	}
	return strings.Join(parts, ", ")
}

// ScriptVersions lists the versions script sc has had, oldest first. Every
// version is kept while the script exists; one the store lacks (a script
// of a release before versions were kept) is left out.
func (s *Server) ScriptVersions(ctx context.Context, sc store.Script) ([]store.ScriptVersion, error) {
	out := []store.ScriptVersion{}
	for v := 1; v <= sc.Version; v++ {
		sv, err := s.Store.ScriptVersion(ctx, sc.ID, v)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("read script %s version %d: %w", sc.ID, v, err)
		}
		out = append(out, sv)
	}
	return out, nil
}

// ScriptBody returns one version of script ref with its body, read back
// from its sealed blob and checked against the tenant's signature.
func (s *Server) ScriptBody(ctx context.Context, ref string, version int) (store.ScriptVersion, []byte, error) {
	sc, err := s.Script(ctx, ref)
	if err != nil {
		return store.ScriptVersion{}, nil, err
	}
	sv, err := s.Store.ScriptVersion(ctx, sc.ID, version)
	if errors.Is(err, store.ErrNotFound) {
		return store.ScriptVersion{}, nil, invalid("script %q has no version %d (it is at version %d)", sc.Name, version, sc.Version)
	} else if err != nil {
		return store.ScriptVersion{}, nil, err
	}
	blob, err := s.Files.Get(sv.BlobSHA256, protocol.MaxBlobBody)
	if err != nil {
		return store.ScriptVersion{}, nil, fmt.Errorf("read script %s version %d: %w", sc.ID, version, err)
	}
	body, err := protocol.OpenScript(blob, sv.BlobKey, s.Tenant.Signers())
	if err != nil {
		return store.ScriptVersion{}, nil, fmt.Errorf("read script %s version %d: %w", sc.ID, version, err)
	}
	return sv, body.Body, nil
}
