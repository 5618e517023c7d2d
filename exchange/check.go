package exchange

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Problem is one way an export breaks the specification, named by file,
// line (1 is the header; 0: the file as a whole) and column (empty: the
// whole row or file).
type Problem struct {
	File   string `json:"file" doc:"The file of the archive (Step.csv ...)."`
	Line   int    `json:"line" doc:"The line in it: 1 is the header, 0 the file as a whole."`
	Column string `json:"column,omitempty" doc:"The column, when the problem is one value's."`
	Reason string `json:"reason" doc:"What is wrong."`
}

func (p Problem) String() string {
	switch {
	case p.Line == 0:
		return fmt.Sprintf("%s: %s", p.File, p.Reason)
	case p.Column == "":
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Reason)
	}
	return fmt.Sprintf("%s:%d: column %s: %s", p.File, p.Line, p.Column, p.Reason)
}

// MaxProblems bounds the problems one check reports.
const MaxProblems = 1000

// Row is one data row of a file, by column name, with its line.
type Row struct {
	Line   int
	Values map[string]string
}

// DecodeFile reads one CSV file of the specification spec from r: the
// header must begin with the specification's columns in order (further
// columns, which a later compatible version may add, are ignored), and
// every row must have as many fields as the header and valid values (type,
// required, enum). It calls fn with each valid row and returns the
// problems found (at most MaxProblems); a row with a problem is not passed
// to fn.
func DecodeFile(spec File, r io.Reader, fn func(Row)) []Problem {
	var out []Problem
	report := func(line int, col, format string, args ...any) {
		if len(out) < MaxProblems {
			out = append(out, Problem{File: spec.Name, Line: line, Column: col, Reason: fmt.Sprintf(format, args...)})
		}
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			report(1, "", "no header row")
		} else {
			report(1, "", "unreadable CSV: %v", csvReason(err))
		}
		return out
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	for i, c := range spec.Columns {
		if i >= len(header) {
			report(1, c.Name, "missing column (the header has %d of the %d columns)", len(header), len(spec.Columns))
			return out
		}
		if header[i] != c.Name {
			report(1, c.Name, "column %d is %q, want %q", i+1, header[i], c.Name)
			return out
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			report(max(line, 1), "", "unreadable CSV: %v", csvReason(err))
			return out
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			report(line, "", "%d fields, the header has %d", len(rec), len(header))
			continue
		}
		ok := true
		vals := make(map[string]string, len(spec.Columns))
		for i, c := range spec.Columns {
			v := rec[i]
			if reason := checkValue(c, v); reason != "" {
				report(line, c.Name, "%s", reason)
				ok = false
				continue
			}
			vals[c.Name] = v
		}
		if ok && fn != nil {
			fn(Row{Line: line, Values: vals})
		}
		if len(out) >= MaxProblems {
			return out
		}
	}
}

// csvReason is a CSV error without its position (the problem names it).
func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

var (
	codeRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// checkValue returns why v is not a valid value of column c, or "".
func checkValue(c Column, v string) string {
	if v == "" {
		if c.Required {
			return "required, empty"
		}
		return ""
	}
	if len(c.Enum) > 0 && !slices.Contains(c.Enum, v) {
		return fmt.Sprintf("%q is not one of %s", v, strings.Join(c.Enum, ", "))
	}
	switch c.Type {
	case TypeCode:
		if !codeRE.MatchString(v) {
			return fmt.Sprintf("%q is not a code (letters, digits, - and _, at most 32)", v)
		}
	case TypeUUID:
		if id, err := uuid.Parse(v); err != nil || id.String() != v {
			return fmt.Sprintf("%q is not a UUID in lower-case hex with hyphens", v)
		}
	case TypeDateTime:
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			return fmt.Sprintf("%q is not an RFC 3339 time with a zone", v)
		}
	case TypeDate:
		if t, err := time.Parse(time.DateOnly, v); err != nil || t.Format(time.DateOnly) != v {
			return fmt.Sprintf("%q is not a date YYYY-MM-DD", v)
		}
	case TypeInteger:
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || strconv.FormatInt(n, 10) != v {
			return fmt.Sprintf("%q is not a decimal integer", v)
		}
	case TypeBoolean:
		if v != "true" && v != "false" {
			return fmt.Sprintf("%q is not true or false", v)
		}
	case TypeJSON:
		var m map[string]any
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return "not a JSON object"
		}
	case TypeSHA256:
		if !sha256RE.MatchString(v) {
			return "not a SHA-256 in lower-case hex"
		}
	}
	return ""
}

// Check checks an export (a ZIP of size bytes read from r) against the
// specification: the manifest, every file's header and values, the hash
// and row count of every file the manifest lists, and that every case
// named in Step.csv, Transfer.csv and Exit.csv is in Case.csv. It returns
// the manifest as read and every problem (none: the export is valid).
func Check(r io.ReaderAt, size int64) (map[string]string, []Problem) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, []Problem{{File: "(archive)", Reason: "not a ZIP archive: " + err.Error()}}
	}
	var problems []Problem
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, ok := fileNamed(f.Name); !ok {
			problems = append(problems, Problem{File: f.Name, Reason: "not a file of the specification " + FormatVersion})
			continue
		}
		if entries[f.Name] != nil {
			problems = append(problems, Problem{File: f.Name, Reason: "twice in the archive"})
		}
		entries[f.Name] = f
	}
	mf := entries[ManifestFile.Name]
	if mf == nil {
		return nil, append(problems, Problem{File: ManifestFile.Name, Reason: "missing: no manifest"})
	}
	var manifest map[string]string
	rows := 0
	problems = append(problems, decodeEntry(mf, ManifestFile, func(row Row) {
		rows++
		if manifest == nil {
			manifest = row.Values
		}
	}, nil)...)
	if rows != 1 {
		problems = append(problems, Problem{File: ManifestFile.Name, Reason: fmt.Sprintf("%d rows, want one", rows)})
	}
	if manifest == nil {
		return nil, problems
	}
	files := strings.Split(manifest["files"], ";")
	sums := strings.Split(manifest["sha256"], ";")
	counts := strings.Split(manifest["rows"], ";")
	if len(sums) != len(files) || len(counts) != len(files) {
		problems = append(problems, Problem{File: ManifestFile.Name, Line: 2, Column: "sha256",
			Reason: fmt.Sprintf("%d files, %d hashes and %d row counts", len(files), len(sums), len(counts))})
		return manifest, problems
	}
	listed := map[string]bool{}
	for _, spec := range DataFiles {
		i := slices.Index(files, spec.Name)
		if i < 0 {
			problems = append(problems, Problem{File: ManifestFile.Name, Line: 2, Column: "files", Reason: spec.Name + " not listed"})
			continue
		}
		listed[spec.Name] = true
		if !sha256RE.MatchString(sums[i]) {
			problems = append(problems, Problem{File: ManifestFile.Name, Line: 2, Column: "sha256",
				Reason: fmt.Sprintf("the hash of %s is not a SHA-256 in lower-case hex", spec.Name)})
		}
	}
	for _, name := range files {
		if _, ok := fileNamed(name); !ok || name == ManifestFile.Name {
			problems = append(problems, Problem{File: ManifestFile.Name, Line: 2, Column: "files",
				Reason: fmt.Sprintf("%q is not a data file of the specification", name)})
		}
	}
	// The data files, Case.csv first for the cross-file check.
	cases := map[string]bool{}
	caseRefs := map[string][]Problem{}
	order := []File{CaseFile, StationFile, InventoryFile, StepFile, TransferFile, ExitFile}
	for _, spec := range order {
		f := entries[spec.Name]
		if f == nil {
			problems = append(problems, Problem{File: spec.Name, Reason: "missing from the archive"})
			continue
		}
		i := slices.Index(files, spec.Name)
		h := sha256.New()
		n := 0
		problems = append(problems, decodeEntry(f, spec, func(row Row) {
			n++
			id := row.Values["case_id"]
			switch {
			case spec.Name == CaseFile.Name:
				if cases[id] {
					problems = append(problems, Problem{File: spec.Name, Line: row.Line, Column: "case_id", Reason: "a second row of case " + id})
				}
				cases[id] = true
			case id != "":
				caseRefs[id] = append(caseRefs[id], Problem{File: spec.Name, Line: row.Line, Column: "case_id",
					Reason: "case " + id + " is not in Case.csv"})
			}
		}, h)...)
		if i < 0 {
			continue
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sums[i] {
			problems = append(problems, Problem{File: spec.Name, Reason: fmt.Sprintf("SHA-256 %s, the manifest says %s", got, sums[i])})
		}
		if want, err := strconv.Atoi(counts[i]); err != nil || want != n {
			problems = append(problems, Problem{File: spec.Name, Reason: fmt.Sprintf("%d valid rows, the manifest says %s", n, counts[i])})
		}
	}
	for id, refs := range caseRefs {
		if !cases[id] {
			problems = append(problems, refs...)
		}
	}
	slices.SortFunc(problems, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Column, b.Column)
	})
	if len(problems) > MaxProblems {
		problems = problems[:MaxProblems]
	}
	return manifest, problems
}

// decodeEntry decodes the ZIP entry f as spec, through h when not nil.
func decodeEntry(f *zip.File, spec File, fn func(Row), h io.Writer) []Problem {
	rc, err := f.Open()
	if err != nil {
		return []Problem{{File: spec.Name, Reason: "cannot be read from the archive: " + err.Error()}}
	}
	defer rc.Close()
	var r io.Reader = rc
	if h != nil {
		r = io.TeeReader(rc, h)
	}
	problems := DecodeFile(spec, r, fn)
	if h != nil {
		// Hash the rest of a file whose decoding stopped early.
		if _, err := io.Copy(io.Discard, r); err != nil {
			problems = append(problems, Problem{File: spec.Name, Reason: "cannot be read from the archive: " + err.Error()})
		}
	}
	return problems
}
