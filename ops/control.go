package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"waystation/eventstore/audit"
	"waystation/eventstore/bolt"
)

// ControlSocket is the Unix socket that `serve` opens in the data folder
// so that `backup`, `verify`, `rebuild` and `account` with `--data` work
// while it runs: the store's lock keeps a second process out of the
// folder, so those commands ask the process that holds it. Whoever can
// reach the socket can already read the folder (it is 0700, the socket
// 0600), and open its store when the service is stopped, so the socket
// asks for no token; it answers nothing but a backup archive, a verify
// report, a rebuild of the live views and the account steps of `waystation
// account`.
const ControlSocket = "control.sock"

// maxSocketPath is the longest path a Unix socket address may hold on
// Linux (108 bytes with the terminating zero).
const maxSocketPath = 107

// control is the server on the control socket.
type control struct {
	srv  *nethttp.Server
	path string
	done chan struct{}
}

// startControl listens on the data folder's control socket and serves
// backups, verify reports, rebuilds and account steps of the embedded
// store's service. It returns nil, with no error, on EventStoreDB, where
// there is no local store to lock.
func (m *Main) startControl() (*control, error) {
	if m.Embedded == nil {
		return nil, nil
	}
	path := filepath.Join(m.Config.Data, ControlSocket)
	// A socket left by a process that died is stale: this process holds
	// the store's lock, so no other serve can be using it.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	var ln net.Listener
	err := withSocketPath(path, func(addr string) error {
		var err error
		ln, err = net.Listen("unix", addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	mux := nethttp.NewServeMux()
	mux.HandleFunc("POST /backup", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "application/x-tar")
		n, err := writeArchive(r.Context(), m.Config.Data, m.Embedded, m.keys(), w)
		if err != nil {
			m.Logger.Error("backup over the control socket failed", "err", err)
			if n == 0 {
				nethttp.Error(w, err.Error(), nethttp.StatusInternalServerError)
				return
			}
			// Bytes are out with a 200: break the connection, so that
			// the client sees a broken stream and keeps no file (restore
			// would refuse it anyway: it has no end entry).
			panic(nethttp.ErrAbortHandler)
		}
		m.Logger.Info("backup written over the control socket", "bytes", n)
	})
	mux.HandleFunc("POST /verify", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		rep, err := m.Embedded.Verify(r.Context(), r.URL.Query()["key"]...)
		answer := controlVerify{Report: rep}
		if err != nil {
			answer.Error = err.Error()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer)
	})
	mux.HandleFunc("POST /rebuild", func(w nethttp.ResponseWriter, r *nethttp.Request) {
		res, err := m.rebuild(r.Context())
		if err != nil {
			m.Logger.Error("rebuild over the control socket failed", "err", err)
			nethttp.Error(w, "rebuild failed; the service's log says why", nethttp.StatusInternalServerError)
			return
		}
		m.Logger.Info("views rebuilt over the control socket", "position", res.Position.String(), "took_ms", res.TookMs)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	})
	mux.HandleFunc("POST /account", m.serveAccount)
	mux.HandleFunc("POST /export", m.serveExport)
	c := &control{
		srv:  &nethttp.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		path: path,
		done: make(chan struct{}),
	}
	go func() {
		defer close(c.done)
		if err := c.srv.Serve(ln); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			m.Logger.Error("control socket stopped", "err", err)
		}
	}()
	return c, nil
}

// stop lets a backup in progress finish (within ctx), then closes the
// socket and removes its file.
func (c *control) stop(ctx context.Context) {
	if c == nil {
		return
	}
	if err := c.srv.Shutdown(ctx); err != nil {
		c.srv.Close()
	}
	<-c.done
	os.Remove(c.path)
}

// controlVerify is the control socket's answer to /verify.
type controlVerify struct {
	Report bolt.VerifyReport `json:"report"`
	// Error is the error Verify returned besides its report, if any.
	Error string `json:"error,omitempty"`
}

// errNoControl says the folder's store is locked and no serving process
// answers on its control socket.
var errNoControl = errors.New("no Waystation serves this folder on its control socket")

// controlClient returns an HTTP client that reaches the control socket of
// the data folder dir.
func controlClient(dir string) *nethttp.Client {
	path := filepath.Join(dir, ControlSocket)
	return &nethttp.Client{Transport: &nethttp.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var conn net.Conn
			err := withSocketPath(path, func(addr string) error {
				var err error
				conn, err = (&net.Dialer{}).DialContext(ctx, "unix", addr)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errNoControl, err)
			}
			return conn, nil
		},
	}}
}

// callControl posts to route on dir's control socket and returns the
// answer's body, which the caller closes.
func callControl(ctx context.Context, dir, route string) (io.ReadCloser, error) {
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, "http://waystation"+route, nil)
	if err != nil {
		return nil, err
	}
	resp, err := controlClient(dir).Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != nethttp.StatusOK {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("the serving process answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return resp.Body, nil
}

// backupOverControl writes a backup of the store that a running serve
// holds in dir, through its control socket, to the file out.
func backupOverControl(ctx context.Context, dir, out string) (int64, error) {
	body, err := callControl(ctx, dir, "/backup")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer body.Close()
	n, err := writeFileAtomic(out, func(w io.Writer) (int64, error) { return io.Copy(w, body) })
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

// verifyOverControl asks the serving process that holds dir to verify its
// store.
func verifyOverControl(ctx context.Context, dir string, pinned ...string) (bolt.VerifyReport, error) {
	body, err := callControl(ctx, dir, "/verify?"+url.Values{"key": pinned}.Encode())
	if err != nil {
		return bolt.VerifyReport{}, fmt.Errorf("verify: %w", err)
	}
	defer body.Close()
	var answer controlVerify
	if err := json.NewDecoder(body).Decode(&answer); err != nil {
		return bolt.VerifyReport{}, fmt.Errorf("verify: reading the serving process's report: %w", err)
	}
	if answer.Error != "" {
		return answer.Report, verifyError(answer.Report, answer.Error)
	}
	return answer.Report, nil
}

// rebuildOverControl asks the serving process that holds dir to rebuild
// its live views.
func rebuildOverControl(ctx context.Context, dir string) (rebuildResult, error) {
	body, err := callControl(ctx, dir, "/rebuild")
	if err != nil {
		return rebuildResult{}, fmt.Errorf("rebuild: %w", err)
	}
	defer body.Close()
	var res rebuildResult
	if err := json.NewDecoder(body).Decode(&res); err != nil {
		return rebuildResult{}, fmt.Errorf("rebuild: reading the serving process's answer: %w", err)
	}
	return res, nil
}

// verifyError rebuilds the error the serving process's Verify returned
// with its report: one wrapping audit.ErrTampered when the report found
// the log altered, as a local Verify returns.
func verifyError(rep bolt.VerifyReport, msg string) error {
	if !rep.OK() {
		return fmt.Errorf("%w: %s", audit.ErrTampered, rep.Problem)
	}
	return errors.New("verify: " + msg)
}

// withSocketPath calls use with an address that names the socket at path.
// A path longer than a socket address may be is reached through the
// folder's entry in /proc/self/fd instead, which is short whatever the
// folder's name.
func withSocketPath(path string, use func(addr string) error) error {
	if len(path) <= maxSocketPath {
		return use(path)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return use("/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + filepath.Base(path))
}
