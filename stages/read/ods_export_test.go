package read

import "bytes"

// OpenODSBytes opens the ODS spreadsheet data as Open would a file holding it, without a file:
// for the fuzzer.
func OpenODSBytes(data []byte, opts Options) (Reader, error) {
	x, err := openODSAt(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return nil, err
	}
	return x, nil
}
