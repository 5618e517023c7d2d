package ops_test

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"waystation/ops"
)

func parse(t testing.TB, env map[string]string, args ...string) (ops.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	return ops.ParseConfig(fs, args, func(k string) string { return env[k] }, io.Discard)
}

func TestConfigDefaultsWorkWithNothingSet(t *testing.T) {
	c, err := parse(t, nil)
	if err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	if c.Data != "./data" || c.Addr != "127.0.0.1:8080" || c.Store != "" || c.LogFormat != "text" {
		t.Errorf("got %+v, want data ./data, addr 127.0.0.1:8080, embedded store, text logs", c)
	}
}

func TestConfigFlagsOverrideEnvironmentOverrideDefaults(t *testing.T) {
	env := map[string]string{
		"WAYSTATION_DATA":        "/srv/ws",
		"WAYSTATION_ADDR":        "0.0.0.0:9000",
		"WAYSTATION_ADMIN_TOKEN": "bootstrap",
		"WAYSTATION_LOG_LEVEL":   "debug",
		"WAYSTATION_BED_HOLD":    "48h",
	}
	c, err := parse(t, env, "--addr", "127.0.0.1:0", "--log-format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if c.Data != "/srv/ws" {
		t.Errorf("data: got %q, want the environment's /srv/ws", c.Data)
	}
	if c.Addr != "127.0.0.1:0" {
		t.Errorf("addr: got %q, want the flag's 127.0.0.1:0", c.Addr)
	}
	if c.AdminToken != "bootstrap" || c.LogLevel != slog.LevelDebug || c.LogFormat != "json" || c.BedHold != 48*time.Hour {
		t.Errorf("got %+v", c)
	}
}

func TestConfigRefusalsNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad address", nil, []string{"--addr", "localhost"}, "addr"},
		{"bad port", nil, []string{"--addr", "localhost:99999"}, "addr"},
		{"bad store", nil, []string{"--store", "postgres://u:secret@db/x"}, "store"},
		{"bad log format", nil, []string{"--log-format", "xml"}, "log-format"},
		{"empty data", nil, []string{"--data", " "}, "data"},
		{"bad duration in environment", map[string]string{"WAYSTATION_BED_HOLD": "two days"}, nil, "WAYSTATION_BED_HOLD"},
		{"bad level in environment", map[string]string{"WAYSTATION_LOG_LEVEL": "loud"}, nil, "WAYSTATION_LOG_LEVEL"},
		{"bad session idle", nil, []string{"--session-idle", "half an hour"}, "session-idle"},
		{"zero session idle", nil, []string{"--session-idle", "0"}, "session-idle"},
		{"session idle longer than the session", nil, []string{"--session-idle", "2h", "--session-absolute", "1h"}, "session-idle"},
		{"session absolute past the longest session", nil, []string{"--session-absolute", "200h"}, "session-absolute"},
		{"bad session absolute in environment", map[string]string{"WAYSTATION_SESSION_ABSOLUTE": "a day"}, nil, "WAYSTATION_SESSION_ABSOLUTE"},
		{"bad require-totp in environment", map[string]string{"WAYSTATION_REQUIRE_TOTP": "sometimes"}, nil, "WAYSTATION_REQUIRE_TOTP"},
		{"bad require-totp flag", nil, []string{"--require-totp=sometimes"}, "require-totp"},
		{"empty totp issuer", nil, []string{"--totp-issuer", " "}, "totp-issuer"},
		{"totp issuer with a colon", map[string]string{"WAYSTATION_TOTP_ISSUER": "City: station"}, nil, "totp-issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks a credential: %v", err)
			}
		})
	}
}

func TestConfigAcceptsAnEventStoreConnectionString(t *testing.T) {
	c, err := parse(t, map[string]string{"WAYSTATION_STORE": "esdb://node1:2113,node2:2113?tls=true"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Store == "" {
		t.Error("store connection string was dropped")
	}
}

func TestConfigNeverPrintsItsSecrets(t *testing.T) {
	env := map[string]string{
		"WAYSTATION_ADMIN_TOKEN": "admin-secret-token",
		"WAYSTATION_MASTER_KEY":  "bWFzdGVyLWtleS1zZWNyZXQtYnl0ZXMtMzItbG9uZyE=",
		"WAYSTATION_STORE":       "esdb://admin:cluster-password@node1:2113",
	}
	c, err := parse(t, env)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "config", c)
	shown := map[string]string{
		"log line": logged.String(),
		"%v":       fmt.Sprintf("%v", c),
		"%+v":      fmt.Sprintf("%+v", c),
		"%#v":      fmt.Sprintf("%#v", c),
		"String":   c.String(),
	}
	for how, text := range shown {
		for _, secret := range []string{"admin-secret-token", env["WAYSTATION_MASTER_KEY"], "cluster-password"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows a secret: %s", how, text)
			}
		}
		for _, want := range []string{"admin_token_set", "master_key_set", "node1:2113"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: got %s, want it to mention %s", how, text, want)
			}
		}
	}
}

func TestConfigReadsTheSessionSettings(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		c, err := parse(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.SessionIdle != 30*time.Minute || c.SessionAbsolute != 12*time.Hour || c.RequireTOTP || c.TOTPIssuer != "Waystation" {
			t.Errorf("got idle %s, absolute %s, require TOTP %t, issuer %q; want 30m, 12h, false, Waystation",
				c.SessionIdle, c.SessionAbsolute, c.RequireTOTP, c.TOTPIssuer)
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		c, err := parse(t, map[string]string{"WAYSTATION_SESSION_IDLE": "10m", "WAYSTATION_SESSION_ABSOLUTE": "8h",
			"WAYSTATION_REQUIRE_TOTP": "true", "WAYSTATION_TOTP_ISSUER": "East district 救助站"})
		if err != nil {
			t.Fatal(err)
		}
		if c.SessionIdle != 10*time.Minute || c.SessionAbsolute != 8*time.Hour || !c.RequireTOTP || c.TOTPIssuer != "East district 救助站" {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("flags over the environment", func(t *testing.T) {
		c, err := parse(t, map[string]string{"WAYSTATION_SESSION_IDLE": "10m", "WAYSTATION_REQUIRE_TOTP": "true"},
			"--session-idle", "5m", "--session-absolute", "168h", "--require-totp=false", "--totp-issuer", "Waystation R1")
		if err != nil {
			t.Fatal(err)
		}
		if c.SessionIdle != 5*time.Minute || c.SessionAbsolute != 168*time.Hour || c.RequireTOTP || c.TOTPIssuer != "Waystation R1" {
			t.Errorf("got %+v", c)
		}
	})
}
