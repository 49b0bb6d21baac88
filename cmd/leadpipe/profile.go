package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
)

// cpuProfileEnv names the file a command writes its CPU profile to (go tool pprof reads it);
// unset, nothing is profiled.
const cpuProfileEnv = "LEADPIPE_CPU_PROFILE"

// profileCPU starts a CPU profile written to path, when path is not empty, and returns what
// ends it and closes the file.
func profileCPU(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the operator knows the path
		}
		return nil, fmt.Errorf("%s: cannot create the profile: %w", cpuProfileEnv, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", cpuProfileEnv, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
