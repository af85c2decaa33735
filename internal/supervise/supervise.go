// Package supervise starts programs that die with olc.
//
// A program started by [Command] runs in a process group of its own, so
// that olc can stop it together with everything it started (a shell
// script's children, a launcher's workers) by signalling the group. When
// olc itself dies (killed with SIGKILL, out of memory, a crash), nothing
// of olc runs to stop the group. On Linux, the program is therefore
// started through a small supervisor: olc's own executable run again in a
// special mode ([Init]), which leads the group, starts the program in it,
// waits for it and passes its exit status on. The kernel sends the
// supervisor a signal when olc's process ends (prctl PR_SET_PDEATHSIG);
// the supervisor then sends the group SIGTERM and, after a grace period,
// SIGKILL. Descendants that leave the group (setsid, daemons) escape.
//
// On other systems there is no such notice: a program whose olc is killed
// keeps running until it ends on its own, and the next run of the study
// marks its trial lost (see the experiments package's Runner).
package supervise

import (
	"os/exec"
	"syscall"
	"time"
)

// DefaultGrace is the time between SIGTERM and SIGKILL.
const DefaultGrace = 5 * time.Second

// Command returns the command that runs the program argv[0] with the
// arguments argv[1:] as the leader of a new process group (or under a
// supervisor that leads it; see the package comment), to die with this
// process. grace is the time the supervisor gives the group between
// SIGTERM and SIGKILL after this process died (DefaultGrace when ≤ 0).
//
// Signal the group with [Kill] to stop the program and its children. The
// caller sets Dir, Env and the standard streams as for any exec.Cmd.
func Command(argv []string, grace time.Duration) *exec.Cmd {
	if grace <= 0 {
		grace = DefaultGrace
	}
	return command(argv, grace)
}

// Kill sends sig to the process group led by pgid, the process ID of a
// command from [Command] (the group outlives its leader while any member
// is alive). It ignores a group that is gone.
func Kill(pgid int, sig syscall.Signal) {
	if pgid > 0 {
		syscall.Kill(-pgid, sig)
	}
}
