package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// mode is the first argument of olc's executable run as a supervisor.
const mode = "__olc_supervise__"

// enabled records that Init ran in this process, so that its executable
// can be run again as a supervisor. It is process-wide by nature, as the
// executable is.
var enabled atomic.Bool

// Init must be called first thing in main (and in TestMain of test
// binaries that run commands): in a process started as a supervisor it
// supervises and exits; otherwise it notes that this executable can serve
// as one. Without Init, [Command] still starts the program in its own
// group and the kernel kills it (but not its children) when this process
// dies.
func Init() {
	if len(os.Args) > 1 && os.Args[1] == mode {
		os.Exit(supervise(os.Args[2:]))
	}
	enabled.Store(true)
}

func command(argv []string, grace time.Duration) *exec.Cmd {
	if !enabled.Load() {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		return cmd
	}
	// /proc/self/exe is this very executable, even if its file was
	// replaced since it started.
	args := append([]string{mode, strconv.FormatInt(int64(grace), 10)}, argv...)
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	return cmd
}

// exitNotStarted is the supervisor's exit status when the program could
// not be started, as a shell's 127 for a command not found.
const exitNotStarted = 127

// supervise runs args = [grace, program, arguments…] in this process's
// group and returns the exit status to pass on.
func supervise(args []string) int {
	parent := os.Getppid()
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "olc supervisor: no program to run")
		return exitNotStarted
	}
	graceNS, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "olc supervisor: bad grace period", args[0])
		return exitNotStarted
	}
	// Listen before starting the program, so that no signal is missed.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "olc: cannot start %s: %v\n", args[1], unwrapExec(err))
		return exitNotStarted
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	group := syscall.Getpgrp()
	for {
		select {
		case err := <-done:
			signal.Stop(sigs)
			return passOn(err)
		case <-sigs:
			// olc signals the whole group to stop a trial, and the program
			// has the signal too: wait for it. A signal after olc is gone
			// (the kernel's notice, the parent being replaced) stops the
			// group here.
			if os.Getppid() == parent {
				continue
			}
			syscall.Kill(-group, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(time.Duration(graceNS)):
			}
			syscall.Kill(-group, syscall.SIGKILL) // this process included
			return 1
		}
	}
}

// passOn returns the program's exit status, or dies of the signal that
// killed it, so that olc sees what the program did.
func passOn(err error) int {
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "olc supervisor:", err)
		return 1
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		sig := ws.Signal()
		signal.Reset(sig)
		syscall.Kill(os.Getpid(), sig)
		time.Sleep(100 * time.Millisecond) // the signal is delivered meanwhile
		return 128 + int(sig)
	}
	return ee.ExitCode()
}

func unwrapExec(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}
