package redis

import (
	"errors"
	"io"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/fuzzcorpus"
)

// yaegi test runs no fuzz targets, so FuzzReadReply's check lives in
// checkReadReply, which TestFuzzReadReplySeeds also runs over the corpus in
// testdata/fuzz/FuzzReadReply/.

// measure returns how many string bytes and array elements rep holds and
// how many arrays deep it nests.
func measure(rep reply) (size, elems, depth int) {
	size = len(rep.str)
	for _, e := range rep.elems {
		s, n, d := measure(e)
		size += s
		elems += n
		if d > depth {
			depth = d
		}
	}
	if rep.kind == '*' {
		elems += len(rep.elems)
		depth++
	}
	return size, elems, depth
}

// checkReadReply fails unless readReply either refuses data with
// ErrProtocol or a short read, or returns a reply within the limits that
// reads back the same from its own encoding.
func checkReadReply(t *testing.T, data []byte) {
	rep, n, err := parse(data)
	if err != nil {
		if !errors.Is(err, ErrProtocol) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("readReply(%q) = %v, want %v or a short read", data, err, ErrProtocol)
		}
		return
	}
	if n <= 0 || n > len(data) {
		t.Fatalf("readReply(%q) consumed %d bytes, want 1 to %d", data, n, len(data))
	}
	if size, elems, depth := measure(rep); size > MaxValueLen || elems > maxReplyElems || depth > maxReplyDepth {
		t.Fatalf("readReply(%q) = %d bytes, %d elements, depth %d: over the limits", data, size, elems, depth)
	}
	enc := encodeReply(nil, rep)
	again, m, err := parse(enc)
	if err != nil || describe(again) != describe(rep) || m != len(enc) {
		t.Fatalf("readReply(%q) = %s, but its encoding reads as %s, %d of %d bytes, %v",
			data, describe(rep), describe(again), m, len(enc), err)
	}
}

// FuzzReadReply checks that no input makes readReply panic, allocate past
// the limits or return a reply other than the one its bytes encode.
func FuzzReadReply(f *testing.F) {
	f.Add([]byte("*2\r\n$3\r\nfoo\r\n:-7\r\n"))
	f.Fuzz(checkReadReply)
}

// TestFuzzReadReplySeeds runs FuzzReadReply's check over its corpus files.
func TestFuzzReadReplySeeds(t *testing.T) {
	for _, e := range fuzzcorpus.Seeds(t, "FuzzReadReply") {
		data, ok := e.Values[0].([]byte)
		if len(e.Values) != 1 || !ok {
			t.Fatalf("FuzzReadReply corpus %s: values %#v, want ([]byte)", e.Name, e.Values)
		}
		checkReadReply(t, data)
	}
}
