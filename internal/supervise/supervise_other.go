//go:build !linux

package supervise

import (
	"os/exec"
	"syscall"
	"time"
)

// Init does nothing on this system, which has no notice of a parent's
// death; it exists so that main can call it everywhere.
func Init() {}

func command(argv []string, grace time.Duration) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}
