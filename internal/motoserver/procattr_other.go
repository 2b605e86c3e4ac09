//go:build unix && !linux

package motoserver

import "syscall"

// procAttr puts moto_server in a process group of its own, so that Close
// ends whatever it started.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
