// Package graphiql serves GraphiQL, the in-browser GraphQL IDE, from files
// embedded in the binary: the page needs no other host, which its
// content-security policy enforces.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// Version is the GraphiQL release the binary serves.
const Version = "3.9.0"

// ContentSecurityPolicy lets the page load and call only its own origin. Fonts
// and icons come as data: URLs inside GraphiQL's stylesheet; CodeMirror sets
// inline styles on the elements it draws.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"font-src 'self' data:; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

//go:embed assets
var assets embed.FS

type file struct {
	body    []byte
	gzipped bool // body is gzip: sent as is to clients that accept it
	ctype   string
	etag    string
}

var files = load()

func load() map[string]file {
	out := map[string]file{}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		f := file{body: body, ctype: "text/plain; charset=utf-8"}
		if strings.HasSuffix(name, ".gz") {
			name, f.gzipped = strings.TrimSuffix(name, ".gz"), true
		}
		if t := mime.TypeByExtension(path.Ext(name)); t != "" && !strings.HasPrefix(name, "LICENSE") {
			f.ctype = t
		}
		sum := sha256.Sum256(body)
		f.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
		out[name] = f
		return nil
	})
	if err != nil {
		panic("graphiql: embedded assets: " + err.Error())
	}
	return out
}

// Page serves the GraphiQL page; it calls the GraphQL endpoint at "graphql"
// beside it.
func Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, "index.html")
	})
}

// Assets serves the page's scripts, styles and licenses under prefix, which
// the page expects to be "/graphiql/".
func Assets(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, prefix)
		if name == "index.html" || name == "README.md" {
			http.NotFound(w, r)
			return
		}
		serve(w, r, name)
	})
}

func serve(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// Revalidated on each load, so a new binary's files are seen at once.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	h.Set("Content-Type", f.ctype)
	if f.gzipped {
		h.Set("Vary", "Accept-Encoding")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if !f.gzipped {
		w.Write(f.body) //nolint:errcheck
		return
	}
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		w.Write(f.body) //nolint:errcheck
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(f.body))
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	io.Copy(w, zr) //nolint:errcheck
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
