package motoserver

import "syscall"

// procAttr puts moto_server in a process group of its own, so that Close
// ends whatever it started, and has Linux kill it when the process that
// started it dies: a test binary that is killed (a -timeout panic, a
// closed pipe) runs no cleanup, and must not leave a server behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
