package isolate

import "syscall"

// procAttr makes the kernel kill a child whose parent dies, so that none outlives a crashed
// daemon. (Its temporary directory stays behind then.)
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
