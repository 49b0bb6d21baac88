package read

import (
	"io"
	"os"
)

// DecryptXLSX writes the package of encrypted XLSX f, decrypted with password, to dst, for tests
// of workbooks encrypted with another password than the default one.
func DecryptXLSX(f *os.File, password string, dst io.Writer) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	p, _, err := findEncryptedPackage(f, st.Size())
	if err != nil {
		return err
	}
	dec, n, err := p.unlock(password)
	if err != nil {
		return err
	}
	return p.decrypt(dst, dec, n)
}

// CheckXLSRC4Password checks password against the RC4 encryption header of a FILEPASS record
// (salt, encrypted verifier, encrypted verifier hash).
func CheckXLSRC4Password(header []byte, password string) error {
	_, err := biffRC4Key(header, password)
	return err
}
