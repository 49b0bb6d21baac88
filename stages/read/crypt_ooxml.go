package read

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// An encrypted OOXML package ([MS-OFFCRYPTO] 2.3.4) is an OLE2 compound file: its
// EncryptionInfo stream says how the package was encrypted and holds what checks a password;
// its EncryptedPackage stream is the package's size (8 bytes) and the package, encrypted.

// ooxmlMaxSpinCount is [MS-OFFCRYPTO]'s bound on Agile's password hashing rounds (Excel writes
// 100,000): more would hold the reader on a crafted file.
const ooxmlMaxSpinCount = 10_000_000

// ooxmlMaxInfoBytes caps the EncryptionInfo stream (Excel's are under 2 KiB).
const ooxmlMaxInfoBytes = 64 << 10

// ooxmlSegment is the size of an Agile package's segments, each with an IV of its own.
const ooxmlSegment = 4096

// ooxmlPackage is an encrypted OOXML package: its streams in the compound file.
type ooxmlPackage struct {
	info    []byte
	pkg     io.ReaderAt
	pkgSize int64 // bytes in the EncryptedPackage stream
}

// findEncryptedPackage returns the encrypted package in compound file f, if it holds one. A
// panic on a crafted file is recovered into an error.
func findEncryptedPackage(f io.ReaderAt, size int64) (_ *ooxmlPackage, found bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errEncryptionMalformed("XLSX", "reading it failed (%v)", p)
		}
	}()
	cf, err := openCFB(f, size)
	if err != nil {
		return nil, false, err
	}
	pe, ok := cf.find("EncryptedPackage")
	if !ok {
		return nil, false, nil
	}
	ie, ok := cf.find("EncryptionInfo")
	if !ok {
		return nil, true, errEncryptionMalformed("XLSX", "it has an EncryptedPackage stream but no EncryptionInfo stream")
	}
	if ie.size < 8 || ie.size > ooxmlMaxInfoBytes {
		return nil, true, errEncryptionMalformed("XLSX", "its EncryptionInfo stream is %d bytes", ie.size)
	}
	if pe.size > size {
		return nil, true, errEncryptionMalformed("XLSX", "its EncryptedPackage stream is said to be %d bytes, more than the file's %d (it may be truncated)", pe.size, size)
	}
	ir, err := cf.open(ie, "the EncryptionInfo stream")
	if err != nil {
		return nil, true, err
	}
	info := make([]byte, ie.size)
	if _, err := ir.ReadAt(info, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, true, err
	}
	pr, err := cf.open(pe, "the EncryptedPackage stream")
	if err != nil {
		return nil, true, err
	}
	return &ooxmlPackage{info: info, pkg: pr, pkgSize: pe.size}, true, nil
}

// isEncryptedXLSX reports whether f is an OLE2 compound file holding an encrypted package.
func isEncryptedXLSX(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	_, ok, _ := findEncryptedPackage(f, st.Size())
	return ok
}

// ooxmlDecryptor decrypts the package with the key a password gave.
type ooxmlDecryptor interface {
	decrypt(dst io.Writer, src io.ReaderAt, n int64) error
}

// openEncryptedXLSX decrypts the package of encrypted XLSX f with Excel's default password into
// a temporary file and opens that as an XLSX workbook.
func openEncryptedXLSX(f *os.File, opts Options) (*XLSX, error) {
	res := &xlsxResources{}
	plain, err := decryptXLSXToTemp(f, res)
	if err != nil {
		_ = res.close()
		return nil, err
	}
	res.owned = plain // read from until the reader closes
	return openXLSXWith(plain, opts, res)
}

// decryptXLSXToTemp decrypts the package of encrypted XLSX f into a new file in a new temporary
// directory, res.dir, and returns it. A panic on a crafted file is recovered into an error.
func decryptXLSXToTemp(f *os.File, res *xlsxResources) (_ *os.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errEncryptionMalformed("XLSX", "reading it failed (%v)", p)
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read file: %w", err)
	}
	p, _, err := findEncryptedPackage(f, st.Size())
	if err != nil {
		return nil, xlsxCryptErr(err)
	}
	dec, n, err := p.unlock(defaultPassword)
	if err != nil {
		return nil, err
	}
	if res.dir, err = os.MkdirTemp("", "leadpipe-xlsx-"); err != nil {
		return nil, fmt.Errorf("read xlsx: %w", err)
	}
	plain, err := os.Create(filepath.Join(res.dir, "decrypted.xlsx"))
	if err != nil {
		return nil, fmt.Errorf("read xlsx: %w", err)
	}
	done := false
	defer func() {
		if !done { // an error, or a panic that the deferred recover above turns into one
			plain.Close()
		}
	}()
	if err := p.decrypt(plain, dec, n); err != nil {
		return nil, xlsxCryptErr(err)
	}
	done = true
	return plain, nil
}

// unlock checks password against the package's EncryptionInfo and returns its decryptor and
// the package's size, checked against its stream's.
func (p *ooxmlPackage) unlock(password string) (ooxmlDecryptor, int64, error) {
	dec, err := ooxmlKey(p.info, password)
	if err != nil {
		return nil, 0, err
	}
	if p.pkgSize < 8 {
		return nil, 0, errEncryptionMalformed("XLSX", "its EncryptedPackage stream is %d bytes, too short for its size field", p.pkgSize)
	}
	var head [8]byte
	if _, err := p.pkg.ReadAt(head[:], 0); err != nil {
		return nil, 0, xlsxCryptErr(err)
	}
	n := binary.LittleEndian.Uint64(head[:])
	if n > uint64(p.pkgSize-8) {
		return nil, 0, errEncryptionMalformed("XLSX", "its package is said to be %d bytes, but its EncryptedPackage stream holds %d (it may be truncated)", n, p.pkgSize-8)
	}
	return dec, int64(n), nil
}

// decrypt writes the n bytes of the package, decrypted by dec, to dst.
func (p *ooxmlPackage) decrypt(dst io.Writer, dec ooxmlDecryptor, n int64) error {
	return dec.decrypt(dst, io.NewSectionReader(p.pkg, 8, p.pkgSize-8), n)
}

// xlsxCryptErr makes an error of the compound file's reader one about an encrypted XLSX file.
func xlsxCryptErr(err error) error {
	var xe *xlsErr
	if errors.As(err, &xe) {
		msg := strings.TrimPrefix(strings.TrimPrefix(xe.msg, "the XLS file is malformed: "), "the file is not a valid XLS workbook: ")
		return errEncryptionMalformed("XLSX", "%s", msg)
	}
	return err
}

// ooxmlKey reads EncryptionInfo, checks password against it and returns the package's
// decryptor; a wrong password is errPasswordProtected.
func ooxmlKey(info []byte, password string) (ooxmlDecryptor, error) {
	major, minor := binary.LittleEndian.Uint16(info), binary.LittleEndian.Uint16(info[2:])
	switch {
	case major == 4 && minor == 4:
		return agileKey(info[8:], password)
	case major >= 2 && major <= 4 && minor == 2:
		return standardKey(info[8:], password)
	case (major == 3 || major == 4) && minor == 3:
		return nil, errEncryptionNotRead("XLSX", "an extensible encryption module")
	}
	return nil, errEncryptionNotRead("XLSX", "encryption version %d.%d", major, minor)
}

// Standard encryption ([MS-OFFCRYPTO] 2.3.4.5 to 2.3.4.9).

// standardDecryptor decrypts a Standard-encrypted package: AES-ECB, cut to the package's size.
type standardDecryptor struct{ block cipher.Block }

// standardKey derives the key of password from a Standard EncryptionInfo (after the version
// and flags) and checks it against the verifier.
func standardKey(b []byte, password string) (ooxmlDecryptor, error) {
	bad := func(what string) (ooxmlDecryptor, error) {
		return nil, errEncryptionMalformed("XLSX", "its EncryptionInfo stream %s", what)
	}
	if len(b) < 4 {
		return bad("is cut short")
	}
	hs := int64(binary.LittleEndian.Uint32(b))
	if hs < 32 || hs > int64(len(b))-4 {
		return bad("has a header of a wrong size")
	}
	h, v := b[4:4+hs], b[4+hs:]
	const fCryptoAPI, fAES = 0x04, 0x20
	flags, algID, hashID, keyBits := binary.LittleEndian.Uint32(h), binary.LittleEndian.Uint32(h[8:]), binary.LittleEndian.Uint32(h[12:]), binary.LittleEndian.Uint32(h[16:])
	wantBits := map[uint32]uint32{0x660E: 128, 0x660F: 192, 0x6610: 256}[algID]
	switch {
	case flags&fCryptoAPI == 0 || flags&fAES == 0 || wantBits == 0:
		return nil, errEncryptionNotRead("XLSX", "Standard encryption of algorithm %#x", algID)
	case hashID != 0 && hashID != 0x8004:
		return nil, errEncryptionNotRead("XLSX", "Standard encryption with hash algorithm %#x", hashID)
	case keyBits != wantBits:
		return bad(fmt.Sprintf("says AES-%d with a %d-bit key", wantBits, keyBits))
	}
	// EncryptionVerifier: salt size, salt, encrypted verifier, hash size, encrypted hash
	// (SHA-1's 20 bytes, padded to AES's block).
	if len(v) < 4+16+16+4+32 || binary.LittleEndian.Uint32(v) != 16 {
		return bad("has a verifier cut short or of a wrong salt size")
	}
	salt, encVerifier, encHash := v[4:20], v[20:36], v[40:72]

	// The key: SHA-1 of salt and password, hashed 50,000 times with the round number, then
	// with block 0, and derived as CryptoAPI's CryptDeriveKey does.
	hf := iteratedHash(sha1.New(), salt, utf16LE(password), 50_000)
	hf = hashOf(sha1.New(), hf, []byte{0, 0, 0, 0})
	var x1, x2 [64]byte
	for i := range 64 {
		x1[i], x2[i] = 0x36, 0x5c
		if i < len(hf) {
			x1[i] ^= hf[i]
			x2[i] ^= hf[i]
		}
	}
	key := append(hashOf(sha1.New(), x1[:]), hashOf(sha1.New(), x2[:])...)[:keyBits/8]
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	verifier := ecbDecrypt(block, encVerifier)
	hashed := ecbDecrypt(block, encHash)
	want := sha1.Sum(verifier)
	if subtle.ConstantTimeCompare(hashed[:sha1.Size], want[:]) != 1 {
		return nil, errPasswordProtected("XLSX")
	}
	return &standardDecryptor{block: block}, nil
}

func ecbDecrypt(block cipher.Block, src []byte) []byte {
	dst := make([]byte, len(src))
	for i := 0; i+aes.BlockSize <= len(src); i += aes.BlockSize {
		block.Decrypt(dst[i:i+aes.BlockSize], src[i:i+aes.BlockSize])
	}
	return dst
}

func (d *standardDecryptor) decrypt(dst io.Writer, src io.ReaderAt, n int64) error {
	return decryptSegments(dst, src, n, func(_ int64, seg []byte) error {
		for i := 0; i < len(seg); i += aes.BlockSize {
			d.block.Decrypt(seg[i:i+aes.BlockSize], seg[i:i+aes.BlockSize])
		}
		return nil
	})
}

// decryptSegments decrypts the n bytes of a package from src into dst, segment by segment of
// ooxmlSegment bytes, each rounded up to AES's block (the stream's last block is padded).
func decryptSegments(dst io.Writer, src io.ReaderAt, n int64, decrypt func(i int64, seg []byte) error) error {
	buf := make([]byte, ooxmlSegment)
	for i, off := int64(0), int64(0); off < n; i, off = i+1, off+ooxmlSegment {
		want := min(ooxmlSegment, n-off)
		padded := (want + aes.BlockSize - 1) / aes.BlockSize * aes.BlockSize
		m, err := src.ReadAt(buf[:padded], off)
		if int64(m) < padded {
			if err == nil || errors.Is(err, io.EOF) {
				return errEncryptionMalformed("XLSX", "its EncryptedPackage stream ends inside the package's last block")
			}
			return err
		}
		if err := decrypt(i, buf[:padded]); err != nil {
			return err
		}
		if _, err := dst.Write(buf[:want]); err != nil {
			return fmt.Errorf("read xlsx: %w", err)
		}
	}
	return nil
}

// Agile encryption ([MS-OFFCRYPTO] 2.3.4.10 to 2.3.4.15).

// agileInfo is what is read of Agile's XML EncryptionInfo.
type agileInfo struct {
	KeyData       agileParams `xml:"keyData"`
	KeyEncryptors []struct {
		URI          string      `xml:"uri,attr"`
		EncryptedKey agileParams `xml:"encryptedKey"`
	} `xml:"keyEncryptors>keyEncryptor"`
}

type agileParams struct {
	SaltValue                  b64    `xml:"saltValue,attr"`
	BlockSize                  int    `xml:"blockSize,attr"`
	KeyBits                    int    `xml:"keyBits,attr"`
	HashSize                   int    `xml:"hashSize,attr"`
	CipherAlgorithm            string `xml:"cipherAlgorithm,attr"`
	CipherChaining             string `xml:"cipherChaining,attr"`
	HashAlgorithm              string `xml:"hashAlgorithm,attr"`
	SpinCount                  int    `xml:"spinCount,attr"`
	EncryptedVerifierHashInput b64    `xml:"encryptedVerifierHashInput,attr"`
	EncryptedVerifierHashValue b64    `xml:"encryptedVerifierHashValue,attr"`
	EncryptedKeyValue          b64    `xml:"encryptedKeyValue,attr"`
}

// b64 is a base64 attribute of Agile's XML.
type b64 []byte

func (b *b64) UnmarshalXMLAttr(a xml.Attr) (err error) {
	*b, err = base64.StdEncoding.DecodeString(strings.TrimSpace(a.Value))
	return err
}

// The block keys of Agile's password key encryptor.
var (
	agileVerifierInputKey = []byte{0xfe, 0xa7, 0xd2, 0x76, 0x3b, 0x4b, 0x9e, 0x79}
	agileVerifierValueKey = []byte{0xd7, 0xaa, 0x0f, 0x6d, 0x30, 0x61, 0x34, 0x4e}
	agileKeyValueKey      = []byte{0x14, 0x6e, 0x0b, 0xe7, 0xab, 0xac, 0xd0, 0xd6}
)

const agilePasswordURI = "http://schemas.microsoft.com/office/2006/keyEncryptor/password"

// agileDecryptor decrypts an Agile-encrypted package: AES-CBC by segments, each with its IV.
type agileDecryptor struct {
	block   cipher.Block
	newHash func() hash.Hash
	salt    []byte
}

// agileHash returns the hash named by an Agile hashAlgorithm.
func agileHash(name string) func() hash.Hash {
	switch strings.ToUpper(name) {
	case "SHA1", "SHA-1":
		return sha1.New
	case "SHA256", "SHA-256":
		return sha256.New
	case "SHA384", "SHA-384":
		return sha512.New384
	case "SHA512", "SHA-512":
		return sha512.New
	case "MD5":
		return md5.New
	}
	return nil
}

// agileKey checks password against an Agile EncryptionInfo's XML (after the version and flags)
// and returns the decryptor of the package key it unlocks.
func agileKey(b []byte, password string) (ooxmlDecryptor, error) {
	var info agileInfo
	if err := xml.Unmarshal(b, &info); err != nil {
		return nil, errEncryptionMalformed("XLSX", "its EncryptionInfo XML: %s", strings.ToValidUTF8(err.Error(), "\uFFFD"))
	}
	var pk *agileParams
	for i := range info.KeyEncryptors {
		if info.KeyEncryptors[i].URI == agilePasswordURI {
			pk = &info.KeyEncryptors[i].EncryptedKey
			break
		}
	}
	if pk == nil {
		return nil, errEncryptionNotRead("XLSX", "a certificate, not a password")
	}
	for _, p := range []*agileParams{&info.KeyData, pk} {
		if !strings.EqualFold(p.CipherAlgorithm, "AES") || !strings.EqualFold(p.CipherChaining, "ChainingModeCBC") {
			return nil, errEncryptionNotRead("XLSX", "Agile encryption by %s in %s", p.CipherAlgorithm, p.CipherChaining)
		}
		if agileHash(p.HashAlgorithm) == nil {
			return nil, errEncryptionNotRead("XLSX", "Agile encryption with the hash algorithm %s", p.HashAlgorithm)
		}
		if p.BlockSize != aes.BlockSize || (p.KeyBits != 128 && p.KeyBits != 192 && p.KeyBits != 256) || len(p.SaltValue) == 0 {
			return nil, errEncryptionMalformed("XLSX", "its EncryptionInfo says a block of %d bytes, a key of %d bits and a salt of %d bytes",
				p.BlockSize, p.KeyBits, len(p.SaltValue))
		}
	}
	if pk.SpinCount < 0 || pk.SpinCount > ooxmlMaxSpinCount {
		return nil, errEncryptionMalformed("XLSX", "its EncryptionInfo asks to hash the password %d times (at most %d)", pk.SpinCount, ooxmlMaxSpinCount)
	}
	newHash := agileHash(pk.HashAlgorithm)
	h := iteratedHash(newHash(), pk.SaltValue, utf16LE(password), pk.SpinCount)
	iv := fitBytes(pk.SaltValue, aes.BlockSize)
	unlock := func(blockKey, data []byte) ([]byte, error) {
		key := fitBytes(hashOf(newHash(), h, blockKey), pk.KeyBits/8)
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		if len(data) == 0 || len(data)%aes.BlockSize != 0 {
			return nil, errEncryptionMalformed("XLSX", "its EncryptionInfo holds an encrypted value of %d bytes", len(data))
		}
		out := make([]byte, len(data))
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
		return out, nil
	}
	input, err := unlock(agileVerifierInputKey, pk.EncryptedVerifierHashInput)
	if err != nil {
		return nil, err
	}
	value, err := unlock(agileVerifierValueKey, pk.EncryptedVerifierHashValue)
	if err != nil {
		return nil, err
	}
	want := hashOf(newHash(), input[:min(len(input), len(pk.SaltValue))])
	if len(value) < len(want) || subtle.ConstantTimeCompare(value[:len(want)], want) != 1 {
		return nil, errPasswordProtected("XLSX")
	}
	key, err := unlock(agileKeyValueKey, pk.EncryptedKeyValue)
	if err != nil {
		return nil, err
	}
	if len(key) < info.KeyData.KeyBits/8 {
		return nil, errEncryptionMalformed("XLSX", "its package key is %d bytes, for a %d-bit cipher", len(key), info.KeyData.KeyBits)
	}
	block, err := aes.NewCipher(key[:info.KeyData.KeyBits/8])
	if err != nil {
		return nil, err
	}
	return &agileDecryptor{block: block, newHash: agileHash(info.KeyData.HashAlgorithm), salt: info.KeyData.SaltValue}, nil
}

func (d *agileDecryptor) decrypt(dst io.Writer, src io.ReaderAt, n int64) error {
	var idx [4]byte
	return decryptSegments(dst, src, n, func(i int64, seg []byte) error {
		binary.LittleEndian.PutUint32(idx[:], uint32(i))
		iv := fitBytes(hashOf(d.newHash(), d.salt, idx[:]), aes.BlockSize)
		cipher.NewCBCDecrypter(d.block, iv).CryptBlocks(seg, seg)
		return nil
	})
}

// iteratedHash is [MS-OFFCRYPTO]'s password hash: H(salt, password), then rounds times
// H(round number, previous hash).
func iteratedHash(h hash.Hash, salt, password []byte, rounds int) []byte {
	sum := hashOf(h, salt, password)
	var round [4]byte
	for i := range rounds {
		binary.LittleEndian.PutUint32(round[:], uint32(i))
		h.Reset()
		h.Write(round[:])
		h.Write(sum)
		sum = h.Sum(sum[:0])
	}
	return sum
}

func hashOf(h hash.Hash, parts ...[]byte) []byte {
	h.Reset()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// fitBytes cuts b to n bytes or pads it with 0x36 bytes, as Agile sizes keys and IVs.
func fitBytes(b []byte, n int) []byte {
	if len(b) >= n {
		return b[:n]
	}
	return append(bytes.Clone(b), bytes.Repeat([]byte{0x36}, n-len(b))...)
}
