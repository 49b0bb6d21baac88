package read

import (
	"bytes"
	"fmt"
)

// checkText fails with ErrNotText if the sample (the start of the decoded input; atEOF: all
// of it) is binary: if it holds more than maxNUL NUL bytes, or if more than one byte in ten is
// a control character other than tab, line feed, carriage return, vertical tab and form feed
// (NUL included). A run of NULs at the very end of the file is padding and does not count.
// A few stray NULs are no reason to refuse a file: the reader removes them.
func checkText(sample []byte, atEOF bool) error {
	if atEOF {
		if t := bytes.TrimRight(sample, "\x00"); len(t) > 0 {
			sample = t
		}
	}
	utf16Hint := func(err error) error {
		if looksUTF16(sample) {
			err = fmt.Errorf("%w (it looks like UTF-16 text without a byte-order mark; save it as UTF-8)", err)
		}
		return err
	}
	if n := bytes.Count(sample, []byte{0}); n > maxNUL(len(sample)) {
		return utf16Hint(fmt.Errorf("%w: %d binary NUL (0x00) bytes in its first %d bytes, the first at offset %d",
			ErrNotText, n, len(sample), bytes.IndexByte(sample, 0)))
	}
	ctrl, first := 0, -1
	for i, b := range sample {
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\v' && b != '\f' || b == 0x7F {
			if first < 0 {
				first = i
			}
			ctrl++
		}
	}
	if ctrl*10 > len(sample) {
		return utf16Hint(fmt.Errorf("%w: %d of the first %d bytes are control characters (the first, 0x%02x, at offset %d)",
			ErrNotText, ctrl, len(sample), sample[first], first))
	}
	return nil
}

// maxNUL is how many NUL bytes a text sample of n bytes may hold: 8, plus one per 4 KiB.
// Text with stray NULs has a few; binary files have many (compressed data about one byte in
// 256, and most formats' headers several in their first bytes).
func maxNUL(n int) int { return 8 + n/4096 }

// looksUTF16 reports whether most NUL bytes of the sample sit at one parity of offsets and
// they make up a good part of that parity, as in mostly-ASCII UTF-16 text.
func looksUTF16(sample []byte) bool {
	var nul [2]int
	for i, b := range sample {
		if b == 0 {
			nul[i&1]++
		}
	}
	half := len(sample) / 2
	for p := range 2 {
		if half > 0 && nul[p]*2 > half && nul[1-p]*10 < nul[p] {
			return true
		}
	}
	return false
}

// delimiters are the candidate delimiters, in order of preference on a tie.
var delimiters = []byte{',', '\t', ';', '|'}

// sniffDelimiter picks the delimiter of the sample. For each candidate it counts the
// delimiters outside quotes in each of the first non-blank records; a candidate must appear
// in the first (the header). The best candidate has the largest share of records whose count
// equals the header's; ties go to the larger header count, then to the order of delimiters.
// With no candidate in the header (one column), the delimiter is ','. When atEOF is false the
// sample's last record may be cut short, and is ignored unless it is the only one.
func sniffDelimiter(sample []byte, atEOF bool) byte {
	best, bestShare, bestHeader := byte(','), -1.0, 0
	for _, d := range delimiters {
		counts := countDelimiters(sample, d, atEOF)
		if len(counts) == 0 || counts[0] == 0 {
			continue
		}
		h, same := counts[0], 0
		for _, n := range counts {
			if n == h {
				same++
			}
		}
		share := float64(same) / float64(len(counts))
		if share > bestShare || share == bestShare && h > bestHeader {
			best, bestShare, bestHeader = d, share, h
		}
	}
	return best
}

// countDelimiters parses the sample with delimiter d (quotes as the reader handles them) and
// returns the delimiter count of each of its first non-blank records.
func countDelimiters(s []byte, d byte, atEOF bool) []int {
	var counts []int
	i := 0
	for i < len(s) && len(counts) < sniffRecords {
		n, blank, done, fieldStart := 0, true, false, true
		for i < len(s) && !done {
			b := s[i]
			if fieldStart && b == '"' {
				fieldStart = false
				closed := false
				for i++; i < len(s); i++ {
					if s[i] != '"' {
						if !isSpaceByte(s[i]) {
							blank = false
						}
						continue
					}
					if i+1 < len(s) && s[i+1] == '"' {
						blank = false
						i++
						continue
					}
					i++
					closed = true
					break
				}
				if !closed {
					break
				}
				continue
			}
			fieldStart = false
			i++
			switch {
			case b == d:
				n++
				fieldStart = true
			case b == '\n':
				done = true
			case b == '\r':
				if i < len(s) && s[i] == '\n' {
					i++
				}
				done = true
			case !isSpaceByte(b):
				blank = false
			}
		}
		if !done && !atEOF && len(counts) > 0 {
			break // cut short by the end of the sample
		}
		if !blank {
			counts = append(counts, n)
		}
	}
	return counts
}

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}
