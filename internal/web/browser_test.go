package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The browser tests share one headless Chromium, started by the first of them;
// each test gets a tab of its own.
var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel = func() {}
	browserPath   string
	browserErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	browserCancel()
	os.Exit(code)
}

// chromium returns the path of a Chromium or Chrome binary, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newTab returns a tab of the shared browser, closed when the test ends, and a
// context that bounds the test's browsing.
func newTab(t *testing.T) context.Context {
	t.Helper()
	browserOnce.Do(func() {
		browserPath = chromium()
		if browserPath == "" {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(browserPath),
			chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-component-update", true),
		)
		var cancelAlloc, cancelBrowser context.CancelFunc
		browserCtx, cancelAlloc = chromedp.NewExecAllocator(context.Background(), opts...)
		browserCtx, cancelBrowser = chromedp.NewContext(browserCtx)
		browserCancel = func() { cancelBrowser(); cancelAlloc() }
		// Started here, on a context without a deadline: the browser lives as
		// long as the context of its first run.
		browserErr = chromedp.Do(browserCtx)
	})
	if browserPath == "" {
		t.Skip("no Chromium binary (chromium, chromium-browser, google-chrome or headless-shell) on PATH: " +
			"the browser tests need one, e.g. Debian's chromium package")
	}
	if browserErr != nil {
		t.Fatalf("start %s: %v", browserPath, browserErr)
	}
	tab, cancelTab := chromedp.NewContext(browserCtx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab, recordCSPViolations()); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recordCSPViolations makes every page of the tab list the content-security
// policy violations it meets in window.cspViolations.
func recordCSPViolations() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `
				window.cspViolations = [];
				document.addEventListener('securitypolicyviolation', e =>
					window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`,
		})
		return chromedp.Void{}, err
	}
}

// waitJS polls a JavaScript expression until it returns a non-empty string,
// and returns that string.
func waitJS(ctx context.Context, t *testing.T, what, expr string) string {
	t.Helper()
	out, err := pollJS(ctx, expr)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return out
}

// pollJS is waitJS that returns the error of the expression or of ctx.
func pollJS(ctx context.Context, expr string) (string, error) {
	for {
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil || out != "" {
			return out, err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("gave up waiting: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return fmt.Sprintf("%q", s)
}

func noCSPViolations(ctx context.Context, t *testing.T) {
	t.Helper()
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.cspViolations || []`))
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) > 0 {
		t.Errorf("the page broke its content-security policy: %s", strings.Join(violations, "; "))
	}
}
