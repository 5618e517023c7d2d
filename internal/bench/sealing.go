package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/sealed"
	"waystation/projections/loggen"
)

// SealingCost is what `waystation bench sealing` measures in one run: the
// append benchmark (writers appending case events that carry personal
// values, fsync on) and the rebuild benchmark (projections/loggen's
// realistic log), each with encryption off and on, and the cost of
// encryption as a fraction (0.10 is 10 % slower). Each side runs three
// times (the rebuild five times after generating), alternating, and the
// best run counts, to damp the noise of a shared machine.
type SealingCost struct {
	AppendPlain  Result `json:"append_plain"`
	AppendSealed Result `json:"append_sealed"`
	// AppendCost is plain events/s over sealed events/s, minus one;
	// AppendCPUCost the same by the process's CPU time per event, which
	// other programs on the machine disturb less.
	AppendCost    float64        `json:"append_cost"`
	AppendCPUCost float64        `json:"append_cpu_cost"`
	RebuildPlain  loggen.Report  `json:"rebuild_plain"`
	RebuildSealed loggen.Report  `json:"rebuild_sealed"`
	RebuildCost   float64        `json:"rebuild_cost"`     // by wall time
	RebuildCPU    float64        `json:"rebuild_cpu_cost"` // by CPU time
	Notes         map[string]any `json:"notes,omitempty"`
}

// openStore opens a bolt store in dir, sealed when seal is set (with a
// fixed master key: the data is disposable).
func openStore(dir string, opts bolt.Options, seal bool) (eventstore.Store, *bolt.Store, error) {
	s, err := bolt.Open(dir, opts)
	if err != nil {
		return nil, nil, err
	}
	if !seal {
		return s, s, nil
	}
	ks, err := sealed.OpenKeyStore(dir, make([]byte, 32))
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return sealed.New(s, ks, domain.PersonalPaths, domain.DataSubject), s, nil
}

// casePayload is an intake with every kind of personal value, as the
// service writes it.
var casePayload = func() []byte {
	age := 34
	ev := domain.IntakeRegistered{
		CaseID: uuid.MustParse("01940000-0000-7000-8000-000000000001"), Station: "S01",
		Referral: domain.Referral{Source: "police_escort", FormNo: "JX-2024-0001", FoundAt: "under the Jiefang Road bridge"},
		Person: domain.Person{Name: "Zhang Wei", Sex: domain.Male, EstimatedAge: &age, IDNumber: "11010519491231002X",
			HukouPlace: "Xinyang, Henan", Dialect: "Henan", StreetReason: "lost work", PhotoRef: "photo/2024/0001.jpg",
			Contacts: []domain.Contact{{Name: "Zhang Li", Relationship: "sister", Phone: "13800138000"}}},
		Inspection: domain.Inspection{Injuries: true, Notes: "cut on the left hand"},
		Notes:      "brought in at night",
	}
	d, err := domain.Encode(uuid.New(), ev, domain.Metadata{OccurredAt: time.Unix(1700000000, 0).UTC(), Actor: "t", Role: domain.RoleStaff})
	if err != nil {
		panic(err)
	}
	return d.Data
}()

// appendCases is Append with case events carrying personal
// values: each writer appends to a new case stream every 10 events (so
// data keys are created as a station would), with fsync on.
func appendCases(ctx context.Context, dir string, writers, events int, seal bool) (Result, error) {
	store, _, err := openStore(dir, bolt.Options{}, seal)
	if err != nil {
		return Result{}, err
	}
	defer store.Close()
	streams := make([]string, writers) // per writer: its current case stream
	lat, elapsed, peak, err := appendLoad(ctx, store, writers, events,
		func(w, i int) string {
			if i%10 == 0 {
				streams[w] = domain.CaseStream(uuid.New())
			}
			return streams[w]
		},
		eventstore.EventData{Type: domain.TypeIntakeRegistered, Data: casePayload, Metadata: []byte(`{"schema_version":2}`)})
	if err != nil {
		return Result{}, err
	}
	return Result{
		Writers: writers, Events: events, Seconds: elapsed.Seconds(), EventsPerSec: float64(events) / elapsed.Seconds(),
		P50Ms: lat.P50Ms, P99Ms: lat.P99Ms, MaxMs: lat.MaxMs, HeapMB: float64(peak) / (1 << 20),
	}, nil
}

// Sealing measures the cost of sealing personal values on the append
// and rebuild benchmarks, in subfolders of dir.
func Sealing(ctx context.Context, dir string, writers, appendEvents, rebuildEvents int) (SealingCost, error) {
	if writers < 1 || appendEvents < 1 || rebuildEvents < 1 {
		return SealingCost{}, errors.New("bench: writers and events must be at least 1")
	}
	var out SealingCost
	var cpu [2]time.Duration
	for round := range 3 {
		for k, seal := range []bool{false, true} {
			sub := filepath.Join(dir, "append-"+strconv.FormatBool(seal)+"-"+strconv.Itoa(round))
			c0 := loggen.CPUTime()
			r, err := appendCases(ctx, sub, writers, appendEvents, seal)
			if err != nil {
				return out, err
			}
			if c := loggen.CPUTime() - c0; cpu[k] == 0 || c < cpu[k] {
				cpu[k] = c
			}
			best := &out.AppendPlain
			if seal {
				best = &out.AppendSealed
			}
			if r.EventsPerSec > best.EventsPerSec {
				*best = r
			}
		}
	}
	out.AppendCost = out.AppendPlain.EventsPerSec/out.AppendSealed.EventsPerSec - 1
	if cpu[0] > 0 {
		out.AppendCPUCost = float64(cpu[1])/float64(cpu[0]) - 1
	}
	for round := range 6 {
		for _, seal := range []bool{false, true} {
			store, raw, err := openStore(filepath.Join(dir, "rebuild-"+strconv.FormatBool(seal)), bolt.Options{NoSync: true}, seal)
			if err != nil {
				return out, err
			}
			rep, err := loggen.RebuildBenchmark(ctx, store, raw, rebuildEvents)
			store.Close()
			if err != nil {
				return out, fmt.Errorf("bench rebuild: %w", err)
			}
			if round == 0 {
				continue // the first round generates the logs
			}
			best := &out.RebuildPlain
			if seal {
				best = &out.RebuildSealed
			}
			if best.RebuildSec == 0 || rep.RebuildSec < best.RebuildSec {
				cpu := best.RebuildCPUSec
				*best = rep
				if cpu > 0 && cpu < rep.RebuildCPUSec {
					best.RebuildCPUSec = cpu
				}
			} else if rep.RebuildCPUSec > 0 && rep.RebuildCPUSec < best.RebuildCPUSec {
				best.RebuildCPUSec = rep.RebuildCPUSec
			}
		}
	}
	out.RebuildCost = out.RebuildSealed.RebuildSec/out.RebuildPlain.RebuildSec - 1
	if out.RebuildPlain.RebuildCPUSec > 0 {
		out.RebuildCPU = out.RebuildSealed.RebuildCPUSec/out.RebuildPlain.RebuildCPUSec - 1
	}
	return out, nil
}
