package read

// # Encrypted workbooks
//
// Excel encrypts a workbook with a password ([MS-OFFCRYPTO]); one saved with the password
// "VelvetSweatshop", Excel's built-in default (a workbook protected only against changes to its
// structure, or saved so by other tools), opens in Excel and LibreOffice without a prompt. Such
// files are read here as their users see them:
//   - an XLSX workbook is then an OLE2 compound file holding an EncryptionInfo stream and an
//     EncryptedPackage stream, the zip package encrypted whole. Standard encryption (AES-ECB,
//     key from SHA-1; Excel 2007) and Agile encryption (AES-CBC, key from SHA-1/256/384/512,
//     XML EncryptionInfo; Excel 2010 and later) are read: the password is checked against the
//     file's verifier, the package is decrypted into a temporary file (in the reader's own
//     temporary directory, removed when it closes), at most the declared StreamSize and never
//     more than the stream holds, and that file is read as any XLSX file, every check and
//     limit applying; Format() is "xlsx" (crypt_ooxml.go). Agile's HMAC of the package is not
//     checked: the zip's own checksums, which the XLSX reader verifies, catch a corrupt package.
//   - an XLS workbook has a FILEPASS record after its first BOF record, and the records after
//     it are encrypted with RC4, rekeyed every 1024 bytes of the stream: Office 97/2000's RC4
//     (MD5 keys) or RC4 CryptoAPI (SHA-1 keys; Excel 2002 and later) with a 128-bit key, the
//     default. They are decrypted as the records are read (crypt_xls.go). XOR obfuscation, the
//     weakest of Excel's methods, and CryptoAPI keys shorter than 128 bits are refused: no file
//     or reader was at hand to check a decryptor against (LibreOffice reads neither).
//
// A file encrypted with any other password fails with a message saying it is password-protected
// and how to remove the password; so does a kind of encryption that is not read.
//
// Built, not bought: the Go libraries for [MS-OFFCRYPTO] found are excelize's Decrypt (already a
// dependency) and the crypto package of grate's forks. excelize's Decrypt reads the whole file
// and the whole decrypted package into memory, never checks the password's verifier (a wrong
// password decrypts to noise, reported as a broken zip), does not cut Standard's package to its
// StreamSize, and reads no XLS; grate's forks decrypt only XLS RC4 and are not served by the
// module proxy. The algorithms are short and the standard library has every primitive
// (crypto/aes, crypto/rc4, crypto/md5, crypto/sha1, crypto/sha256, crypto/sha512), so they are
// implemented here. The tests check them against the corpus's files, excelize's Encrypt and
// its Agile-encrypted test workbooks, and an RC4 CryptoAPI workbook whose build LibreOffice
// read.

import (
	"fmt"
	"unicode/utf16"
)

// defaultPassword is the password Excel tries before asking for one.
const defaultPassword = "VelvetSweatshop"

// cryptErr is an error about an encrypted file. It wraps ErrFormat.
type cryptErr struct{ msg string }

func (e *cryptErr) Error() string { return e.msg }
func (e *cryptErr) Unwrap() error { return ErrFormat }

// removePassword says how to remove a workbook's password, for the messages of files that are
// not read.
const removePassword = "open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it) and save it, then import it again"

// errPasswordProtected is the error of a file of format ("XLS" or "XLSX") whose password is not
// Excel's default one.
func errPasswordProtected(format string) error {
	return &cryptErr{msg: fmt.Sprintf("the %s file is protected with a password: %s", format, removePassword)}
}

// errEncryptionNotRead is the error of a file of format encrypted in a way that is not read.
func errEncryptionNotRead(format, how string, a ...any) error {
	return &cryptErr{msg: fmt.Sprintf("the %s file is protected with a password and encrypted with %s, which is not read: %s",
		format, fmt.Sprintf(how, a...), removePassword)}
}

// errEncryptionMalformed is the error of an encrypted file of format whose encryption data is
// corrupt.
func errEncryptionMalformed(format, what string, a ...any) error {
	return &cryptErr{msg: fmt.Sprintf("the %s file is encrypted, and malformed: %s", format, fmt.Sprintf(what, a...))}
}

// utf16LE encodes a password as [MS-OFFCRYPTO] hashes it: UTF-16, little-endian, no NUL.
func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return b
}
