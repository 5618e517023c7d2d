package console_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The harness itself: what must fail a browser test is seen.
func TestBrowserHarnessSeesWhatMustFailAPage(t *testing.T) {
	e := newEnv(t)
	c := e.chrome(t)
	b := c.tab("probe")
	b.open("login", "/login")

	// A field without a label
	b.do("adding a field", chromedp.Evaluate[chromedp.Void](
		`document.body.appendChild(Object.assign(document.createElement("input"), {name: "stray"}))`))
	if got := eval[[]string](b, unlabelled); !slices.Equal(got, []string{"stray"}) {
		t.Errorf("unlabelled fields: %q, want [stray]", got)
	}

	// A JavaScript exception, a console error, a fetch the
	// Content-Security-Policy refuses, and a page of another origin
	b.do("misbehaving", chromedp.Evaluate[chromedp.Void](`
		setTimeout(() => { throw new Error("boom") }, 0);
		console.error("bad thing");
		fetch("http://other.example/x").catch(() => {});
		setTimeout(() => { window.location.href = "http://other.example/page" }, 50);`))
	want := []string{"JavaScript exception: Uncaught Error: boom", `console.error: "bad thing"`,
		"violates the following Content Security Policy", "another origin: http://other.example/page"}
	var got []string
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		b.mu.Lock()
		got = slices.Clone(b.problems)
		b.mu.Unlock()
		if seesAll(got, want) {
			break
		}
	}
	if !seesAll(got, want) {
		t.Errorf("the harness saw %q, want each of %q", got, want)
	}
	b.mu.Lock()
	b.problems = nil // seen: they must not fail this test
	b.mu.Unlock()
}

func seesAll(got, want []string) bool {
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			return false
		}
	}
	return true
}
