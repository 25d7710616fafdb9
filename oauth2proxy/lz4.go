package oauth2proxy

import (
	"encoding/binary"
	"fmt"
)

// lz4Magic starts every LZ4 frame (the format oauth2-proxy's LZ4 writer,
// github.com/pierrec/lz4/v4, produces).
const lz4Magic = 0x184d2204

// Bits of the frame descriptor's FLG byte.
const (
	flgIndependent     = 1 << 5
	flgBlockChecksum   = 1 << 4
	flgContentSize     = 1 << 3
	flgContentChecksum = 1 << 2
	flgReserved        = 1 << 1
	flgDictID          = 1 << 0
)

// lz4Frame decodes one LZ4 frame that must fill src, giving at most limit
// bytes. It checks everything the frame format lets it check:
//   - the descriptor: version 01, reserved bits clear, no dictionary (which
//     oauth2-proxy never uses and the decoder could not supply), a block size
//     of 64 KB to 4 MB, and its header checksum;
//   - each block: its size within the frame's block size, a compressed
//     block's sequences (a match never reaches before the output, nor before
//     its own block when blocks are independent), its checksum when the frame
//     has them;
//   - the end: the content size when declared, the content checksum when
//     present (pierrec/lz4 writes one by default), and nothing after it.
//
// The output never grows past limit: every length is checked before bytes
// are copied, and nothing is allocated for a declared content size.
func lz4Frame(src []byte, limit int) ([]byte, error) {
	if len(src) < 7 || binary.LittleEndian.Uint32(src) != lz4Magic {
		return nil, fmt.Errorf("%w: lz4: not a frame", ErrInvalid)
	}
	flg, bd := src[4], src[5]
	if flg>>6 != 1 || flg&(flgReserved|flgDictID) != 0 || bd&0x8f != 0 || bd>>4 < 4 {
		return nil, fmt.Errorf("%w: lz4: unsupported frame descriptor %#02x %#02x", ErrInvalid, flg, bd)
	}
	blockMax := 1 << (8 + 2*int(bd>>4)) // 4: 64 KB, 5: 256 KB, 6: 1 MB, 7: 4 MB
	pos := 6
	var declared uint64 // content size, when flg has flgContentSize
	if flg&flgContentSize != 0 {
		if len(src) < pos+9 {
			return nil, fmt.Errorf("%w: lz4: truncated descriptor", ErrInvalid)
		}
		declared = binary.LittleEndian.Uint64(src[pos:])
		pos += 8
	}
	if byte(xxh32(src[4:pos], 0)>>8) != src[pos] {
		return nil, fmt.Errorf("%w: lz4: header checksum", ErrInvalid)
	}
	pos++
	var out []byte
	for {
		if len(src)-pos < 4 {
			return nil, fmt.Errorf("%w: lz4: truncated block size", ErrInvalid)
		}
		word := binary.LittleEndian.Uint32(src[pos:])
		pos += 4
		if word == 0 { // EndMark
			break
		}
		size := int(word & 0x7fffffff)
		if size > blockMax || size > len(src)-pos {
			return nil, fmt.Errorf("%w: lz4: block of %d bytes", ErrInvalid, size)
		}
		block := src[pos : pos+size : pos+size] // capped: no read can run past it
		pos += size
		if flg&flgBlockChecksum != 0 {
			if len(src)-pos < 4 || binary.LittleEndian.Uint32(src[pos:]) != xxh32(block, 0) {
				return nil, fmt.Errorf("%w: lz4: block checksum", ErrInvalid)
			}
			pos += 4
		}
		blockLimit := len(out) + blockMax
		if blockLimit > limit {
			blockLimit = limit
		}
		if word&0x80000000 != 0 { // stored uncompressed
			if len(out)+size > blockLimit {
				return nil, fmt.Errorf("%w: lz4: output over %d bytes", ErrInvalid, limit)
			}
			out = append(out, block...)
			continue
		}
		window := 0
		if flg&flgIndependent != 0 {
			window = len(out)
		}
		var err error
		out, err = lz4Block(out, block, window, blockLimit)
		if err != nil {
			return nil, err
		}
	}
	if flg&flgContentChecksum != 0 {
		if len(src)-pos < 4 || binary.LittleEndian.Uint32(src[pos:]) != xxh32(out, 0) {
			return nil, fmt.Errorf("%w: lz4: content checksum", ErrInvalid)
		}
		pos += 4
	}
	if pos != len(src) {
		return nil, fmt.Errorf("%w: lz4: %d bytes after the frame", ErrInvalid, len(src)-pos)
	}
	if flg&flgContentSize != 0 && declared != uint64(len(out)) {
		return nil, fmt.Errorf("%w: lz4: content size %d, decoded %d", ErrInvalid, declared, len(out))
	}
	return out, nil
}

// lz4Block appends the decoding of one compressed block to out and returns
// it. A match may copy from out[window:] only, and out may not grow past
// limit.
func lz4Block(out, block []byte, window, limit int) ([]byte, error) {
	pos := 0
	for {
		if pos >= len(block) {
			return nil, fmt.Errorf("%w: lz4: truncated sequence", ErrInvalid)
		}
		token := block[pos]
		pos++
		literals := int(token >> 4)
		if literals == 15 { // called only then: a call is slow under Yaegi
			var err error
			literals, pos, err = lz4Length(block, pos, literals)
			if err != nil {
				return nil, err
			}
		}
		if literals > len(block)-pos || literals > limit-len(out) {
			return nil, fmt.Errorf("%w: lz4: %d literals", ErrInvalid, literals)
		}
		out = append(out, block[pos:pos+literals]...)
		pos += literals
		if pos == len(block) { // the last sequence has no match
			return out, nil
		}
		if len(block)-pos < 2 {
			return nil, fmt.Errorf("%w: lz4: truncated offset", ErrInvalid)
		}
		offset := int(binary.LittleEndian.Uint16(block[pos:]))
		pos += 2
		if offset == 0 || offset > len(out)-window {
			return nil, fmt.Errorf("%w: lz4: match offset %d", ErrInvalid, offset)
		}
		length := int(token & 0x0f)
		if length == 15 {
			var err error
			length, pos, err = lz4Length(block, pos, length)
			if err != nil {
				return nil, err
			}
		}
		length += 4
		if length > limit-len(out) {
			return nil, fmt.Errorf("%w: lz4: output over %d bytes", ErrInvalid, limit)
		}
		// Copy in runs: out[start:] repeats with period offset, so each run
		// may be as long as everything already copied from start, which
		// doubles a run each time instead of copying byte by byte.
		start := len(out) - offset
		for length > 0 {
			n := len(out) - start
			if n > length {
				n = length
			}
			out = append(out, out[start:start+n]...)
			length -= n
		}
	}
}

// lz4Length returns a literal or match length whose 4-bit field in the
// token is 15 (n), adding the extension bytes at pos, and the position
// after them. Lengths over maxPlain are refused as they are read, so the
// sum cannot overflow.
func lz4Length(block []byte, pos, n int) (int, int, error) {
	for {
		if pos >= len(block) {
			return 0, 0, fmt.Errorf("%w: lz4: truncated length", ErrInvalid)
		}
		b := block[pos]
		pos++
		n += int(b)
		if n > maxPlain {
			return 0, 0, fmt.Errorf("%w: lz4: length over %d", ErrInvalid, maxPlain)
		}
		if b != 255 {
			return n, pos, nil
		}
	}
}

// The xxHash32 primes.
const (
	prime1 uint32 = 2654435761
	prime2 uint32 = 2246822519
	prime3 uint32 = 3266489917
	prime4 uint32 = 668265263
	prime5 uint32 = 374761393
)

// xxh32 returns the xxHash32 of b with seed, the checksum the LZ4 frame
// format uses for its header, blocks and content. Lanes are read and
// rotated inline: under Yaegi a call to encoding/binary or math/bits per
// lane made it three times slower.
func xxh32(b []byte, seed uint32) uint32 {
	n := len(b)
	i := 0
	var h uint32
	if n >= 16 {
		v1 := seed + prime1 + prime2
		v2 := seed + prime2
		v3 := seed
		v4 := seed - prime1
		for ; n-i >= 16; i += 16 {
			v1 += (uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24) * prime2
			v1 = (v1<<13 | v1>>19) * prime1
			v2 += (uint32(b[i+4]) | uint32(b[i+5])<<8 | uint32(b[i+6])<<16 | uint32(b[i+7])<<24) * prime2
			v2 = (v2<<13 | v2>>19) * prime1
			v3 += (uint32(b[i+8]) | uint32(b[i+9])<<8 | uint32(b[i+10])<<16 | uint32(b[i+11])<<24) * prime2
			v3 = (v3<<13 | v3>>19) * prime1
			v4 += (uint32(b[i+12]) | uint32(b[i+13])<<8 | uint32(b[i+14])<<16 | uint32(b[i+15])<<24) * prime2
			v4 = (v4<<13 | v4>>19) * prime1
		}
		h = (v1<<1 | v1>>31) + (v2<<7 | v2>>25) + (v3<<12 | v3>>20) + (v4<<18 | v4>>14)
	} else {
		h = seed + prime5
	}
	h += uint32(n)
	for ; n-i >= 4; i += 4 {
		h += (uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24) * prime3
		h = (h<<17 | h>>15) * prime4
	}
	for ; i < n; i++ {
		h += uint32(b[i]) * prime5
		h = (h<<11 | h>>21) * prime1
	}
	h ^= h >> 15
	h *= prime2
	h ^= h >> 13
	h *= prime3
	h ^= h >> 16
	return h
}
