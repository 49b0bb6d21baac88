package read

import (
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"slices"
)

// An encrypted BIFF8 workbook ([MS-XLS] 2.2.10, [MS-OFFCRYPTO] 2.3.5 and 2.3.6) has a FILEPASS
// record right after the globals' BOF record. Every byte of the Workbook stream after it is
// encrypted with RC4 as if the whole stream were, the key changing every 1024 bytes of the
// stream (block n's key is derived from the password, the salt and n), except: record headers
// (type and length), the BOF, FILEPASS, USREXCL, FILELOCK, INTERFACEHDR, RRDINFO and RRDHEAD
// records, and a BOUNDSHEET record's first 4 bytes (the offset of its sheet's BOF record).

// biffRC4Block is the number of stream bytes encrypted with one key.
const biffRC4Block = 1024

// FILEPASS encryption types.
const (
	filePassXOR = 0x0000
	filePassRC4 = 0x0001
)

// biffDecryptor decrypts the records of an encrypted Workbook stream. It is not safe for
// concurrent use; every reader of one book shares it.
type biffDecryptor struct {
	blockKey func(block uint32) []byte

	c     *rc4.Cipher // positioned at stream offset pos of block
	block int64
	pos   int64
	skip  [biffRC4Block]byte
}

// newBiffDecryptor reads a FILEPASS record's body and checks Excel's default password against
// it. A file with another password, or encrypted in another way (XOR obfuscation), is an
// error.
func newBiffDecryptor(body []byte) (*biffDecryptor, error) {
	if len(body) < 2 {
		return nil, xlsMalformed("its FILEPASS record is cut short")
	}
	switch typ := le.Uint16(body); typ {
	case filePassXOR:
		return nil, errEncryptionNotRead("XLS", "XOR obfuscation")
	case filePassRC4:
	default:
		return nil, errEncryptionNotRead("XLS", "encryption type %#04x", typ)
	}
	if len(body) < 6 {
		return nil, xlsMalformed("its FILEPASS record is cut short")
	}
	major, minor := le.Uint16(body[2:]), le.Uint16(body[4:])
	switch {
	case major == 1 && minor == 1:
		return biffRC4Key(body[6:], defaultPassword)
	case major >= 2 && major <= 4 && minor == 2:
		return biffCryptoAPIKey(body[6:], defaultPassword)
	}
	return nil, errEncryptionNotRead("XLS", "RC4 encryption version %d.%d", major, minor)
}

// biffRC4Key derives the keys of Office 97/2000's RC4 encryption ([MS-OFFCRYPTO] 2.3.6) from an
// RC4 encryption header (salt, encrypted verifier, encrypted verifier hash) and checks them.
func biffRC4Key(h []byte, password string) (*biffDecryptor, error) {
	if len(h) < 48 {
		return nil, xlsMalformed("its FILEPASS record is cut short")
	}
	salt := h[:16]
	h0 := md5.Sum(utf16LE(password))
	buf := make([]byte, 0, 16*21)
	for range 16 {
		buf = append(buf, h0[:5]...)
		buf = append(buf, salt...)
	}
	h1 := md5.Sum(buf)
	base := h1[:5]
	d := &biffDecryptor{blockKey: func(block uint32) []byte {
		var b [9]byte
		copy(b[:], base)
		binary.LittleEndian.PutUint32(b[5:], block)
		k := md5.Sum(b[:])
		return k[:]
	}}
	verifier, hashed := d.verifier(h[16:32], h[32:48])
	want := md5.Sum(verifier)
	if subtle.ConstantTimeCompare(hashed, want[:]) != 1 {
		return nil, errPasswordProtected("XLS")
	}
	return d, nil
}

// biffCryptoAPIKey derives the keys of RC4 CryptoAPI encryption ([MS-OFFCRYPTO] 2.3.5) from its
// header (flags, header size, EncryptionHeader, EncryptionVerifier) and checks them.
func biffCryptoAPIKey(h []byte, password string) (*biffDecryptor, error) {
	if len(h) < 8 {
		return nil, xlsMalformed("its FILEPASS record is cut short")
	}
	hs := int64(le.Uint32(h[4:]))
	if hs < 32 || hs > int64(len(h))-8 {
		return nil, xlsMalformed("its FILEPASS record has an encryption header of a wrong size")
	}
	eh, v := h[8:8+hs], h[8+hs:]
	algID, hashID, keyBits := le.Uint32(eh[8:]), le.Uint32(eh[12:]), le.Uint32(eh[16:])
	if (algID != 0 && algID != 0x6801) || (hashID != 0 && hashID != 0x8004) {
		return nil, errEncryptionNotRead("XLS", "RC4 CryptoAPI of algorithm %#x and hash %#x", algID, hashID)
	}
	if keyBits == 0 {
		keyBits = 40
	}
	if keyBits != 128 { // Excel's default; shorter keys are rare, and no reader was at hand to check them against
		return nil, errEncryptionNotRead("XLS", "RC4 CryptoAPI with a %d-bit key", keyBits)
	}
	// EncryptionVerifier: salt size, salt, encrypted verifier, hash size, encrypted SHA-1.
	if len(v) < 4+16+16+4+20 || le.Uint32(v) != 16 {
		return nil, xlsMalformed("its FILEPASS record has a verifier cut short or of a wrong salt size")
	}
	h0 := sha1.Sum(append(slices.Clone(v[4:20]), utf16LE(password)...))
	d := &biffDecryptor{blockKey: func(block uint32) []byte {
		var b [sha1.Size + 4]byte
		copy(b[:], h0[:])
		binary.LittleEndian.PutUint32(b[sha1.Size:], block)
		k := sha1.Sum(b[:])
		return k[:16]
	}}
	verifier, hashed := d.verifier(v[20:36], v[40:60])
	want := sha1.Sum(verifier)
	if subtle.ConstantTimeCompare(hashed, want[:]) != 1 {
		return nil, errPasswordProtected("XLS")
	}
	return d, nil
}

// verifier decrypts an encrypted verifier and its hash, one RC4 stream with block 0's key.
func (d *biffDecryptor) verifier(encVerifier, encHash []byte) (verifier, hashed []byte) {
	c, _ := rc4.NewCipher(d.blockKey(0)) // the key is 16 bytes, never an invalid size
	verifier = make([]byte, len(encVerifier))
	hashed = make([]byte, len(encHash))
	c.XORKeyStream(verifier, encVerifier)
	c.XORKeyStream(hashed, encHash)
	return verifier, hashed
}

// biffPlainRecord reports whether records of type id are never encrypted.
func biffPlainRecord(id uint16) bool {
	switch id {
	case recBOF, recFilePass, 0x0194 /* USREXCL */, 0x0195 /* FILELOCK */, 0x00E1, /* INTERFACEHDR */
		0x0196 /* RRDINFO */, 0x0138 /* RRDHEAD */ :
		return true
	}
	return false
}

// record decrypts in place the body of the record of type id at stream offset off.
func (d *biffDecryptor) record(id uint16, off int64, body []byte) {
	switch {
	case biffPlainRecord(id):
	case id == recBoundSheet:
		if len(body) > 4 {
			d.xor(body[4:], off+8)
		}
	default:
		d.xor(body, off+4)
	}
}

// xor decrypts b, which is at stream offset off.
func (d *biffDecryptor) xor(b []byte, off int64) {
	for len(b) > 0 {
		block := off / biffRC4Block
		if d.c == nil || block != d.block || off < d.pos {
			d.c, _ = rc4.NewCipher(d.blockKey(uint32(block)))
			d.block, d.pos = block, block*biffRC4Block
		}
		for d.pos < off {
			n := min(off-d.pos, biffRC4Block)
			d.c.XORKeyStream(d.skip[:n], d.skip[:n])
			d.pos += n
		}
		n := int(min(int64(len(b)), (block+1)*biffRC4Block-off))
		d.c.XORKeyStream(b[:n], b[:n])
		b, off, d.pos = b[n:], off+int64(n), off+int64(n)
	}
}
