package conf

import (
	"bytes"
	"fmt"
)

// CheckDeliveryOffsets checks that record i was delivered at offset want(i) (nil want: at offset i).
func CheckDeliveryOffsets(offsets []int64, want func(int) int64) error {
	for i, o := range offsets {
		w := int64(i)
		if want != nil {
			w = want(i)
		}
		if o != w {
			return fmt.Errorf("delivery offset of record %d: expected %d, got %d", i, w, o)
		}
	}
	return nil
}

// CheckConsumed records how many records were read (fact "consumed") and checks that the read,
// which ended with err, gave want.
func CheckConsumed(s *Scenario, what string, want, got []Record, err error) error {
	s.Fact("consumed", len(got))
	if err != nil {
		return err
	}
	return CompareRecords(what, want, got)
}

// ReadBack produces recs, checks their delivery offsets (0, 1, ...; when checkOffsets), reads them
// back and checks them identical. label names one round trip of several: it prefixes the errors
// and names the fact consumed_LABEL; without a label the facts are produced and consumed.
func ReadBack(s *Scenario, label string, recs []Record, checkOffsets bool,
	produce func() ([]int64, error), consume func() ([]Record, error)) error {
	wrap := func(err error) error {
		if label == "" || err == nil {
			return err
		}
		return fmt.Errorf("%s: %w", label, err)
	}
	offsets, err := produce()
	if label == "" {
		s.Fact("produced", len(recs))
	}
	if err != nil {
		return wrap(err)
	}
	if checkOffsets {
		if err := CheckDeliveryOffsets(offsets, nil); err != nil {
			return wrap(err)
		}
	}
	got, err := consume()
	if label == "" {
		return CheckConsumed(s, "read back", recs, got, err)
	}
	s.Fact("consumed_"+label, len(got))
	if err != nil {
		return wrap(err)
	}
	return CompareRecords("read back "+label, recs, got)
}

// CheckOnlyRecordA checks the read back of max-message-bytes: record A alone, at offset 0.
func CheckOnlyRecordA(s *Scenario, a Record, got []Record, err error) error {
	s.Fact("consumed", len(got))
	if err != nil {
		return err
	}
	if len(got) != 1 {
		return fmt.Errorf("read back: expected exactly 1 record (A), got %d", len(got))
	}
	if got[0].Offset != 0 || !bytes.Equal(got[0].Key, a.Key) || !bytes.Equal(got[0].Value, a.Value) {
		return fmt.Errorf("read back: expected record A at offset 0, got key %q (%d-byte value) at offset %d", got[0].Key, len(got[0].Value), got[0].Offset)
	}
	return nil
}

// IdempotentWant is what partition p of the idempotent scenario holds: standard records p, p+3, ...
// of the n produced, at offsets 0, 1, ...
func IdempotentWant(s *Scenario, n int, p int32) []Record {
	var want []Record
	for i := int(p); i < n; i += 3 {
		r := Standard(s.Name, i)
		r.Offset = int64(i / 3)
		want = append(want, r)
	}
	return want
}

// OffsetForTime is the offset lookup of consume-timestamp: the first offset at or after ms.
type OffsetForTime func(ms int64) (int64, error)

// ConsumeTimestamp is the consume-timestamp scenario: produce 10 standard records, look up the
// offsets for T0+5000, T0+5500 and T0+60000 (call names the client's call in the steps), then read
// 5 records from the offset of T0+5000.
func ConsumeTimestamp(s *Scenario, call string, produce func(recs []Record) error, lookupOffset OffsetForTime,
	consume func(offset int64, n int) ([]Record, error)) error {
	recs := StandardRange(s.Name, 0, 10)
	if err := produce(recs); err != nil {
		return err
	}
	lookup := map[string]int64{}
	for _, q := range []struct {
		delta int64
		want  int64
	}{{5000, 5}, {5500, 6}, {60000, -1}} {
		s.Step("%s(T0+%d)", call, q.delta)
		off, err := lookupOffset(T0 + q.delta)
		if err != nil {
			return fmt.Errorf("%s(T0+%d): %v", call, q.delta, err)
		}
		lookup[fmt.Sprintf("T0+%d", q.delta)] = off
		s.Fact("offsets_for_times", lookup)
		if q.want == -1 {
			// "no such offset" comes back as -1 or as the end offset (10).
			if off != -1 && off != 10 {
				return fmt.Errorf("%s(T0+%d): expected none (-1 or end offset 10), got %d", call, q.delta, off)
			}
		} else if off != q.want {
			return fmt.Errorf("%s(T0+%d): expected %d, got %d", call, q.delta, q.want, off)
		}
	}
	got, err := consume(lookup["T0+5000"], 5)
	return CheckConsumed(s, "read back from offset 5", recs[5:], got, err)
}

// CheckLatestRead checks the read of consume-latest: standard record 10 alone.
func CheckLatestRead(s *Scenario, got []Record, err error) error {
	s.Fact("consumed", len(got))
	if err != nil {
		return err
	}
	if len(got) == 0 {
		return fmt.Errorf("read: expected exactly 1 record (offset 10), got none")
	}
	if len(got) != 1 {
		return fmt.Errorf("read: expected exactly 1 record (offset 10), got %d (first at offset %d)", len(got), got[0].Offset)
	}
	return CompareRecord("read", Standard(s.Name, 10), got[0])
}
