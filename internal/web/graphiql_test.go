package web_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"staffroom/internal/app/apptest"
	"staffroom/internal/auth"
	"staffroom/internal/store/storetest"
)

// codeMirror reads the text of the first CodeMirror editor under selector.
func codeMirror(selector string) string {
	return `(document.querySelector(` + jsString(selector+" .CodeMirror") + `)?.CodeMirror.getValue() || '')`
}

// A developer opens GraphiQL, runs a query with their token in the headers
// editor, reads the answer and browses the schema — with nothing loaded from
// another host.
func TestGraphiQLInBrowser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		ada := s.SignUp(t, "ada.graphiql@example.com", "Ada", "Lovelace")
		ctx := newTab(t)

		if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/")); err != nil {
			t.Fatal(err)
		}
		first := waitJS(ctx, t, "the default tab", codeMirror(".graphiql-query-editor"))
		for _, step := range []string{"signUp", "verifyEmail", "createOrganization", "switchOrganization", "viewer", `"Authorization": "Bearer <accessToken>"`} {
			if !strings.Contains(first, step) {
				t.Errorf("the default tab does not show %s:\n%s", step, first)
			}
		}

		// The headers editor is open; type the token in it and the query.
		setEditors := `(() => {
			const headers = [...document.querySelectorAll('.graphiql-editor-tool .graphiql-editor')]
				.find(e => !e.classList.contains('hidden'));
			if (!headers || !headers.querySelector('.CodeMirror')) return '';
			headers.querySelector('.CodeMirror').CodeMirror.setValue(` + jsString(`{"Authorization": "Bearer `+ada.Token+`"}`) + `);
			document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('query Me { viewer { user { email } } }');
			return 'set';
		})()`
		waitJS(ctx, t, "the headers editor", setEditors)
		// GraphiQL learns of an edit a moment later: until then the button
		// runs, or offers, the default tab's operations. Try again until it
		// runs the new one.
		result := ""
		for !strings.Contains(result, `"data"`) && ctx.Err() == nil {
			// React may redraw the button between finding and clicking it.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button"))); err != nil {
				continue
			}
			attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
			result, _ = pollJS(attempt, `(() => {
				const v = `+codeMirror(".result-window")+`;
				return v.includes('"data"') || v.includes('"errors"') ? v : '';
			})()`)
			cancel()
			if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil { // closes the operations menu, if open
				t.Fatal(err)
			}
		}
		if !strings.Contains(result, `"email": "ada.graphiql@example.com"`) {
			t.Errorf("the result pane shows:\n%s", result)
		}

		// The docs explorer lists the root types of the introspected schema.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`))); err != nil {
			t.Fatal(err)
		}
		docs := waitJS(ctx, t, "the docs explorer", `(() => {
			const e = document.querySelector('.graphiql-doc-explorer');
			return e && e.innerText.includes('Root Types') ? e.innerText : '';
		})()`)
		if !strings.Contains(docs, "Query") || !strings.Contains(docs, "Mutation") {
			t.Errorf("the docs explorer shows:\n%s", docs)
		}
		noCSPViolations(ctx, t)
	})
}

// The page and its files come from the binary: compressed for browsers that
// take gzip, plain for others, with the licenses beside them.
func TestGraphiQLAssets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d storetest.Dialect) {
		s := apptest.New(t, d)
		res := get(t, s.URL+"/", "")
		page := readAll(t, res)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
		for _, ref := range []string{`src="http`, `href="http`, `src="//`, `href="//`} {
			if strings.Contains(page, ref) {
				t.Errorf("the page loads from another host (%s):\n%s", ref, page)
			}
		}

		plain := readAll(t, get(t, s.URL+"/graphiql/graphiql.min.js", "identity"))
		zipped := get(t, s.URL+"/graphiql/graphiql.min.js", "gzip")
		if zipped.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("gzip was not used for a client that accepts it")
		}
		zr, err := gzip.NewReader(zipped.Body)
		if err != nil {
			t.Fatal(err)
		}
		unzipped, _ := io.ReadAll(zr)
		zipped.Body.Close()
		if string(unzipped) != plain || !strings.Contains(plain, "GraphiQL") {
			t.Errorf("graphiql.min.js differs between encodings (%d and %d bytes)", len(plain), len(unzipped))
		}
		for _, name := range []string{"LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"} {
			if text := readAll(t, get(t, s.URL+"/graphiql/"+name, "")); !strings.Contains(text, "MIT License") {
				t.Errorf("%s: %q", name, text)
			}
		}
		if res := get(t, s.URL+"/graphiql/nothing.js", ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("an unknown file: %d", res.StatusCode)
		}

		prod := apptest.New(t, d, "STAFFROOM_ENV=production", "STAFFROOM_SIGNING_KEY_FILE="+writeKey(t),
			"STAFFROOM_MAIL_SENDER=log")
		if res := get(t, prod.URL+"/", ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("production serves GraphiQL by default: %d", res.StatusCode)
		}
	})
}

// writeKey writes a signing key, which production requires, and returns its file.
func writeKey(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := auth.LoadKeySet("", nil, dir); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, auth.DevSigningKeyFile)
}

func get(t *testing.T, url, encoding string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	// A transport of its own, which leaves the encoding alone.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
