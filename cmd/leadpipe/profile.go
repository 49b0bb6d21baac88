package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// The variables that name the files a command writes its profiles to (go tool pprof reads
// them); unset, nothing is profiled.
const (
	// cpuProfileEnv: where the command's CPU is spent, sampled until it exits.
	cpuProfileEnv = "LEADPIPE_CPU_PROFILE"
	// allocProfileEnv: what the command allocated, and where, over its whole run, written as it
	// exits (go tool pprof -sample_index=alloc_space): what sets the collector's pace.
	allocProfileEnv = "LEADPIPE_ALLOC_PROFILE"
)

// profile starts a CPU profile written to cpuPath and, at the end, writes the allocations'
// profile to allocPath, each when its path is not empty; it returns what ends them and closes
// the files. Both files are created here, so that a path that cannot be created fails the
// command before it starts.
func profile(cpuPath, allocPath string) (stop func() error, err error) {
	cpu, err := createProfile(cpuProfileEnv, cpuPath)
	if err != nil {
		return nil, err
	}
	alloc, err := createProfile(allocProfileEnv, allocPath)
	if err != nil {
		if cpu != nil {
			cpu.Close()
		}
		return nil, err
	}
	if cpu != nil {
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			if alloc != nil {
				alloc.Close()
			}
			return nil, fmt.Errorf("%s: %w", cpuProfileEnv, err)
		}
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if alloc != nil {
			runtime.GC() // the profile counts up to the last finished collection: the allocations since too
			errs = append(errs, pprof.Lookup("allocs").WriteTo(alloc, 0), alloc.Close())
		}
		return errors.Join(errs...)
	}, nil
}

// createProfile creates the profile file at path, named by the variable env; nil when path is
// empty.
func createProfile(env, path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the operator knows the path
		}
		return nil, fmt.Errorf("%s: cannot create the profile: %w", env, err)
	}
	return f, nil
}
