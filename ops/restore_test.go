package ops_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waystation/eventstore/bolt"
	"waystation/ops"
)

// backupOf serves a fresh folder with config tweak, records one case and
// backs the folder up offline; it returns the backup file.
func backupOf(t *testing.T, tweak func(*ops.Config)) string {
	t.Helper()
	dir := t.TempDir()
	r := startWith(t, dir, tweak)
	staff := r.seed(t)
	r.must(t, 201, staff, "POST", "/v1/cases", intake("Restored Person", time.Now().Add(-time.Hour)))
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "backup.tar")
	if err := ops.RunCommand(context.Background(), []string{"backup", "--data", dir, "--out", out}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatalf("backup: %v", err)
	}
	return out
}

// usedFolder serves a fresh folder once (so it holds its own generated
// master key and a store) and returns it.
func usedFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	r := start(t, dir)
	r.seed(t)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRestoreOverAUsedFolderBringsTheKeyThatOpensTheBackup(t *testing.T) {
	// Given a backup of a folder with a generated master key, restored
	// with --force over another folder that generated its own,
	backup := backupOf(t, nil)
	dir := usedFolder(t)
	var out, errOut bytes.Buffer
	if err := ops.RunCommand(context.Background(), []string{"restore", "--data", dir, "--from", backup, "--force"}, &out, &errOut); err != nil {
		t.Fatalf("restore --force: %v", err)
	}
	// then the service starts on it and shows the backup's case.
	r := start(t, dir)
	got := r.must(t, 200, adminToken, "GET", "/v1/cases?station=S01", nil)
	if items := got["items"].([]any); len(items) != 1 {
		t.Fatalf("restored folder shows %d cases, want the backup's one", len(items))
	}
}

func TestRestoreRefusesABackupTheMasterKeyInEffectCannotOpen(t *testing.T) {
	operatorKey := strings.Repeat("7e", 32)
	// Given a backup taken with an operator-supplied master key (so the
	// archive holds no master.key), restored over a folder with its own
	// generated key and no key passed in,
	backup := backupOf(t, func(c *ops.Config) { c.MasterKey = operatorKey })
	dir := usedFolder(t)
	before, err := os.ReadFile(filepath.Join(dir, bolt.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = ops.RunCommand(context.Background(), []string{"restore", "--data", dir, "--from", backup, "--force"}, &out, &errOut)
	// then restore refuses, says which key to pass, and changes nothing;
	if err == nil || !strings.Contains(err.Error(), "WAYSTATION_MASTER_KEY") {
		t.Fatalf("restore with the wrong master key in effect: %v, want a refusal naming WAYSTATION_MASTER_KEY", err)
	}
	after, err := os.ReadFile(filepath.Join(dir, bolt.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the refused restore changed the folder's store")
	}
	// and with the operator's key passed in, it restores.
	t.Setenv("WAYSTATION_MASTER_KEY", operatorKey)
	if err := ops.RunCommand(context.Background(), []string{"restore", "--data", dir, "--from", backup, "--force"}, &out, &errOut); err != nil {
		t.Fatalf("restore with the operator's key: %v", err)
	}
}

func TestRestoreRefusesABackupCutShort(t *testing.T) {
	backup := backupOf(t, nil)
	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	// A backup whose writer failed after the events store: the tar ends
	// cleanly (as net/http ends a response whose handler returned), but
	// without the keys and the end entry.
	var cut bytes.Buffer
	tr, tw := tar.NewReader(bytes.NewReader(raw)), tar.NewWriter(&cut)
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(tw, tr); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"ending cleanly after the events store": cut.Bytes(), "broken off midway": raw[:len(raw)*2/3]} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "cut.tar")
			if err := os.WriteFile(file, b, 0o600); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "restored")
			err := ops.RunCommand(context.Background(), []string{"restore", "--data", dir, "--from", file}, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil {
				t.Fatal("restore accepted a backup cut short")
			}
			if _, serr := os.Stat(filepath.Join(dir, bolt.DataFile)); serr == nil {
				t.Errorf("the refused restore (%v) left a store behind", err)
			}
		})
	}
}
