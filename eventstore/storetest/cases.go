package storetest

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"waystation/eventstore"
)

func (s *suite) cases() []testCase {
	return []testCase{
		{"append_to_new_stream_with_NoStream_creates_it", s.appendNoStreamCreates},
		{"append_with_NoStream_to_existing_stream_is_wrong_version", s.noStreamOnExisting},
		{"append_with_StreamExists_to_missing_stream_is_wrong_version", s.streamExistsOnMissing},
		{"append_with_StreamExists_to_existing_stream_succeeds", s.streamExistsOnExisting},
		{"append_at_exact_current_revision_succeeds", s.exactCurrent},
		{"append_at_stale_revision_is_wrong_version_with_actual", s.exactStale},
		{"append_at_exact_revision_to_missing_stream_is_wrong_version", s.exactOnMissing},
		{"append_with_Any_succeeds_whatever_the_state", s.anyAppends},
		{"append_returns_next_revision_and_increasing_positions", s.appendResult},
		{"retried_append_returns_original_result_and_writes_nothing", s.idempotentFull},
		{"retried_append_with_Any_returns_original_result", s.idempotentAny},
		{"retried_append_at_another_revision_is_idempotency_conflict", s.idempotentElsewhere},
		{"partially_stored_append_is_idempotency_conflict", s.idempotentPartial},
		{"event_ID_stored_in_another_stream_is_idempotency_conflict", s.idempotentOtherStream},
		{"invalid_requests_are_refused", s.invalid},
		{"empty_append_writes_nothing_and_checks_expected", s.emptyAppend},
		{"append_at_the_size_limit_round_trips_and_one_byte_more_is_refused", s.sizeLimit},
		{"read_stream_forwards_keeps_order_and_fields", s.readForwards},
		{"read_stream_backwards_from_end", s.readBackwards},
		{"read_stream_pages_forwards_and_backwards", s.readStreamPaging},
		{"read_missing_stream_is_not_found", s.readMissing},
		{"long_stream_of_many_appends_reads_from_every_revision", s.readLongStream},
		{"read_all_forwards_from_position_is_exclusive", s.readAllFrom},
		{"read_all_backwards_from_end_and_from_position", s.readAllBackwards},
		{"read_all_pages_with_limit", s.readAllPaging},
		{"each_event_of_a_multi_event_append_has_its_own_position", s.ownPositions},
		{"read_all_from_an_events_own_position_leaves_it_out_both_ways", s.readAllFromOwnPosition},
		{"head_is_the_last_position", s.headAdvances},
		{"subscribe_to_all_starts_after_position", s.subscribeAllExclusive},
		{"subscribe_to_all_catches_up_then_goes_live_with_no_gap_or_duplicate", s.subscribeAllLive},
		{"subscribe_to_stream_delivers_history_then_live", s.subscribeStream},
		{"subscribe_to_stream_from_revision", s.subscribeStreamFrom},
		{"subscribe_to_missing_stream_waits_for_it", s.subscribeStreamMissing},
		{"subscription_ends_cleanly_on_cancel", s.subscribeCancel},
		{"subscribe_to_tombstoned_stream_is_deleted", s.subscribeTombstoned},
		{"concurrent_appends_at_one_revision_exactly_one_wins", s.concurrentOneWins},
		{"concurrent_appends_to_many_streams_all_land_once", s.concurrentMany},
		{"soft_deleted_stream_reads_as_not_found", s.softDelete},
		{"soft_deleted_stream_is_recreated_with_continuing_revisions", s.softDeleteRecreate},
		{"stream_deleted_at_revision_9_and_recreated_with_150_events_reads_them_all", s.softDeleteRecreateLong},
		{"soft_deleted_events_stay_in_the_global_log", s.softDeleteKeepsAll},
		{"delete_checks_expected_revision", s.deleteExpected},
		{"delete_of_missing_stream_is_not_found", s.deleteMissing},
		{"delete_and_recreate_sequence_answers_as_the_contract_says", s.deleteRecreateSequence},
		{"tombstone_of_a_stream_never_written_reserves_its_name", s.tombstoneNeverWritten},
		{"tombstoned_stream_refuses_reads_appends_and_deletes", s.tombstone},
		{"tombstone_checks_expected_revision", s.tombstoneExpected},
		{"cancelled_context_fails_and_writes_nothing", s.cancelledContext},
		{"closed_store_returns_ErrClosed", s.closedStore},
		{"close_ends_subscriptions_with_ErrClosed", s.closeEndsSubscriptions},
		{"random_operations_match_a_model_of_the_contract", s.modelBased},
	}
}

var ctx = context.Background()

func (s *suite) appendNoStreamCreates(t *testing.T) {
	st := s.stream(t, "new")
	evs := Events("test.created", 2)
	res := mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	if res.NextExpectedRevision != 1 {
		t.Fatalf("next expected revision: got %d, want 1", res.NextExpectedRevision)
	}
	got := readStream(t, s.store, st, eventstore.ReadStreamOptions{})
	wantIDs(t, got, dataIDs(evs))
}

func (s *suite) noStreamOnExisting(t *testing.T) {
	st := s.stream(t, "nostream")
	mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 3)...)
	_, err := s.store.Append(ctx, st, eventstore.NoStream, Event("test.b", 0))
	wantWrongVersion(t, err, st, 2, true)
	if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 3 {
		t.Fatalf("stream has %d events after a refused append, want 3", n)
	}
}

func (s *suite) streamExistsOnMissing(t *testing.T) {
	st := s.stream(t, "exists-missing")
	_, err := s.store.Append(ctx, st, eventstore.StreamExists, Event("test.a", 0))
	wantWrongVersion(t, err, st, 0, false)
	wantErr(t, firstErr(s.store.ReadStream(ctx, st, eventstore.ReadStreamOptions{})), eventstore.ErrStreamNotFound)
}

func (s *suite) streamExistsOnExisting(t *testing.T) {
	st := s.stream(t, "exists")
	mustAppend(t, s.store, st, eventstore.NoStream, Event("test.a", 0))
	res := mustAppend(t, s.store, st, eventstore.StreamExists, Event("test.b", 1))
	if res.NextExpectedRevision != 1 {
		t.Fatalf("next expected revision: got %d, want 1", res.NextExpectedRevision)
	}
}

func (s *suite) exactCurrent(t *testing.T) {
	st := s.stream(t, "exact")
	res := mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 2)...)
	res = mustAppend(t, s.store, st, eventstore.Exact(res.NextExpectedRevision), Event("test.b", 2))
	res = mustAppend(t, s.store, st, eventstore.Exact(res.NextExpectedRevision), Event("test.c", 3))
	if res.NextExpectedRevision != 3 {
		t.Fatalf("next expected revision: got %d, want 3", res.NextExpectedRevision)
	}
}

func (s *suite) exactStale(t *testing.T) {
	st := s.stream(t, "stale")
	mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 5)...)
	for _, stale := range []uint64{0, 3, 5, 9} {
		_, err := s.store.Append(ctx, st, eventstore.Exact(stale), Event("test.b", 0))
		wantWrongVersion(t, err, st, 4, true)
		var wev *eventstore.WrongExpectedVersionError
		errors.As(err, &wev)
		if r, ok := wev.Expected.Revision(); !ok || r != stale {
			t.Fatalf("error carries expected %s, want revision %d", wev.Expected, stale)
		}
	}
}

func (s *suite) exactOnMissing(t *testing.T) {
	st := s.stream(t, "exact-missing")
	_, err := s.store.Append(ctx, st, eventstore.Exact(0), Event("test.a", 0))
	wantWrongVersion(t, err, st, 0, false)
}

func (s *suite) anyAppends(t *testing.T) {
	st := s.stream(t, "any")
	mustAppend(t, s.store, st, eventstore.Any, Event("test.a", 0))
	res := mustAppend(t, s.store, st, eventstore.Any, Event("test.b", 1))
	if res.NextExpectedRevision != 1 {
		t.Fatalf("next expected revision: got %d, want 1", res.NextExpectedRevision)
	}
}

func (s *suite) appendResult(t *testing.T) {
	st := s.stream(t, "result")
	first := mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 3)...)
	second := mustAppend(t, s.store, st, eventstore.Exact(2), Event("test.b", 3))
	if first.NextExpectedRevision != 2 || second.NextExpectedRevision != 3 {
		t.Fatalf(
			"next expected revisions: got %d then %d, want 2 then 3", first.NextExpectedRevision, second.NextExpectedRevision,
		)
	}
	if !first.Position.Before(second.Position) {
		t.Fatalf("positions: %s is not before %s", first.Position, second.Position)
	}
	got := readStream(t, s.store, st, eventstore.ReadStreamOptions{})
	if got[2].Position != first.Position || got[3].Position != second.Position {
		t.Fatalf(
			"append results %s, %s differ from stored positions %s, %s", first.Position, second.Position,
			got[2].Position, got[3].Position,
		)
	}
	for i := 1; i < len(got); i++ {
		if !got[i-1].Position.Before(got[i].Position) {
			t.Fatalf("positions out of order: %s then %s", got[i-1].Position, got[i].Position)
		}
	}
}

func (s *suite) idempotentFull(t *testing.T) {
	st := s.stream(t, "retry")
	evs := Events("test.a", 3)
	first := mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	before := head(t, s.store)
	again := mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	if again != first {
		t.Fatalf("retry result: got %+v, want the original %+v", again, first)
	}
	next := mustAppend(t, s.store, st, eventstore.Exact(2), Event("test.b", 3))
	if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 4 {
		t.Fatalf("stream has %d events, want 4", n)
	}
	if got := readAllOf(
		t, s.store, st, eventstore.ReadAllOptions{From: before},
	); len(got) != 1 || got[0].Position != next.Position {
		t.Fatalf("global log after the retry holds %d events of the stream, want only the next append", len(got))
	}
}

func (s *suite) idempotentAny(t *testing.T) {
	st := s.stream(t, "retry-any")
	mustAppend(t, s.store, st, eventstore.Any, Event("test.a", 0))
	evs := Events("test.b", 2)
	first := mustAppend(t, s.store, st, eventstore.Any, evs...)
	mustAppend(t, s.store, st, eventstore.Any, Event("test.c", 3))
	again := mustAppend(t, s.store, st, eventstore.Any, evs...)
	if again != first {
		t.Fatalf("retry result: got %+v, want the original %+v", again, first)
	}
	if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 4 {
		t.Fatalf("stream has %d events, want 4", n)
	}
}

func (s *suite) idempotentElsewhere(t *testing.T) {
	if s.limits.RetriesOnlyWhereTheyLand {
		t.Skip("the backend declares Limits.RetriesOnlyWhereTheyLand: " +
			"stored event IDs are looked for only where a retry of the same append lands")
	}
	st := s.stream(t, "retry-elsewhere")
	evs := Events("test.a", 2)
	mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	mustAppend(t, s.store, st, eventstore.Exact(1), Event("test.b", 2))
	_, err := s.store.Append(ctx, st, eventstore.Exact(2), evs...)
	wantErr(t, err, eventstore.ErrIdempotencyConflict)
	if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 3 {
		t.Fatalf("stream has %d events, want 3", n)
	}
}

func (s *suite) idempotentPartial(t *testing.T) {
	st := s.stream(t, "partial")
	evs := Events("test.a", 2)
	mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	_, err := s.store.Append(ctx, st, eventstore.Any, evs[1], Event("test.b", 2))
	wantErr(t, err, eventstore.ErrIdempotencyConflict)
	if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 2 {
		t.Fatalf("stream has %d events, want 2", n)
	}
}

func (s *suite) idempotentOtherStream(t *testing.T) {
	if s.limits.EventIDsPerStream {
		t.Skip("the backend declares Limits.EventIDsPerStream: event IDs are recognised only within one stream")
	}
	a, b := s.stream(t, "owner"), s.stream(t, "thief")
	ev := Event("test.a", 0)
	mustAppend(t, s.store, a, eventstore.NoStream, ev)
	_, err := s.store.Append(ctx, b, eventstore.Any, ev)
	wantErr(t, err, eventstore.ErrIdempotencyConflict)
	wantErr(t, firstErr(s.store.ReadStream(ctx, b, eventstore.ReadStreamOptions{})), eventstore.ErrStreamNotFound)
}

func (s *suite) invalid(t *testing.T) {
	st := s.stream(t, "invalid")
	dup := Event("test.a", 0)
	cases := []struct {
		name   string
		stream string
		events []eventstore.EventData
	}{
		{"empty stream name", "", []eventstore.EventData{Event("test.a", 0)}},
		{"nil event ID", st, []eventstore.EventData{{Type: "test.a", Data: []byte(`{}`)}}},
		{"empty type", st, []eventstore.EventData{{ID: uuid.New(), Data: []byte(`{}`)}}},
		{"one ID twice", st, []eventstore.EventData{dup, dup}},
	}
	for _, c := range cases {
		_, err := s.store.Append(ctx, c.stream, eventstore.Any, c.events...)
		if !errors.Is(err, eventstore.ErrInvalid) {
			t.Errorf("%s: got error %v, want ErrInvalid", c.name, err)
		}
	}
	wantErr(t, firstErr(s.store.ReadStream(ctx, st, eventstore.ReadStreamOptions{})), eventstore.ErrStreamNotFound)
}

func (s *suite) emptyAppend(t *testing.T) {
	st := s.stream(t, "empty")
	missing := s.stream(t, "empty-missing")
	before := head(t, s.store)
	if _, err := s.store.Append(ctx, missing, eventstore.NoStream); err != nil {
		t.Fatalf("empty append to a missing stream with NoStream: %v", err)
	}
	wantErr(t, firstErr(s.store.ReadStream(ctx, missing, eventstore.ReadStreamOptions{})), eventstore.ErrStreamNotFound)
	if h := head(t, s.store); h != before && len(
		readAllOf(t, s.store, s.prefix+"empty", eventstore.ReadAllOptions{From: before}),
	) != 0 {
		t.Fatal("empty append wrote events")
	}
	res := mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 2)...)
	got := mustAppend(t, s.store, st, eventstore.Exact(1))
	if got != res {
		t.Fatalf("empty append result: got %+v, want the stream's current %+v", got, res)
	}
	_, err := s.store.Append(ctx, st, eventstore.Exact(0))
	wantWrongVersion(t, err, st, 1, true)
	if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 2 {
		t.Fatalf("stream has %d events, want 2", n)
	}
}

func (s *suite) readForwards(t *testing.T) {
	st := s.stream(t, "forwards")
	evs := Events("test.a", 5)
	mustAppend(t, s.store, st, eventstore.NoStream, evs[:2]...)
	mustAppend(t, s.store, st, eventstore.Exact(1), evs[2:]...)
	got := readStream(t, s.store, st, eventstore.ReadStreamOptions{})
	if len(got) != len(evs) {
		t.Fatalf("got %d events, want %d", len(got), len(evs))
	}
	for i := range evs {
		equalEvent(t, got[i], evs[i], st, uint64(i))
	}
}

func (s *suite) readBackwards(t *testing.T) {
	st := s.stream(t, "backwards")
	evs := Events("test.a", 4)
	mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	got := readStream(
		t, s.store, st, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd},
	)
	wantIDs(t, got, []uuid.UUID{evs[3].ID, evs[2].ID, evs[1].ID, evs[0].ID})
	got = readStream(t, s.store, st, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: 1})
	wantIDs(t, got, []uuid.UUID{evs[1].ID, evs[0].ID})
}

func (s *suite) readStreamPaging(t *testing.T) {
	st := s.stream(t, "paging")
	evs := Events("test.a", 10)
	mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	var forwards []eventstore.RecordedEvent
	for from := uint64(0); ; {
		page := readStream(t, s.store, st, eventstore.ReadStreamOptions{From: from, Limit: 3})
		if len(page) > 3 {
			t.Fatalf("page of %d events, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		forwards = append(forwards, page...)
		from = page[len(page)-1].Revision + 1
	}
	wantIDs(t, forwards, dataIDs(evs))
	var backwards []eventstore.RecordedEvent
	for from := eventstore.StreamEnd; ; {
		page := readStream(
			t, s.store, st, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: from, Limit: 4},
		)
		if len(page) > 4 {
			t.Fatalf("page of %d events, limit 4", len(page))
		}
		backwards = append(backwards, page...)
		if len(page) == 0 || page[len(page)-1].Revision == 0 {
			break
		}
		from = page[len(page)-1].Revision - 1
	}
	if want := []uint64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}; !equalU64(revisions(backwards), want) {
		t.Fatalf("backward pages: got revisions %v, want %v", revisions(backwards), want)
	}
	if got := readStream(t, s.store, st, eventstore.ReadStreamOptions{From: 10}); len(got) != 0 {
		t.Fatalf("reading past the end gave %d events, want none", len(got))
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s *suite) readMissing(t *testing.T) {
	got, err := Collect(s.store.ReadStream(ctx, s.stream(t, "never"), eventstore.ReadStreamOptions{}))
	wantErr(t, err, eventstore.ErrStreamNotFound)
	if len(got) != 0 {
		t.Fatalf("missing stream yielded %d events", len(got))
	}
}

func (s *suite) readAllFrom(t *testing.T) {
	prefix := s.stream(t, "all")
	a, b := prefix+"-a", prefix+"-b"
	mustAppend(t, s.store, a, eventstore.NoStream, Event("test.a", 0))
	r1 := mustAppend(t, s.store, b, eventstore.NoStream, Event("test.b", 0))
	evs := []eventstore.EventData{Event("test.a", 1), Event("test.a", 2)}
	mustAppend(t, s.store, a, eventstore.Exact(0), evs[0])
	mustAppend(t, s.store, b, eventstore.Exact(0), evs[1])
	got := readAllOf(t, s.store, prefix, eventstore.ReadAllOptions{From: r1.Position})
	wantIDs(t, got, dataIDs(evs))
	all := readAllOf(t, s.store, prefix, eventstore.ReadAllOptions{From: eventstore.Start})
	if len(all) != 4 || all[1].Position != r1.Position {
		t.Fatalf("read from start: got %d events (second at %v), want 4 with the second at %s", len(all), all, r1.Position)
	}
}

func (s *suite) readAllBackwards(t *testing.T) {
	prefix := s.stream(t, "allback")
	evs := Events("test.a", 4)
	var results []eventstore.AppendResult
	for i, e := range evs {
		results = append(results, mustAppend(t, s.store, prefix+"-"+string(rune('a'+i)), eventstore.NoStream, e))
	}
	got := readAllOf(
		t, s.store, prefix, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Limit: 0},
	)
	wantIDs(t, got, []uuid.UUID{evs[3].ID, evs[2].ID, evs[1].ID, evs[0].ID})
	got = readAllOf(
		t, s.store, prefix, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: results[2].Position},
	)
	wantIDs(t, got, []uuid.UUID{evs[1].ID, evs[0].ID})
}

func (s *suite) readAllPaging(t *testing.T) {
	prefix := s.stream(t, "allpage")
	evs := Events("test.a", 7)
	before := head(t, s.store)
	mustAppend(t, s.store, prefix, eventstore.NoStream, evs...)
	var got []eventstore.RecordedEvent
	short := -1 // the size of a page shorter than the limit, once seen
	for from := before; ; {
		page, err := Collect(s.store.ReadAll(ctx, eventstore.ReadAllOptions{From: from, Limit: 3}))
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("page of %d events, limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		if short >= 0 {
			t.Fatalf(
				"a page of %d events, limit 3, was followed by %d more: a short page must be the end of the log", short, len(page),
			)
		}
		if len(page) < 3 {
			short = len(page)
		}
		for _, e := range page {
			if strings.HasPrefix(e.Stream, prefix) {
				got = append(got, e)
			}
		}
		from = page[len(page)-1].Position
	}
	wantIDs(t, got, dataIDs(evs))
	var back []eventstore.RecordedEvent
	for from := eventstore.End; len(back) < len(evs); {
		page, err := Collect(
			s.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: from, Limit: 2}),
		)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 || len(page) > 2 {
			t.Fatalf("backward page of %d events, want 1 or 2", len(page))
		}
		for _, e := range page {
			if strings.HasPrefix(e.Stream, prefix) {
				back = append(back, e)
			}
		}
		from = page[len(page)-1].Position
	}
	if want := []uint64{6, 5, 4, 3, 2, 1, 0}; !equalU64(revisions(back), want) {
		t.Fatalf("backward pages: got revisions %v, want %v", revisions(back), want)
	}
}

func (s *suite) headAdvances(t *testing.T) {
	st := s.stream(t, "head")
	before := head(t, s.store)
	res := mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 2)...)
	after := head(t, s.store)
	if !before.Before(res.Position) || after.Before(res.Position) {
		t.Fatalf("head went from %s to %s around an append at %s", before, after, res.Position)
	}
}

func (s *suite) subscribeAllExclusive(t *testing.T) {
	prefix := s.stream(t, "suball")
	evs := Events("test.a", 3)
	res := mustAppend(t, s.store, prefix, eventstore.NoStream, evs[0])
	mustAppend(t, s.store, prefix, eventstore.Exact(0), evs[1:]...)
	sub := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return s.store.SubscribeToAll(c, res.Position)
	})
	got := sub.untilCaughtUp(t, prefix)
	wantIDs(t, got, dataIDs(evs[1:]))
}

func (s *suite) subscribeAllLive(t *testing.T) {
	prefix := s.stream(t, "live")
	const writers, perWriter, history = 4, 40, 30
	start := head(t, s.store)
	var want []eventstore.EventData
	for i := range history {
		e := Event("test.history", i)
		mustAppend(t, s.store, prefix+"-h", eventstore.Any, e)
		want = append(want, e)
	}
	sub := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return s.store.SubscribeToAll(c, start)
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := prefix + "-w" + string(rune('a'+w))
			for i := range perWriter {
				e := Event("test.live", i)
				mu.Lock()
				want = append(want, e)
				mu.Unlock()
				if _, err := s.store.Append(ctx, stream, eventstore.Any, e); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	got, caughtUp := sub.events(t, prefix, history+writers*perWriter)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent append: %v", err)
	}
	if caughtUp != 1 {
		t.Fatalf("saw CaughtUp %d times, want once", caughtUp)
	}
	seen := map[uuid.UUID]bool{}
	for i, e := range got {
		if seen[e.ID] {
			t.Fatalf("event %s delivered twice", e.ID)
		}
		seen[e.ID] = true
		if i > 0 && !got[i-1].Position.Before(e.Position) {
			t.Fatalf("positions out of order: %s then %s", got[i-1].Position, e.Position)
		}
	}
	for _, e := range want {
		if !seen[e.ID] {
			t.Fatalf("event %s never delivered", e.ID)
		}
	}
	for i := range history {
		if got[i].ID != want[i].ID {
			t.Fatalf("history event %d: got %s, want %s", i, got[i].ID, want[i].ID)
		}
	}
}

func (s *suite) subscribeStream(t *testing.T) {
	st := s.stream(t, "substream")
	other := s.stream(t, "substream-other")
	hist := Events("test.a", 3)
	mustAppend(t, s.store, st, eventstore.NoStream, hist...)
	sub := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return s.store.SubscribeToStream(c, st, 0)
	})
	wantIDs(t, sub.untilCaughtUp(t, st), dataIDs(hist))
	mustAppend(t, s.store, other, eventstore.Any, Event("test.other", 0))
	live := Events("test.b", 2)
	mustAppend(t, s.store, st, eventstore.Exact(2), live...)
	got, _ := sub.events(t, s.prefix, 2)
	wantIDs(t, got, dataIDs(live))
	if got[0].Revision != 3 || got[1].Revision != 4 {
		t.Fatalf("live revisions: got %v, want [3 4]", revisions(got))
	}
}

func (s *suite) subscribeStreamFrom(t *testing.T) {
	st := s.stream(t, "substream-from")
	evs := Events("test.a", 5)
	mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	sub := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return s.store.SubscribeToStream(c, st, 3)
	})
	wantIDs(t, sub.untilCaughtUp(t, st), dataIDs(evs[3:]))
}

func (s *suite) subscribeStreamMissing(t *testing.T) {
	st := s.stream(t, "substream-later")
	sub := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return s.store.SubscribeToStream(c, st, 0)
	})
	if got := sub.untilCaughtUp(t, st); len(got) != 0 {
		t.Fatalf("missing stream delivered %d events before catching up", len(got))
	}
	evs := Events("test.a", 2)
	mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	got, _ := sub.events(t, st, 2)
	wantIDs(t, got, dataIDs(evs))
}

func (s *suite) subscribeCancel(t *testing.T) {
	for _, name := range []string{"all", "stream"} {
		st := s.stream(t, "cancel")
		mustAppend(t, s.store, st, eventstore.NoStream, Event("test.a", 0))
		sub := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
			if name == "all" {
				return s.store.SubscribeToAll(c, head(t, s.store))
			}
			return s.store.SubscribeToStream(c, st, 0)
		})
		sub.untilCaughtUp(t, st)
		sub.cancel()
		sub.waitEnd(t)
	}
}

func (s *suite) subscribeTombstoned(t *testing.T) {
	st := s.stream(t, "sub-tomb")
	mustAppend(t, s.store, st, eventstore.NoStream, Event("test.a", 0))
	if err := s.store.Tombstone(ctx, st, eventstore.Any); err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return s.store.SubscribeToStream(c, st, 0)
	})
	wantErr(t, sub.waitErr(t), eventstore.ErrStreamDeleted)
}

func (s *suite) concurrentOneWins(t *testing.T) {
	st := s.stream(t, "race")
	mustAppend(t, s.store, st, eventstore.NoStream, Event("test.a", 0))
	const racers = 8
	for round := uint64(0); round < 3; round++ {
		var wg sync.WaitGroup
		results := make(chan error, racers)
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.store.Append(ctx, st, eventstore.Exact(round), Event("test.b", i))
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		wins := 0
		for err := range results {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, eventstore.ErrWrongExpectedVersion):
				t.Fatalf("losing append: got %v, want ErrWrongExpectedVersion", err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d appends won, want exactly 1", round, wins)
		}
	}
	if got := readStream(t, s.store, st, eventstore.ReadStreamOptions{}); len(got) != 4 {
		t.Fatalf("stream has %d events, want 4", len(got))
	}
}

func (s *suite) concurrentMany(t *testing.T) {
	prefix := s.stream(t, "many")
	const writers, each = 8, 10
	before := head(t, s.store)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := prefix + "-" + string(rune('a'+w))
			expected := eventstore.NoStream
			for i := range each {
				res, err := s.store.Append(ctx, stream, expected, Event("test.a", i))
				if err != nil {
					errs <- err
					return
				}
				expected = eventstore.Exact(res.NextExpectedRevision)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	got := readAllOf(t, s.store, prefix, eventstore.ReadAllOptions{From: before})
	if len(got) != writers*each {
		t.Fatalf("global log holds %d of the events, want %d", len(got), writers*each)
	}
	next := map[string]uint64{}
	for i, e := range got {
		if i > 0 && !got[i-1].Position.Before(e.Position) {
			t.Fatalf("positions out of order: %s then %s", got[i-1].Position, e.Position)
		}
		if e.Revision != next[e.Stream] {
			t.Fatalf("stream %s: revision %d where %d was due", e.Stream, e.Revision, next[e.Stream])
		}
		next[e.Stream]++
	}
}

func (s *suite) readLongStream(t *testing.T) {
	st := s.stream(t, "long")
	other := s.stream(t, "long-other")
	var all []uuid.UUID
	for i := range 110 {
		evs := Events("test.a", i%3+1)
		mustAppend(t, s.store, st, eventstore.Any, evs...)
		mustAppend(t, s.store, other, eventstore.Any, Event("test.other", i))
		all = append(all, dataIDs(evs)...)
	}
	big := Events("test.big", 150)
	mustAppend(t, s.store, st, eventstore.Any, big...)
	all = append(all, dataIDs(big)...)
	last := uint64(len(all) - 1)
	for _, from := range []uint64{
		0, 1, 2, 30, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 191, 192, 250, 300, last - 64, last - 63, last - 1, last,
	} {
		got := readStream(t, s.store, st, eventstore.ReadStreamOptions{From: from})
		wantIDs(t, got, all[from:])
		got = readStream(t, s.store, st, eventstore.ReadStreamOptions{From: from, Limit: 7})
		wantIDs(t, got, all[from:min(from+7, last+1)])
		got = readStream(t, s.store, st, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: from, Limit: 9})
		var want []uuid.UUID
		for r := int(from); r >= 0 && len(want) < 9; r-- {
			want = append(want, all[r])
		}
		wantIDs(t, got, want)
		for i, e := range got {
			if e.Revision != from-uint64(i) {
				t.Fatalf("backwards from %d: revision %d at index %d", from, e.Revision, i)
			}
		}
	}
	back := readStream(
		t, s.store, st, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd},
	)
	if len(back) != len(all) || back[0].ID != all[last] || back[len(back)-1].ID != all[0] {
		t.Fatalf("backwards from the end: got %d events, want %d, newest first", len(back), len(all))
	}
	if err := s.store.Delete(ctx, st, eventstore.Exact(last)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	evs := Events("test.b", 2)
	mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	wantIDs(t, readStream(t, s.store, st, eventstore.ReadStreamOptions{}), dataIDs(evs))
	wantIDs(
		t,
		readStream(t, s.store, st, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd}),
		[]uuid.UUID{evs[1].ID, evs[0].ID},
	)
}
