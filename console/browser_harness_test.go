package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser tests drive a real headless Chromium over the console that
// newEnv serves. Without a Chromium they are skipped, except in CI (the
// CI variable set), where a missing browser fails them: .ci/run installs
// Debian's chromium. Every page's screenshot goes to $WAYSTATION_SCREENSHOTS
// (else a temporary folder the test logs), one folder per test.

// chromiumPath finds the browser: $WAYSTATION_CHROMIUM, else chromium on
// the PATH.
func chromiumPath() (string, error) {
	if p := os.Getenv("WAYSTATION_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on the PATH (and WAYSTATION_CHROMIUM unset)")
}

func needChromium(t *testing.T) string {
	t.Helper()
	p, err := chromiumPath()
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI runs the browser tests and they need Chromium: %v; .ci/run installs Debian's chromium", err)
	}
	t.Skipf("browser test skipped: %v; install Chromium (apt-get install chromium fonts-noto-cjk) to run it", err)
	return ""
}

// shotsRoot is the folder of every test's screenshots.
var shotsRoot = sync.OnceValues(func() (string, error) {
	if d := os.Getenv("WAYSTATION_SCREENSHOTS"); d != "" {
		return d, os.MkdirAll(d, 0o755)
	}
	return os.MkdirTemp("", "waystation-screenshots-")
})

// chrome is one Chromium for one test, over the test's console.
type chrome struct {
	t      *testing.T
	e      *env
	origin string // scheme://host:port of the console
	root   context.Context
	shots  string
	n      atomic.Int32 // screenshots taken, for their order
}

// chrome starts a headless Chromium for the test; the browser asks for
// pages in Chinese unless a page's language switch says otherwise.
func (e *env) chrome(t *testing.T) *chrome {
	t.Helper()
	path := needChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		// Date fields take their order from the process's locale: fixed,
		// so that typing a date is the same on every machine.
		chromedp.Env("LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8"))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	if err := chromedp.Do(root); err != nil {
		cancelRoot()
		cancelAlloc()
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	u, _ := url.Parse(e.http.URL)
	c := &chrome{t: t, e: e, origin: u.Scheme + "://" + u.Host, root: root}
	base, err := shotsRoot()
	if err != nil {
		t.Fatal(err)
	}
	c.shots = filepath.Join(base, regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_"))
	if err := os.MkdirAll(c.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", c.shots)
	return c
}

// tab is one person's browser: its own browser context (so its own
// cookies), watched for JavaScript errors, failed requests and requests to
// another origin.
type tab struct {
	c    *chrome
	t    *testing.T
	name string
	ctx  context.Context

	mu       sync.Mutex
	problems []string
	closed   bool
	urls     map[network.RequestID]string
	answered map[string]int // path -> responses seen
}

// tab opens a browser for the person called name (in file names).
func (c *chrome) tab(name string) *tab {
	c.t.Helper()
	b := &tab{c: c, t: c.t, name: name, urls: map[network.RequestID]string{}, answered: map[string]int{}}
	ctx, cancel := chromedp.NewContext(c.root, chromedp.WithNewBrowserContext(), chromedp.WithListener(b.listen))
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		c.t.Fatalf("opening a browser for %s: %v", name, err)
	}
	b.ctx = ctx
	c.t.Cleanup(func() {
		b.report()
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		cancel()
	})
	return b
}

// listen runs in the tab's event loop: it only records.
func (b *tab) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		b.problem("JavaScript exception: %s", exceptionText(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range ev.Args {
				args = append(args, strings.TrimSpace(string(a.Value)+" "+a.Description))
			}
			b.problem("console.error: %s", strings.Join(args, " "))
		}
	case *log.EventEntryAdded:
		// Network errors come from the network events below; any other
		// error the browser logs (a refused script or style, a blocked
		// frame) is a failure.
		if ev.Entry.Level == log.EntryLevelError && ev.Entry.Source != log.EntrySourceNetwork {
			b.problem("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		b.mu.Lock()
		b.urls[ev.RequestID] = u
		b.mu.Unlock()
		if !b.ours(u) {
			b.problem("a request to another origin: %s", u)
		}
	case *network.EventResponseReceived:
		r := ev.Response
		path := r.URL
		if p, err := url.Parse(r.URL); err == nil {
			path = p.Path
		}
		b.mu.Lock()
		b.answered[path]++
		b.mu.Unlock()
		switch {
		case r.Status >= 500:
			b.problem("%s answered %d", r.URL, r.Status)
		case r.Status >= 400 && ev.Type != network.ResourceTypeDocument && path != "/favicon.ico":
			// A page may answer 4xx (a refusal shown on its form); a
			// script, style, image or fetch may not.
			b.problem("%s (%s) answered %d", r.URL, ev.Type, r.Status)
		}
	case *network.EventLoadingFailed:
		// A request cancelled by the next page (the live stream, mostly)
		// did not fail.
		if !ev.Canceled {
			b.mu.Lock()
			u := b.urls[ev.RequestID]
			b.mu.Unlock()
			b.problem("a request failed: %s (%s): %s %s", u, ev.Type, ev.ErrorText, ev.BlockedReason)
		}
	}
}

// ours tells whether u is of the console's origin (or carries its data
// itself).
func (b *tab) ours(u string) bool {
	if strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:"+b.c.origin+"/") || u == "about:blank" {
		return true
	}
	return u == b.c.origin || strings.HasPrefix(u, b.c.origin+"/")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "?"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", s, d.URL, d.LineNumber, d.ColumnNumber)
}

func (b *tab) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.problems = append(b.problems, fmt.Sprintf(format, args...))
	}
}

// report fails the test with the problems seen since the last report.
func (b *tab) report() {
	b.t.Helper()
	b.mu.Lock()
	ps := b.problems
	b.problems = nil
	b.mu.Unlock()
	for _, p := range ps {
		b.t.Errorf("%s's browser: %s", b.name, p)
	}
}

// timeout bounds each action: a page that never comes fails, not hangs.
const timeout = 20 * time.Second

// do runs actions in the tab.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s's browser: %s: %v (at %s)", b.name, what, err, b.location())
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s's browser: evaluating %s: %v", b.name, expr, err)
	}
	return v
}

func (b *tab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	l, _ := chromedp.Run(ctx, chromedp.Location())
	return l
}

// path is the path of the page shown.
func (b *tab) path() string {
	u, err := url.Parse(b.location())
	if err != nil {
		return ""
	}
	return u.Path
}

// open loads the page at path; shot names its screenshot.
func (b *tab) open(shot, path string) {
	b.t.Helper()
	b.do("opening "+path, chromedp.Navigate(b.c.origin+path))
	b.settled(shot)
}

// follow runs trigger (a click, a key that sends a form) and waits for
// the page it leads to.
func (b *tab) follow(shot string, trigger chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, trigger)); err != nil {
		b.t.Fatalf("%s's browser: waiting for the page after %s: %v (at %s)", b.name, shot, err, b.location())
	}
	b.settled(shot)
}

// click follows the link or button sel (a CSS selector).
func (b *tab) click(shot, sel string) {
	b.t.Helper()
	b.follow(shot, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// settled checks a page that has loaded: what the browser reported, every
// field labelled, no value the templates failed to format, and takes its
// screenshot.
func (b *tab) settled(shot string) {
	b.t.Helper()
	b.screenshot(shot)
	b.report()
	b.labelled()
	if text := eval[string](b, "document.body.innerText"); strings.Contains(text, "%!") {
		b.t.Errorf("%s shows a value the template could not format (%%!): %s", b.path(), around(text, "%!"))
	}
}

// around is the text near the first sep in s.
func around(s, sep string) string {
	r := []rune(s)
	i := len([]rune(s[:strings.Index(s, sep)]))
	return string(r[max(0, i-40):min(len(r), i+80)])
}

// screenshot writes the whole page as a PNG.
func (b *tab) screenshot(shot string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s's browser: screenshot %s: %v", b.name, shot, err)
	}
	name := fmt.Sprintf("%03d-%s-%s.png", b.c.n.Add(1), b.name, shot)
	if err := os.WriteFile(filepath.Join(b.c.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// unlabelled lists the page's inputs, selects and textareas that no label
// names (a hidden input needs none).
const unlabelled = `Array.from(document.querySelectorAll("input, select, textarea"))
  .filter(el => el.type !== "hidden" && !Array.from(el.labels || []).some(l => l.textContent.trim() !== ""))
  .map(el => el.name || el.id || el.outerHTML.slice(0, 80))`

// labelled fails the test for every field of the page without a label.
func (b *tab) labelled() {
	b.t.Helper()
	for _, f := range eval[[]string](b, unlabelled) {
		b.t.Errorf("%s: the field %q has no label", b.path(), f)
	}
}

// sees fails the test unless the page's text shows every part.
func (b *tab) sees(parts ...string) {
	b.t.Helper()
	text := eval[string](b, "document.body.innerText")
	for _, p := range parts {
		if !strings.Contains(text, p) {
			b.t.Fatalf("%s's browser at %s does not show %q:\n%s", b.name, b.path(), p, text)
		}
	}
}

// has tells whether the page has an element matching sel.
func (b *tab) has(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf("document.querySelector(%q) !== null", sel))
}

// Keyboard: the person moves with Tab and types; nothing else.

// tabTo presses Tab until the element matching sel has the focus.
func (b *tab) tabTo(sel string) {
	b.t.Helper()
	focused := fmt.Sprintf("document.activeElement !== null && document.activeElement === document.querySelector(%q)", sel)
	for range 300 {
		if eval[bool](b, focused) {
			return
		}
		b.do("pressing Tab", chromedp.KeyEvent(kb.Tab))
	}
	b.t.Fatalf("%s: Tab never reaches %s", b.path(), sel)
}

// keys types s into whatever has the focus, key by key.
func (b *tab) keys(s string) {
	b.t.Helper()
	b.do("typing", chromedp.KeyEvent(s))
}

// tabType moves to the field sel with Tab and types s into it: in a
// select, typing an option's label chooses it, as people do.
func (b *tab) tabType(sel, s string) {
	b.t.Helper()
	b.tabTo(sel)
	b.keys(s)
}

// value is the field's value.
func (b *tab) value(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf("document.querySelector(%q).value", sel))
}

// login logs in through the login page, typing the username and the
// password and sending the form with Enter.
func (b *tab) login(username, password string) {
	b.t.Helper()
	if b.path() != "/login" {
		b.open("login", "/login")
	}
	b.tabType("#username", username)
	b.tabType("#password", password)
	b.follow("logged-in", chromedp.KeyEvent(kb.Enter))
	if b.path() != "/" {
		b.t.Fatalf("%s's login ended at %s", b.name, b.location())
	}
}

// seen is how many answers the browser got for path.
func (b *tab) seen(path string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.answered[path]
}

// waitSeen waits until the browser has had an answer for path (the live
// stream's headers, say).
func (b *tab) waitSeen(path string) {
	b.t.Helper()
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if b.seen(path) > 0 {
			return
		}
	}
	b.t.Fatalf("%s's browser never had an answer for %s", b.name, path)
}

// waitFor polls the page until expr is true or d has passed, and returns
// how long it took. It does not touch the test, so another goroutine may
// run it while the test works in another tab.
func (b *tab) waitFor(expr string, d time.Duration) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return time.Since(start), nil
		}
		if ctx.Err() != nil {
			return time.Since(start), fmt.Errorf("not true after %v: %s", d, expr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// msg is the catalogue's message of key in lang, as the pages show it:
// what a person reads, and types to choose an option.
func msg(t *testing.T, lang, key string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("messages", lang, "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v, ok := m[key]; ok {
			return v
		}
	}
	t.Fatalf("no message %s in %s", key, lang)
	return ""
}

// step opens the form of step with its button on the case page shown:
// the page offers only the steps allowed now.
func (b *tab) step(step string) {
	b.t.Helper()
	sel := fmt.Sprintf(`a.button[href$="/steps/%s"]`, step)
	if !b.has(sel) {
		b.t.Fatalf("%s offers no %s button", b.path(), step)
	}
	b.click(step, sel)
}
