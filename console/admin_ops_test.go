package console_test

import (
	"archive/tar"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"waystation/ops"
)

// newOpsEnv is the whole server as the binary runs it (ops.Main: the
// sealed store, the backup, erasure and retention), on a fresh data
// folder, with a retention of one hour; its pages are checked for
// catalogue keys shown in brackets, since its console has no Missing hook.
func newOpsEnv(t *testing.T) *env {
	t.Helper()
	cfg := ops.DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = adminToken
	cfg.MasterKey = strings.Repeat("5a", 32)
	cfg.Retention = time.Hour
	cfg.ShutdownTimeout = 10 * time.Second
	m := ops.NewMain(cfg, slog.New(slog.DiscardHandler))
	m.NoSync = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := m.Run(ctx)
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Main.Run: %v", err)
		}
	})
	waitCtx, waitCancel := context.WithTimeout(ctx, 30*time.Second)
	defer waitCancel()
	addr := m.Addr(waitCtx)
	if addr == "" {
		t.Fatal("Main did not start listening")
	}
	base := "http://" + addr
	for i := 0; ; i++ {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if i == 3000 {
			t.Fatal("the service never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &env{t: t, missing: map[string]bool{}, http: &httptest.Server{URL: base}}
}

var bracketed = regexp.MustCompile(`\[(admin|field|enum|rule|code|error|nav|form)\.[a-z0-9_.]+\]`)

// noMissingKeys fails when p shows a catalogue key in brackets: a key
// the catalogue lacks.
func noMissingKeys(t *testing.T, p page) {
	t.Helper()
	if k := bracketed.FindString(p.Body); k != "" {
		t.Errorf("%s shows the missing catalogue key %s", p.URL, k)
	}
}

func TestAnAdminDownloadsABackup(t *testing.T) {
	// Given the whole server, a station and an admin
	e := newOpsEnv(t)
	e.station("S01", "R1")
	b := e.admin("wang.fang")
	p := b.get("/admin")
	noMissingKeys(t, p)
	mustContain(t, p, `action="/admin/backup"`, "下载备份")

	// When they press the button
	p = b.post("/admin/backup", url.Values{})

	// Then the browser receives the store as a tar file to save
	if p.Status != http.StatusOK {
		t.Fatalf("status %d:\n%.2000s", p.Status, p.Body)
	}
	if cd := p.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".tar") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if p.Header.Get("Content-Type") != "application/octet-stream" || p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q", p.Header.Get("Content-Type"), p.Header.Get("Cache-Control"))
	}
	tr := tar.NewReader(strings.NewReader(p.Body))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the download is not a whole tar archive: %v (after %v)", err, names)
		}
		names = append(names, h.Name)
	}
	if len(names) < 2 {
		t.Fatalf("the archive holds %v", names)
	}
}
