// Package ops runs Waystation: configuration, the wiring of store,
// projections and HTTP server (Main), metrics, health, backup, restore,
// verify, the demo region and the benchmarks. Only ops knows which store
// backend is in use.
package ops

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"waystation/domain"
)

// Config is everything a Waystation process can be told. The zero value is
// not useful; start from DefaultConfig, which works with nothing set.
type Config struct {
	// Data is the data folder of the embedded store (and, on the esdb
	// backend, of this replica's local index and checkpoints).
	Data string
	// Addr is the HTTP listen address.
	Addr string
	// Store selects the backend: empty for the embedded store, or an
	// EventStoreDB / KurrentDB connection string (esdb://...).
	Store string
	// AdminToken, when set, is accepted as an admin bearer token (only its
	// hash is kept).
	AdminToken string
	// LogFormat is "text" or "json".
	LogFormat string
	// LogLevel is debug, info, warn or error.
	LogLevel slog.Level
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration
	// BedHold is how long a bed stays held for a person admitted to
	// hospital before it is released; zero releases it at admission.
	BedHold time.Duration
	// MasterKey is the master key that wraps the personal-data keys (32
	// bytes, base64 or hex; WAYSTATION_MASTER_KEY). Never shown.
	MasterKey string
	// MasterKeyFile is a file holding the master key (--master-key-file);
	// with neither set, one is generated in the data folder, with a
	// warning.
	MasterKeyFile string
	// Retention is how long after closure a case's personal data is kept;
	// zero (the default) keeps it and lists nothing as due.
	Retention time.Duration
	// RetentionErase makes the daily retention job erase the cases due,
	// not only list them (WAYSTATION_RETENTION_ERASE=true).
	RetentionErase bool
	// RetentionEvery is how often the retention job runs (a day).
	RetentionEvery time.Duration
	// SessionIdle ends a login's session after that long without use.
	SessionIdle time.Duration
	// SessionAbsolute ends a login's session that long after the login
	// whatever its use; at most domain.MaxSessionLifetime.
	SessionAbsolute time.Duration
	// RequireTOTP asks two-factor of every account at login; admins and
	// inspectors need it whatever it says.
	RequireTOTP bool
	// TOTPIssuer is the name authenticator apps show the deployment's
	// codes under.
	TOTPIssuer string
}

// DefaultConfig returns the configuration used when nothing is set: data in
// ./data, listening on 127.0.0.1:8080, the embedded store, text logs,
// sessions of domain.DefaultSessionPolicy.
func DefaultConfig() Config {
	return Config{
		Data:            "./data",
		Addr:            "127.0.0.1:8080",
		LogFormat:       "text",
		LogLevel:        slog.LevelInfo,
		ShutdownTimeout: 15 * time.Second,
		RetentionEvery:  24 * time.Hour,
		SessionIdle:     domain.DefaultSessionPolicy.Idle,
		SessionAbsolute: domain.DefaultSessionPolicy.Absolute,
		TOTPIssuer:      "Waystation",
	}
}

// ParseConfig reads the configuration of one subcommand: defaults, then the
// WAYSTATION_* environment (looked up through getenv), then flags, the later
// winning. It writes usage to out on -h. fs may carry subcommand flags of
// its own; ParseConfig adds the common ones and parses args.
func ParseConfig(fs *flag.FlagSet, args []string, getenv func(string) string, out io.Writer) (Config, error) {
	c := DefaultConfig()
	if err := c.applyEnv(getenv); err != nil {
		return Config{}, err
	}
	fs.SetOutput(out)
	fs.StringVar(&c.Data, "data", c.Data, "data folder (WAYSTATION_DATA)")
	fs.StringVar(&c.Addr, "addr", c.Addr, "HTTP listen address HOST:PORT (WAYSTATION_ADDR)")
	fs.StringVar(&c.Store, "store", c.Store, "store: empty for embedded, or esdb://... (WAYSTATION_STORE)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json (WAYSTATION_LOG_FORMAT)")
	fs.Func("log-level", "log level: debug, info, warn, error (WAYSTATION_LOG_LEVEL)", func(s string) error {
		return c.LogLevel.UnmarshalText([]byte(s))
	})
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "graceful shutdown bound (WAYSTATION_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.BedHold, "bed-hold", c.BedHold, "how long a bed is held during a hospital stay (WAYSTATION_BED_HOLD)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", c.MasterKeyFile, "file with the 32-byte master key of the personal-data keys, base64 or hex (WAYSTATION_MASTER_KEY_FILE; or the key itself in WAYSTATION_MASTER_KEY)")
	fs.Func("retention", "keep personal data this long after closure, e.g. 1825d or 720h; empty keeps it (WAYSTATION_RETENTION)", func(v string) error {
		d, err := parseRetention(v)
		c.Retention = d
		return err
	})
	fs.BoolVar(&c.RetentionErase, "retention-erase", c.RetentionErase, "let the daily retention job erase the cases due, not only list them (WAYSTATION_RETENTION_ERASE)")
	fs.DurationVar(&c.RetentionEvery, "retention-every", c.RetentionEvery, "how often the retention job runs (WAYSTATION_RETENTION_EVERY)")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, "end a login's session after this long without use (WAYSTATION_SESSION_IDLE)")
	fs.DurationVar(&c.SessionAbsolute, "session-absolute", c.SessionAbsolute, "end a login's session this long after the login whatever its use, at most 168h (WAYSTATION_SESSION_ABSOLUTE)")
	fs.BoolVar(&c.RequireTOTP, "require-totp", c.RequireTOTP, "ask two-factor (TOTP) of every account, not only of admins and inspectors (WAYSTATION_REQUIRE_TOTP)")
	fs.StringVar(&c.TOTPIssuer, "totp-issuer", c.TOTPIssuer, "the name authenticator apps show this deployment's codes under (WAYSTATION_TOTP_ISSUER)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

func (c *Config) applyEnv(getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str("WAYSTATION_DATA", &c.Data)
	str("WAYSTATION_ADDR", &c.Addr)
	str("WAYSTATION_STORE", &c.Store)
	str("WAYSTATION_ADMIN_TOKEN", &c.AdminToken)
	str("WAYSTATION_LOG_FORMAT", &c.LogFormat)
	str("WAYSTATION_MASTER_KEY", &c.MasterKey)
	str("WAYSTATION_MASTER_KEY_FILE", &c.MasterKeyFile)
	str("WAYSTATION_TOTP_ISSUER", &c.TOTPIssuer)
	if v := getenv("WAYSTATION_RETENTION"); v != "" {
		d, err := parseRetention(v)
		if err != nil {
			return fmt.Errorf("WAYSTATION_RETENTION: %w", err)
		}
		c.Retention = d
	}
	for name, dst := range map[string]*bool{
		"WAYSTATION_RETENTION_ERASE": &c.RetentionErase,
		"WAYSTATION_REQUIRE_TOTP":    &c.RequireTOTP,
	} {
		if v := getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %q is neither true nor false", name, v)
			}
			*dst = b
		}
	}
	if v := getenv("WAYSTATION_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("WAYSTATION_LOG_LEVEL: %w", err)
		}
	}
	for name, dst := range map[string]*time.Duration{
		"WAYSTATION_SHUTDOWN_TIMEOUT": &c.ShutdownTimeout,
		"WAYSTATION_BED_HOLD":         &c.BedHold,
		"WAYSTATION_RETENTION_EVERY":  &c.RetentionEvery,
		"WAYSTATION_SESSION_IDLE":     &c.SessionIdle,
		"WAYSTATION_SESSION_ABSOLUTE": &c.SessionAbsolute,
	} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration such as 30s or 48h", name, v)
			}
			*dst = d
		}
	}
	return nil
}

// Validate reports the first setting that cannot work, naming it.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Data) == "" {
		return errors.New("data: the data folder must not be empty")
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr: %q is not HOST:PORT", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("addr: %q has no valid port", c.Addr)
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "esdb://") && !strings.HasPrefix(c.Store, "esdb+discover://") &&
		!strings.HasPrefix(c.Store, "kurrentdb://") && !strings.HasPrefix(c.Store, "kurrentdb+discover://") {
		return fmt.Errorf("store: %q is neither empty (embedded) nor an esdb:// connection string", redactURL(c.Store))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log-format: %q is neither text nor json", c.LogFormat)
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("shutdown-timeout: must be positive")
	}
	if c.BedHold < 0 {
		return errors.New("bed-hold: must not be negative")
	}
	if c.Retention < 0 {
		return errors.New("retention: must not be negative")
	}
	if c.RetentionErase && c.Retention == 0 {
		return errors.New("retention-erase: needs a retention period (WAYSTATION_RETENTION)")
	}
	if c.RetentionEvery <= 0 {
		return errors.New("retention-every: must be positive")
	}
	if c.SessionAbsolute <= 0 || c.SessionAbsolute > domain.MaxSessionLifetime {
		return fmt.Errorf("session-absolute: must be positive and at most %s, not %s", domain.MaxSessionLifetime, c.SessionAbsolute)
	}
	if c.SessionIdle <= 0 || c.SessionIdle > c.SessionAbsolute {
		return fmt.Errorf("session-idle: must be positive and at most session-absolute (%s), not %s", c.SessionAbsolute, c.SessionIdle)
	}
	if strings.TrimSpace(c.TOTPIssuer) == "" || strings.Contains(c.TOTPIssuer, ":") {
		return fmt.Errorf("totp-issuer: %q must be a name without a colon", c.TOTPIssuer)
	}
	return nil
}

// Logger returns the structured logger the configuration asks for.
func (c Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// LogValue describes the configuration for a log line. It never carries a
// secret: AdminToken and MasterKey show only whether they are set, and the
// credentials of a Store connection string are hidden.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("data", c.Data),
		slog.String("addr", c.Addr),
		slog.String("store", redactURL(c.Store)),
		slog.Bool("admin_token_set", c.AdminToken != ""),
		slog.String("log_format", c.LogFormat),
		slog.String("log_level", c.LogLevel.String()),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Duration("bed_hold", c.BedHold),
		slog.Bool("master_key_set", c.MasterKey != ""),
		slog.String("master_key_file", c.MasterKeyFile),
		slog.Duration("retention", c.Retention),
		slog.Bool("retention_erase", c.RetentionErase),
		slog.Duration("retention_every", c.RetentionEvery),
		slog.Duration("session_idle", c.SessionIdle),
		slog.Duration("session_absolute", c.SessionAbsolute),
		slog.Bool("require_totp", c.RequireTOTP),
		slog.String("totp_issuer", c.TOTPIssuer),
	)
}

// String describes the configuration as LogValue does, so that printing a
// Config with fmt (%v, %+v, %s) never shows a secret either.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("{")
	for i, a := range c.LogValue().Group() {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%v", a.Key, a.Value)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String, so that %#v does not show a secret either.
func (c Config) GoString() string { return "ops.Config" + c.String() }

// redactURL hides credentials in a connection string before it is shown.
func redactURL(s string) string {
	if at := strings.LastIndex(s, "@"); at >= 0 {
		if scheme := strings.Index(s, "://"); scheme >= 0 && scheme < at {
			return s[:scheme+3] + "***" + s[at:]
		}
	}
	return s
}

// parseRetention reads a retention period: a Go duration (720h) or a
// number of days (1825d); empty is none.
func parseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days such as 1825d", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 1825d or 720h", v)
	}
	return d, nil
}
