package read

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// An OLE2 compound file ([MS-CFB]) is a little file system in a file: fixed-size sectors, a
// file allocation table (FAT) chaining them into streams, a directory of named streams, and a
// mini stream of 64-byte sectors for streams under 4096 bytes. Every number in it comes from the
// file, so every chain is followed with a bitmap of the sectors seen (a loop is an error, not a
// hang) and every sector number is checked against the file's size before it is read.

// Special sector numbers.
const (
	cfbMaxRegSect = 0xFFFFFFFA // larger numbers are markers
	cfbEndOfChain = 0xFFFFFFFE
	cfbFreeSect   = 0xFFFFFFFF
)

const (
	cfbHeaderSize   = 512
	cfbDirEntrySize = 128
	cfbMiniSize     = 64
	cfbMiniCutoff   = 4096 // streams shorter than this live in the mini stream
	cfbHeaderDIFAT  = 109  // FAT sector numbers held in the header
)

// Directory entry types.
const (
	cfbStorage = 1
	cfbStream  = 2
	cfbRoot    = 5
)

type cfbFile struct {
	r       io.ReaderAt
	shift   uint   // log2 of the sector size
	ss      int64  // sector size
	nsec    uint32 // sectors in the file (the last one may be partial)
	fat     []uint32
	dir     []cfbEntry
	hdr     []byte
	miniFAT []uint32 // read on first use
}

type cfbEntry struct {
	name               string
	typ                byte
	left, right, child uint32
	start              uint32
	size               int64
}

// errCFBTruncated is returned when a sector that the file's structure points to lies past its end.
var errCFBTruncated = errors.New("the file ends before its last sector (it may be truncated)")

// openCFB reads the header, the FAT and the directory of a compound file of size bytes.
func openCFB(r io.ReaderAt, size int64) (*cfbFile, error) {
	hdr := make([]byte, cfbHeaderSize)
	if n, _ := r.ReadAt(hdr, 0); n < cfbHeaderSize {
		return nil, xlsNotValid("the file is %d bytes, shorter than a compound file header", size)
	}
	if !bytes.Equal(hdr[:8], ole2Signature) {
		return nil, xlsNotValid("no OLE2 signature")
	}
	le := binary.LittleEndian
	if bo := le.Uint16(hdr[0x1C:]); bo != 0xFFFE {
		return nil, xlsNotValid("bad byte-order mark %#04x in the compound file header", bo)
	}
	c := &cfbFile{r: r, hdr: hdr}
	switch sh := le.Uint16(hdr[0x1E:]); sh {
	case 9, 12:
		c.shift = uint(sh)
	default:
		return nil, xlsNotValid("bad sector size 2^%d in the compound file header", sh)
	}
	if ms := le.Uint16(hdr[0x20:]); ms != 6 {
		return nil, xlsNotValid("bad mini sector size 2^%d in the compound file header", ms)
	}
	c.ss = 1 << c.shift
	if size <= c.ss {
		return nil, xlsNotValid("the file is %d bytes, too short for any sector", size)
	}
	c.nsec = uint32((size - c.ss + c.ss - 1) / c.ss)

	if err := c.readFAT(); err != nil {
		return nil, err
	}
	if err := c.readDir(); err != nil {
		return nil, err
	}
	return c, nil
}

// sectorAt reads sector id, a sector of what, into buf (len(buf) <= ss, from the sector's start).
func (c *cfbFile) sectorAt(id uint32, buf []byte, what string) error {
	if id >= c.nsec {
		return xlsMalformed("sector %d of %s is past the end of the file (%d sectors; it may be truncated)", id, what, c.nsec)
	}
	n, err := c.r.ReadAt(buf, (int64(id)+1)<<c.shift)
	if n < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			return xlsMalformed("sector %d of %s: %v", id, what, errCFBTruncated)
		}
		return fmt.Errorf("read file: %w", err)
	}
	return nil
}

// readFAT collects the FAT's sectors from the header and the DIFAT chain, and reads them.
func (c *cfbFile) readFAT() error {
	le := binary.LittleEndian
	nfat := le.Uint32(c.hdr[0x2C:])
	if nfat == 0 || nfat > c.nsec {
		return xlsMalformed("the compound file header says it has %d FAT sectors, for a file of %d sectors", nfat, c.nsec)
	}
	ids := make([]uint32, 0, nfat)
	for i := 0; i < cfbHeaderDIFAT && uint32(len(ids)) < nfat; i++ {
		ids = append(ids, le.Uint32(c.hdr[0x4C+4*i:]))
	}
	// The rest of the FAT's sector numbers are in the DIFAT chain: each DIFAT sector holds
	// ss/4-1 of them, then the number of the next DIFAT sector.
	next := le.Uint32(c.hdr[0x44:])
	ndif := le.Uint32(c.hdr[0x48:])
	per := int(c.ss/4) - 1
	seen := newBitmap(c.nsec)
	buf := make([]byte, c.ss)
	for k := uint32(0); uint32(len(ids)) < nfat; k++ {
		if k >= ndif || next > cfbMaxRegSect {
			return xlsMalformed("the FAT is said to have %d sectors, but only %d are listed", nfat, len(ids))
		}
		if next >= c.nsec || seen.testAndSet(next) {
			return xlsMalformed("the DIFAT sector chain is broken at sector %d", next)
		}
		if err := c.sectorAt(next, buf, "the DIFAT"); err != nil {
			return err
		}
		for i := 0; i < per && uint32(len(ids)) < nfat; i++ {
			ids = append(ids, le.Uint32(buf[4*i:]))
		}
		next = le.Uint32(buf[4*per:])
	}
	c.fat = make([]uint32, 0, int64(nfat)*c.ss/4)
	for _, id := range ids {
		if id > cfbMaxRegSect {
			return xlsMalformed("the list of the FAT's sectors is broken (%#x)", id)
		}
		if err := c.sectorAt(id, buf, "the FAT"); err != nil {
			return err
		}
		for i := int64(0); i < c.ss; i += 4 {
			c.fat = append(c.fat, le.Uint32(buf[i:]))
		}
	}
	return nil
}

// chain follows a sector chain from start in table (the FAT or the mini FAT) through at most
// limit sectors, and returns its sector numbers. When want > 0 it stops after want sectors, and
// a shorter chain is an error. Any sector number must be below max.
func chain(table []uint32, start uint32, want int64, max uint32, what string) ([]uint32, error) {
	if want > int64(max) {
		return nil, xlsMalformed("%s is said to take %d sectors, more than there are (%d)", what, want, max)
	}
	var ids []uint32
	if want > 0 {
		ids = make([]uint32, 0, want)
	}
	seen := newBitmap(max)
	for id := start; want <= 0 || int64(len(ids)) < want; {
		if id == cfbEndOfChain {
			if want > 0 {
				return nil, xlsMalformed("the sector chain of %s ends after %d of its %d sectors", what, len(ids), want)
			}
			break
		}
		if id >= max || id >= uint32(len(table)) {
			if id >= max && id <= cfbMaxRegSect {
				return nil, xlsMalformed("the sector chain of %s points to sector %d, past the end of the file (it may be truncated)", what, id)
			}
			return nil, xlsMalformed("the sector chain of %s is broken (entry %d is %#x)", what, len(ids), id)
		}
		if seen.testAndSet(id) {
			return nil, xlsMalformed("the sector chain of %s loops back to sector %d", what, id)
		}
		ids = append(ids, id)
		id = table[id]
	}
	return ids, nil
}

// readDir reads the directory's entries.
func (c *cfbFile) readDir() error {
	ids, err := chain(c.fat, binary.LittleEndian.Uint32(c.hdr[0x30:]), 0, c.nsec, "the directory")
	if err != nil {
		return err
	}
	buf := make([]byte, c.ss)
	le := binary.LittleEndian
	for _, id := range ids {
		if err := c.sectorAt(id, buf, "the directory"); err != nil {
			return err
		}
		for off := int64(0); off+cfbDirEntrySize <= c.ss; off += cfbDirEntrySize {
			b := buf[off : off+cfbDirEntrySize]
			e := cfbEntry{
				typ:   b[0x42],
				left:  le.Uint32(b[0x44:]),
				right: le.Uint32(b[0x48:]),
				child: le.Uint32(b[0x4C:]),
				start: le.Uint32(b[0x74:]),
				size:  int64(le.Uint32(b[0x78:])), // version 3 files may leave garbage in the high half
			}
			if c.shift == 12 {
				e.size = int64(le.Uint64(b[0x78:]) & (1<<62 - 1))
			}
			if n := int(le.Uint16(b[0x40:])); n >= 2 && n <= 64 {
				u := make([]uint16, n/2-1) // the length counts the terminating NUL
				for i := range u {
					u[i] = le.Uint16(b[2*i:])
				}
				e.name = string(utf16.Decode(u))
			}
			c.dir = append(c.dir, e)
		}
	}
	if len(c.dir) == 0 || c.dir[0].typ != cfbRoot {
		return xlsMalformed("the compound file's directory has no root entry")
	}
	return nil
}

// rootChildren returns the indexes of the root storage's entries, walking its red-black tree
// (each node visited once, whatever the links say).
func (c *cfbFile) rootChildren() []int {
	var out []int
	seen := newBitmap(uint32(len(c.dir)))
	stack := []uint32{c.dir[0].child}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id >= uint32(len(c.dir)) || seen.testAndSet(id) {
			continue
		}
		out = append(out, int(id))
		e := c.dir[id]
		stack = append(stack, e.left, e.right)
	}
	return out
}

// find returns the stream entry named name (case-insensitively, as [MS-CFB] compares names) among
// the root storage's children, or else anywhere in the directory.
func (c *cfbFile) find(name string) (cfbEntry, bool) {
	for _, i := range c.rootChildren() {
		if e := c.dir[i]; e.typ == cfbStream && strings.EqualFold(e.name, name) {
			return e, true
		}
	}
	for _, e := range c.dir {
		if e.typ == cfbStream && strings.EqualFold(e.name, name) {
			return e, true
		}
	}
	return cfbEntry{}, false
}

// open returns a reader of stream e, of e.size bytes. A stream in the mini stream (small) is read
// into memory; a larger one is read from the file as it is needed.
func (c *cfbFile) open(e cfbEntry, what string) (io.ReaderAt, error) {
	if e.size < cfbMiniCutoff {
		return c.openMini(e, what)
	}
	return c.openRegular(e.start, e.size, what)
}

// openRegular returns a reader of the size bytes of the stream of regular sectors from start.
func (c *cfbFile) openRegular(start uint32, size int64, what string) (io.ReaderAt, error) {
	ids, err := chain(c.fat, start, (size+c.ss-1)/c.ss, c.nsec, what)
	if err != nil {
		return nil, err
	}
	return &cfbStreamReader{c: c, ids: ids, size: size}, nil
}

// openMini reads a stream of the mini stream into memory.
func (c *cfbFile) openMini(e cfbEntry, what string) (io.ReaderAt, error) {
	root := c.dir[0]
	if root.size < cfbMiniSize || root.size >= int64(c.nsec)*c.ss {
		return nil, xlsMalformed("%s is in the mini stream, but the file has none", what)
	}
	mini, err := c.openRegular(root.start, root.size, "the mini stream")
	if err != nil {
		return nil, err
	}
	if c.miniFAT == nil {
		le := binary.LittleEndian
		ids, err := chain(c.fat, le.Uint32(c.hdr[0x3C:]), int64(le.Uint32(c.hdr[0x40:])), c.nsec, "the mini FAT")
		if err != nil {
			return nil, err
		}
		buf := make([]byte, c.ss)
		c.miniFAT = make([]uint32, 0, int64(len(ids))*c.ss/4)
		for _, id := range ids {
			if err := c.sectorAt(id, buf, "the mini FAT"); err != nil {
				return nil, err
			}
			for i := int64(0); i < c.ss; i += 4 {
				c.miniFAT = append(c.miniFAT, le.Uint32(buf[i:]))
			}
		}
	}
	nmini := uint32(min(root.size/cfbMiniSize, 1<<31))
	ids, err := chain(c.miniFAT, e.start, (e.size+cfbMiniSize-1)/cfbMiniSize, nmini, what)
	if err != nil {
		return nil, err
	}
	data := make([]byte, int64(len(ids))*cfbMiniSize)
	for i, id := range ids {
		if _, err := mini.ReadAt(data[i*cfbMiniSize:(i+1)*cfbMiniSize], int64(id)*cfbMiniSize); err != nil {
			return nil, err
		}
	}
	return bytes.NewReader(data[:e.size]), nil
}

// cfbStreamReader reads a stream of regular sectors from the file.
type cfbStreamReader struct {
	c    *cfbFile
	ids  []uint32
	size int64
}

func (s *cfbStreamReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for len(p) > 0 {
		if off >= s.size {
			return n, io.EOF
		}
		i, within := off>>s.c.shift, off&(s.c.ss-1)
		k := int(min(int64(len(p)), s.c.ss-within, s.size-off))
		id := s.ids[i]
		m, err := s.c.r.ReadAt(p[:k], (int64(id)+1)<<s.c.shift+within)
		n += m
		if m < k {
			if err == nil || errors.Is(err, io.EOF) {
				return n, xlsMalformed("sector %d of a stream: %v", id, errCFBTruncated)
			}
			return n, fmt.Errorf("read file: %w", err)
		}
		p, off = p[k:], off+int64(k)
	}
	return n, nil
}

// bitmap is a set of sector numbers.
type bitmap []uint64

func newBitmap(n uint32) bitmap { return make(bitmap, (int(n)+63)/64) }

// testAndSet adds i (which must be below the bitmap's size) and reports whether it was there.
func (b bitmap) testAndSet(i uint32) bool {
	w, m := i/64, uint64(1)<<(i%64)
	was := b[w]&m != 0
	b[w] |= m
	return was
}
