package oauth2proxy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestXXH32(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0x02cc5d05},
		{"a", 0x550d7456},
		{"abc", 0x32d153ff},
		{"Nobody inspects the spammish repetition", 0xe2293b2f},
	}
	for _, tc := range tests {
		if got := xxh32([]byte(tc.in), 0); got != tc.want {
			t.Errorf("xxh32(%q) = %#08x, want %#08x", tc.in, got, tc.want)
		}
	}
}

// TestHeaderChecksum checks the header checksums pierrec/lz4 v4 writes for
// oauth2-proxy's two descriptors (64 KB blocks, with and without content
// checksum).
func TestHeaderChecksum(t *testing.T) {
	for _, tc := range []struct{ flg, bd, want byte }{{0x60, 0x40, 0x82}, {0x64, 0x40, 0xa7}} {
		if got := byte(xxh32([]byte{tc.flg, tc.bd}, 0) >> 8); got != tc.want {
			t.Errorf("header checksum of %02x %02x = %#02x, want %#02x", tc.flg, tc.bd, got, tc.want)
		}
	}
}

// frame returns an LZ4 frame with descriptor flg, bd (plus an 8-byte
// content size when flg says so), the given data blocks (each a size word
// and its bytes: see block and stored), the end mark and, when flg says
// so, the content checksum of content.
func frame(flg, bd byte, size uint64, content []byte, blocks ...[]byte) []byte {
	out := []byte{0x04, 0x22, 0x4d, 0x18, flg, bd}
	if flg&flgContentSize != 0 {
		out = binary.LittleEndian.AppendUint64(out, size)
	}
	out = append(out, byte(xxh32(out[4:], 0)>>8))
	for _, b := range blocks {
		out = append(out, b...)
	}
	out = append(out, 0, 0, 0, 0)
	if flg&flgContentChecksum != 0 {
		out = binary.LittleEndian.AppendUint32(out, xxh32(content, 0))
	}
	return out
}

// block returns a compressed data block holding seq (its sequences).
func block(seq ...byte) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(seq))), seq...)
}

// stored returns an uncompressed data block holding data.
func stored(data string) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(data))|0x80000000), data...)
}

// withChecksum returns a data block followed by its block checksum.
func withChecksum(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(append([]byte(nil), b...), xxh32(b[4:], 0))
}

// withoutLast returns b without its last n bytes.
func withoutLast(b []byte, n int) []byte {
	return b[:len(b)-n]
}

// overSized returns a compressed block one byte over 64 KB that decodes
// to less than 64 KB: 65280 literals, their length taking 257 bytes.
func overSized() []byte {
	seq := []byte{0xf0}
	seq = append(seq, bytes.Repeat([]byte{255}, 255)...)
	seq = append(seq, 65280-15-255*255)
	seq = append(seq, bytes.Repeat([]byte{'o'}, 65280)...)
	return block(seq...)
}

// invalid stands for ErrInvalid where a test table wants a string.
const invalid = "\x00invalid"

func TestLZ4Frame(t *testing.T) {
	const (
		indep = 0x40 | flgIndependent // version 01, independent blocks
		b64k  = 0x40                  // 64 KB blocks
	)
	hello := "hello hello hello hello hello"
	// pierrec/lz4 v4.1.33's output for hello, with and without content checksum.
	pierrec := mp(t, "04224d18 64 40 a7 1b000000 60 s:hello 20 0600 00 0600 00 0600 b0 s:hello 20 s:hello 00000000 79b1fff9")
	pierrecNoSum := mp(t, "04224d18 6040 82 1b000000 60 s:hello 20 0600 00 0600 00 0600 b0 s:hello 20 s:hello 00000000")
	// "ab" then a 17-byte match at offset 2: token 0x2d (2 literals, 4+13),
	// offset 2; then the closing sequence of no literals.
	abab := block(0x2d, 'a', 'b', 2, 0, 0x00)
	// 270 literal bytes: 15 + 255 extension, 0 more.
	longLiterals := block(append([]byte{0xf0, 255, 0}, strings.Repeat("L", 270)...)...)
	// "x" then a match of 4 + 15 + 255 + 1 = 275 bytes at offset 1.
	// A block always ends with a sequence of literals only (maybe none).
	longMatch := block(0x1f, 'x', 1, 0, 255, 1, 0x00)
	big := strings.Repeat("z", 64<<10)
	tests := []struct {
		name  string
		in    []byte
		limit int
		want  string // invalid: ErrInvalid
	}{
		{"pierrec", pierrec, maxPlain, hello},
		{"pierrec without content checksum", pierrecNoSum, maxPlain, hello},
		{"stored block", frame(indep, b64k, 0, nil, stored("plain")), maxPlain, "plain"},
		{"empty stored block", frame(indep, b64k, 0, nil, stored("")), maxPlain, ""},
		{"no blocks", frame(indep, b64k, 0, nil), maxPlain, ""},
		{"overlapping match", frame(indep, b64k, 0, nil, abab), maxPlain, "ab" + strings.Repeat("ab", 8) + "a"},
		{"literal length extension", frame(indep, b64k, 0, nil, longLiterals), maxPlain, strings.Repeat("L", 270)},
		{"match length extension", frame(indep, b64k, 0, nil, longMatch), maxPlain, strings.Repeat("x", 276)},
		{"content size", frame(indep|flgContentSize, b64k, 5, nil, stored("plain")), maxPlain, "plain"},
		{"content checksum", frame(indep|flgContentChecksum, b64k, 0, []byte("plain"), stored("plain")), maxPlain, "plain"},
		{"block checksums", frame(indep|flgBlockChecksum, b64k, 0, nil, withChecksum(stored("pl")), withChecksum(block(0x30, 'a', 'i', 'n'))), maxPlain, "plain"},
		{"256 KB blocks", frame(indep, 0x50, 0, nil, stored(big+"+")), maxPlain, big + "+"},
		{"dependent blocks may reach back", frame(0x40, b64k, 0, nil, stored("abcd"), block(0x00, 4, 0, 0x00)), maxPlain, "abcdabcd"},
		{"a full 64 KB block", frame(indep, b64k, 0, nil, stored(big)), maxPlain, big},
		{"each block has its own 64 KB", frame(indep, b64k, 0, nil, stored(big), longMatch), maxPlain, big + strings.Repeat("x", 276)},
		{"exactly the limit", frame(indep, b64k, 0, nil, longMatch), 276, strings.Repeat("x", 276)},

		{"empty", nil, maxPlain, invalid},
		{"legacy frame", mp(t, "02214c18 05000000 50 s:plain"), maxPlain, invalid},
		{"skippable frame", append(mp(t, "504d2a18 00000000"), frame(indep, b64k, 0, nil, stored("plain"))...), maxPlain, invalid},
		{"header checksum", append(frame(indep, b64k, 0, nil)[:6], 0x00, 0, 0, 0, 0), maxPlain, invalid},
		{"version 00", frame(0x00|flgIndependent, b64k, 0, nil, stored("plain")), maxPlain, invalid},
		{"version 10", frame(0x80|flgIndependent, b64k, 0, nil, stored("plain")), maxPlain, invalid},
		{"reserved FLG bit", frame(indep|flgReserved, b64k, 0, nil, stored("plain")), maxPlain, invalid},
		{"dictionary", frame(indep|flgDictID, b64k, 0, nil, stored("plain")), maxPlain, invalid},
		{"reserved BD bit 7", frame(indep, 0xc0, 0, nil, stored("plain")), maxPlain, invalid},
		{"reserved BD low bits", frame(indep, 0x41, 0, nil, stored("plain")), maxPlain, invalid},
		{"block size index 3", frame(indep, 0x30, 0, nil, stored("plain")), maxPlain, invalid},
		{"content size over the limit", frame(indep|flgContentSize, b64k, 1<<62, nil, stored("plain")), maxPlain, invalid},
		{"content size too small", frame(indep|flgContentSize, b64k, 4, nil, stored("plain")), maxPlain, invalid},
		{"content size too large", frame(indep|flgContentSize, b64k, 6, nil, stored("plain")), maxPlain, invalid},
		{"content checksum wrong", frame(indep|flgContentChecksum, b64k, 0, []byte("plaim"), stored("plain")), maxPlain, invalid},
		{"content checksum missing", withoutLast(frame(indep|flgContentChecksum, b64k, 0, []byte("plain"), stored("plain")), 4), maxPlain, invalid},
		{"block checksum missing", withoutLast(frame(indep|flgBlockChecksum, b64k, 0, nil, withChecksum(stored("plain"))), 8), maxPlain, invalid},
		{"match ends the block", frame(indep, b64k, 0, nil, block(0x10, 'a', 1, 0)), maxPlain, invalid},
		{"block checksum wrong", frame(indep|flgBlockChecksum, b64k, 0, nil, flip(withChecksum(stored("pl")), 9), withChecksum(stored("ain"))), maxPlain, invalid},
		{"compressed block over 64 KB", frame(indep, b64k, 0, nil, overSized()), maxPlain, invalid},
		{"stored block over 64 KB", frame(indep, b64k, 0, nil, stored(big+"+")), maxPlain, invalid},
		{"match decoding past 64 KB in its block", frame(indep, b64k, 0, nil, block(append([]byte{0x1f, 'z', 1, 0}, append(bytes.Repeat([]byte{255}, 258), 0, 0x00)...)...)), maxPlain, invalid},
		{"output over the limit", frame(indep, b64k, 0, nil, longMatch), 275, invalid},
		{"literals over the limit", frame(indep, b64k, 0, nil, longLiterals), 269, invalid},
		{"stored over the limit", frame(indep, b64k, 0, nil, stored("plain")), 4, invalid},
		{"match offset 0", frame(indep, b64k, 0, nil, block(0x10, 'a', 0, 0)), maxPlain, invalid},
		{"match before the output", frame(indep, b64k, 0, nil, block(0x10, 'a', 2, 0)), maxPlain, invalid},
		{"independent block reaching back", frame(indep, b64k, 0, nil, stored("abcd"), block(0x00, 4, 0, 0x00)), maxPlain, invalid},
		{"block ends in the offset", frame(indep, b64k, 0, nil, block(0x10, 'a', 1)), maxPlain, invalid},
		{"block ends in a length", frame(indep, b64k, 0, nil, block(0xf0, 255)), maxPlain, invalid},
		{"literals past the block", frame(indep, b64k, 0, nil, block(0x30, 'a')), maxPlain, invalid},
		{"block past the frame", frame(indep, b64k, 0, nil, stored("plain"))[:12], maxPlain, invalid},
		{"no end mark", frame(indep, b64k, 0, nil, stored("plain"))[:17], maxPlain, invalid},
		{"trailing bytes", append(frame(indep, b64k, 0, nil, stored("plain")), 0), maxPlain, invalid},
		{"two frames", append(frame(indep, b64k, 0, nil, stored("pl")), frame(indep, b64k, 0, nil, stored("ain"))...), maxPlain, invalid},
	}
	for _, tc := range tests {
		got, err := lz4Frame(tc.in, tc.limit)
		if tc.want == invalid {
			if !errors.Is(err, ErrInvalid) || got != nil {
				t.Errorf("%s: lz4Frame = %d bytes, %v, want %v", tc.name, len(got), err, ErrInvalid)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: lz4Frame = %.40q (%d bytes), %v, want %.40q (%d bytes)", tc.name, got, len(got), err, tc.want, len(tc.want))
		}
	}
}

// TestTruncatedFrames checks that every proper prefix of the fixtures'
// frames (oauth2-proxy's, with compressed blocks and content checksums) is
// refused cleanly.
func TestTruncatedFrames(t *testing.T) {
	frames, _ := fixturePlain(t)
	for _, f := range frames {
		step := 1
		if len(f) > 2000 {
			step = 13
		}
		for n := 0; n < len(f); n += step {
			if got, err := lz4Frame(f[:n], maxPlain); !errors.Is(err, ErrInvalid) || got != nil {
				t.Fatalf("lz4Frame(first %d of %d bytes) = %d bytes, %v, want %v", n, len(f), len(got), err, ErrInvalid)
			}
		}
	}
}

// TestHostileFrames checks that sizes claimed in a few bytes are refused
// before anything is allocated for them.
func TestHostileFrames(t *testing.T) {
	const indep = 0x40 | flgIndependent
	tests := []struct {
		name string
		in   []byte
	}{
		{"content size 2^62", frame(indep|flgContentSize, 0x70, 1<<62, nil, stored("x"))},
		{"content size 2 MB", frame(indep|flgContentSize, 0x70, 2<<20, nil, stored("x"))},
		{"4 MB block of 8 bytes", frame(indep, 0x70, 0, nil, append(binary.LittleEndian.AppendUint32(nil, 4<<20), 'x'))},
		{"stored block size 2^31-1", frame(indep, 0x70, 0, nil, binary.LittleEndian.AppendUint32(nil, 1<<32-1))},
		// a match of about 1 MB (under the 1 MiB bound on any length) in a
		// 64 KB-block frame: refused before it is copied
		{"match length 1 MB", frame(indep, 0x40, 0, nil, block(append(append([]byte{0x1f, 'x', 1, 0}, bytes.Repeat([]byte{255}, 4000)...), 0, 0x00)...))},
		// a literal length of 1 MB in 4 KB of 255s
		{"literal length 1 MB", frame(indep, 0x70, 0, nil, block(append([]byte{0xf0}, bytes.Repeat([]byte{255}, 4200)...)...))},
	}
	for _, tc := range tests {
		var err error
		n := allocated(func() { _, err = lz4Frame(tc.in, maxPlain) })
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: lz4Frame = %v, want %v", tc.name, err, ErrInvalid)
		}
		if n > hostileAllocLimit {
			t.Errorf("%s: lz4Frame of %d bytes allocated %d bytes", tc.name, len(tc.in), n)
		}
	}
}
