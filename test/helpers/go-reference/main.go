// Command go-reference answers questions with the real golang.org/x/mod, for the differential
// unit tests (test/helpers/go-reference.ts). It reads one JSON request per line on stdin and
// writes one JSON answer per line on stdout, in order.
//
// It builds in GOPATH mode against Debian's golang-golang-x-mod-dev (x/mod v0.7.0):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o go-reference main.go
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

type request struct {
	Op      string      `json:"op"`
	V       string      `json:"v"`
	W       string      `json:"w"`
	List    []string    `json:"list"`
	Path    string      `json:"path"`
	Version string      `json:"version"`
	Major   string      `json:"major"`
	Older   string      `json:"older"`
	Unix    int64       `json:"unix"`
	Rev     string      `json:"rev"`
	S       string      `json:"s"`
	Data    []byte      `json:"data"` // base64 in JSON
	Files   []fileInput `json:"files"`
	ModPath string      `json:"modPath"`
	ModVers string      `json:"modVersion"`
}

type fileInput struct {
	Name    string `json:"name"`
	Content []byte `json:"content"`
	Kind    string `json:"kind"`
	Size    int64  `json:"size"`
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// strToFold is x/mod/zip's unexported strToFold, copied verbatim: it is the reference the
// TypeScript table must reproduce.
func strToFold(s string) string {
	var b strings.Builder
	for _, r := range s {
		for {
			r0 := r
			r = unicode.SimpleFold(r0)
			if r <= r0 {
				break
			}
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func catchPanic(f func() string) (out string, panicked string) {
	defer func() {
		if e := recover(); e != nil {
			panicked = fmt.Sprint(e)
		}
	}()
	return f(), ""
}

type fileInfo struct {
	name string
	mode os.FileMode
	size int64
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() os.FileMode  { return fi.mode }
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi fileInfo) Sys() interface{}   { return nil }

type zipInput struct {
	path string
	info fileInfo
}

func (f zipInput) Path() string                { return f.path }
func (f zipInput) Lstat() (os.FileInfo, error) { return f.info, nil }
func (f zipInput) Open() (io.ReadCloser, error) {
	return io.NopCloser(io.LimitReader(zeroReader{}, f.info.size)), nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}

func fileErrors(list []zip.FileError) [][2]string {
	out := [][2]string{}
	for _, fe := range list {
		out = append(out, [2]string{fe.Path, errString(fe.Err)})
	}
	return out
}

func handle(req request) interface{} {
	switch req.Op {
	case "semver":
		return map[string]interface{}{
			"isValid":    semver.IsValid(req.V),
			"canonical":  semver.Canonical(req.V),
			"major":      semver.Major(req.V),
			"majorMinor": semver.MajorMinor(req.V),
			"prerelease": semver.Prerelease(req.V),
			"build":      semver.Build(req.V),
			"compare":    semver.Compare(req.V, req.W),
			"max":        semver.Max(req.V, req.W),
		}

	case "semverSort":
		list := append([]string(nil), req.List...)
		semver.Sort(list)
		return list

	case "path":
		p := req.Path
		escPath, escPathErr := module.EscapePath(p)
		escVers, escVersErr := module.EscapeVersion(p)
		unPath, unPathErr := module.UnescapePath(p)
		unVers, unVersErr := module.UnescapeVersion(p)
		prefix, pathMajor, ok := module.SplitPathVersion(p)
		return map[string]interface{}{
			"checkPath":        errString(module.CheckPath(p)),
			"checkImportPath":  errString(module.CheckImportPath(p)),
			"checkFilePath":    errString(module.CheckFilePath(p)),
			"escapePath":       escPath,
			"escapePathErr":    errString(escPathErr),
			"escapeVersion":    escVers,
			"escapeVersionErr": errString(escVersErr),
			"unescapePath":     unPath,
			"unescapePathErr":  errString(unPathErr),
			"unescapeVersion":  unVers,
			"unescapeVersErr":  errString(unVersErr),
			"split":            []interface{}{prefix, pathMajor, ok},
		}

	case "major":
		prefix, panicked := catchPanic(func() string { return module.PathMajorPrefix(req.Major) })
		return map[string]interface{}{
			"checkPathMajor":   errString(module.CheckPathMajor(req.V, req.Major)),
			"matchPathMajor":   module.MatchPathMajor(req.V, req.Major),
			"pathMajorPrefix":  prefix,
			"prefixPanics":     panicked != "",
			"canonicalVersion": module.CanonicalVersion(req.V),
		}

	case "check":
		return errString(module.Check(req.Path, req.Version))

	case "pseudo":
		v := req.V
		base, baseErr := module.PseudoVersionBase(v)
		rev, revErr := module.PseudoVersionRev(v)
		t, timeErr := module.PseudoVersionTime(v)
		ts := ""
		if timeErr == nil {
			ts = t.UTC().Format(time.RFC3339)
		}
		return map[string]interface{}{
			"isPseudo":   module.IsPseudoVersion(v),
			"isZero":     module.IsZeroPseudoVersion(v),
			"base":       base,
			"baseErr":    errString(baseErr),
			"rev":        rev,
			"revErr":     errString(revErr),
			"time":       ts,
			"timeErr":    errString(timeErr),
			"zeroForV":   module.ZeroPseudoVersion(semver.Major(v)),
			"isPseudoRE": strings.Count(v, "-") >= 2,
		}

	case "pseudoMake":
		return module.PseudoVersion(req.Major, req.Older, time.Unix(req.Unix, 0), req.Rev)

	case "fold":
		return strToFold(req.S)

	case "hash1":
		names := []string{}
		contents := map[string][]byte{}
		for _, f := range req.Files {
			names = append(names, f.Name)
			contents[f.Name] = f.Content
		}
		h, err := dirhash.Hash1(names, func(name string) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(string(contents[name]))), nil
		})
		return []string{h, errString(err)}

	case "modfile":
		out := map[string]interface{}{"modulePath": modfile.ModulePath(req.Data)}
		f, err := modfile.ParseLax("go.mod", req.Data, nil)
		out["laxErr"] = errString(err)
		if err == nil {
			mod := ""
			if f.Module != nil {
				mod = f.Module.Mod.Path
			}
			goVers := ""
			if f.Go != nil {
				goVers = f.Go.Version
			}
			reqs := [][2]string{}
			for _, r := range f.Require {
				reqs = append(reqs, [2]string{r.Mod.Path, r.Mod.Version})
			}
			rets := [][2]string{}
			for _, r := range f.Retract {
				rets = append(rets, [2]string{r.Low, r.High})
			}
			out["module"] = mod
			out["hasModule"] = f.Module != nil
			out["go"] = goVers
			out["hasGo"] = f.Go != nil
			out["require"] = reqs
			out["retract"] = rets
		}
		return out

	case "zip":
		var files []zip.File
		for _, f := range req.Files {
			var mode os.FileMode
			switch f.Kind {
			case "file":
				mode = 0o644
			case "symlink":
				mode = os.ModeSymlink | 0o777
			case "directory":
				mode = os.ModeDir | 0o755
			default:
				mode = os.ModeDevice | 0o644
			}
			files = append(files, zipInput{path: f.Name, info: fileInfo{name: f.Name, mode: mode, size: f.Size}})
		}
		cf, cfErr := zip.CheckFiles(files)
		createErr := ""
		m := module.Version{Path: req.ModPath, Version: req.ModVers}
		if module.CanonicalVersion(m.Version) != m.Version || module.Check(m.Path, m.Version) != nil || cfErr != nil {
			// Create fails before it writes anything, so the files are never opened.
			createErr = errString(zip.Create(io.Discard, m, files))
		}
		valid := cf.Valid
		if valid == nil {
			valid = []string{}
		}
		return map[string]interface{}{
			"valid":     valid,
			"omitted":   fileErrors(cf.Omitted),
			"invalid":   fileErrors(cf.Invalid),
			"sizeError": errString(cf.SizeError),
			"err":       errString(cfErr),
			"createErr": createErr,
		}
	}
	return map[string]string{"unknownOp": req.Op}
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var req request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				fmt.Fprintln(os.Stderr, "go-reference: bad request:", jerr)
				os.Exit(2)
			}
			if eerr := enc.Encode(handle(req)); eerr != nil {
				fmt.Fprintln(os.Stderr, "go-reference:", eerr)
				os.Exit(2)
			}
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "go-reference:", err)
			os.Exit(2)
		}
	}
}
