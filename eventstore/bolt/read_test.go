package bolt

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// TestPageReaderEqualsDecodeRecord checks that the global log's page
// reader returns what decodeRecord returns, and that the events of a page,
// which share memory, stay apart when a caller appends to one of them.
func TestPageReaderEqualsDecodeRecord(t *testing.T) {
	at := time.Date(2026, 1, 10, 8, 0, 0, 5, time.UTC)
	events := []eventstore.RecordedEvent{
		{
			ID:         uuid.New(),
			Stream:     "case-1",
			Revision:   3,
			Type:       "case.closed",
			Data:       []byte(`{}`),
			Metadata:   []byte(`{"actor":"a"}`),
			RecordedAt: at,
		},
		{ID: uuid.New(), Stream: "station-S01", Type: "station.bed_assigned", Data: []byte(`{"bed":"b"}`), RecordedAt: at},
		{
			ID:         uuid.New(),
			Stream:     "s",
			Type:       "big",
			Data:       bytes.Repeat([]byte("x"), maxArena+1),
			Metadata:   []byte(`{}`),
			RecordedAt: at,
		},
		{ID: uuid.New(), Stream: "s", Type: "case.closed", RecordedAt: at},
	}
	var pr pageReader
	var got []eventstore.RecordedEvent
	for i, e := range events {
		rec := encodeRecord(&e)
		want, err := decodeRecord(uint64(i+1), rec)
		if err != nil {
			t.Fatal(err)
		}
		g, err := pr.decode(uint64(i+1), rec)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, want) {
			t.Fatalf("event %d: got %+v, want %+v", i, g, want)
		}
		clear(rec) // bbolt's memory is reused after the transaction
		got = append(got, g)
	}
	_ = append(got[0].Data, "more"...)
	_ = append(got[0].Metadata, "more"...)
	if string(got[1].Data) != `{"bed":"b"}` || string(got[0].Metadata) != `{"actor":"a"}` {
		t.Fatalf("appending to one event changed another: %q %q", got[1].Data, got[0].Metadata)
	}
	if !strings.HasPrefix(string(got[2].Data), "xxx") {
		t.Fatalf("a payload larger than a block: %.10q", got[2].Data)
	}
}

func TestPageReaderRefusesCorruptRecords(t *testing.T) {
	e := eventstore.RecordedEvent{ID: uuid.New(), Stream: "s", Type: "t", Data: []byte(`{}`)}
	rec := encodeRecord(&e)
	var pr pageReader
	for name, b := range map[string][]byte{
		"short":         rec[:headerSize-1],
		"other version": append([]byte{recordVersion + 1}, rec[1:]...),
		"truncated":     rec[:len(rec)-1],
		"trailing":      append(append([]byte(nil), rec...), 0),
	} {
		if _, err := pr.decode(1, b); err != errCorrupt {
			t.Errorf("%s: got %v, want errCorrupt", name, err)
		}
	}
}
