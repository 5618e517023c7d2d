package ops_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"waystation/domain"
	"waystation/ops"
)

func TestExportOfflineThenExportCheck(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	m := testMain(dir, nil, io.Discard)
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	if _, err := m.Service.RegisterStation(ctx, admin, &domain.RegisterStation{Code: "S01", Name: "一站", Region: "R1",
		Kind: domain.KindStation, Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 3}}}, domain.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Service.Intake(ctx, admin, &domain.Intake{Station: "S01", Referral: domain.Referral{Source: domain.SourceWalkIn},
		Person: domain.Person{Name: "张三", Sex: domain.Male, EstimatedAge: new(50)}}, domain.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(domain.CivilZone).Format(time.DateOnly)
	out := filepath.Join(t.TempDir(), "export.zip")
	var stdout bytes.Buffer
	if err := ops.RunCommand(ctx, []string{"export", "--data", dir, "--from", today, "--to", today, "--personal", "--out", out}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "1 cases") {
		t.Errorf("export said %q", stdout.String())
	}
	stdout.Reset()
	if err := ops.RunCommand(ctx, []string{"export-check", out}, &stdout, io.Discard); err != nil {
		t.Fatalf("export-check: %v\n%s", err, stdout.String())
	}
	// A truncated archive is refused.
	b, _ := os.ReadFile(out)
	bad := filepath.Join(t.TempDir(), "bad.zip")
	os.WriteFile(bad, b[:len(b)/2], 0o644)
	if err := ops.RunCommand(ctx, []string{"export-check", bad}, io.Discard, io.Discard); err == nil {
		t.Error("export-check passed a truncated archive")
	}
	if err := ops.RunCommand(ctx, []string{"export", "--data", dir, "--from", today, "--out", out}, io.Discard, io.Discard); err == nil {
		t.Error("export without --to ran")
	}

	// Imported into an empty folder: once, then again with nothing new.
	fresh := t.TempDir()
	for i, want := range []string{"would import 1 case(s)", "imported 1 case(s)", "0 events written"} {
		args := []string{"import", out, "--data", fresh}
		if i == 0 {
			args = append(args, "--dry-run")
		}
		stdout.Reset()
		if err := ops.RunCommand(ctx, args, &stdout, io.Discard); err != nil {
			t.Fatalf("import: %v\n%s", err, stdout.String())
		}
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("import %d said %q, want %q", i, stdout.String(), want)
		}
	}
	if err := ops.RunCommand(ctx, []string{"import", bad, "--data", t.TempDir()}, io.Discard, io.Discard); err == nil {
		t.Error("a truncated archive was imported")
	}
}
