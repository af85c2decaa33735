package supervise_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/internal/supervise"
)

// The test binary is both the supervisor and, with SUPERVISE_TEST_PARENT
// set, a parent that starts a command, prints its process group and waits
// to be killed.
func TestMain(m *testing.M) {
	supervise.Init()
	if os.Getenv("SUPERVISE_TEST_PARENT") != "" {
		cmd := supervise.Command([]string{"sh", "-c", "sleep 300 & sleep 300 & wait"}, time.Second)
		if err := cmd.Start(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// groupAlive reports whether any process is left in the group.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// members counts the processes of the group, from /proc.
func members(pgid int) int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
			n++
		}
	}
	return n
}

func TestGroupDiesWithParent(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), "SUPERVISE_TEST_PARENT=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pgid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("parent said %q", line)
	}
	// The supervisor, sh and its two sleeps.
	deadline := time.Now().Add(10 * time.Second)
	for members(pgid) < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := members(pgid); n < 4 {
		t.Fatalf("the group has %d processes, want 4 (supervisor, sh, 2 × sleep)", n)
	}
	parent.Process.Signal(syscall.SIGKILL)
	parent.Wait()
	deadline = time.Now().Add(10 * time.Second)
	for groupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if groupAlive(pgid) {
		syscall.Kill(-pgid, syscall.SIGKILL)
		t.Fatalf("%d processes of the group outlived their parent by 10 s", members(pgid))
	}
}

func TestExitStatusPassesOn(t *testing.T) {
	cases := []struct {
		script string
		code   int
		signal syscall.Signal
	}{
		{"exit 0", 0, 0},
		{"exit 3", 3, 0},
		{"kill -TERM $$", -1, syscall.SIGTERM},
		{"kill -KILL $$", -1, syscall.SIGKILL},
	}
	for _, c := range cases {
		cmd := supervise.Command([]string{"sh", "-c", c.script}, time.Second)
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case c.code == 0 && err != nil:
			t.Errorf("%s: %v", c.script, err)
		case c.code > 0 && (!errors.As(err, &ee) || ee.ExitCode() != c.code):
			t.Errorf("%s: err = %v, want exit status %d", c.script, err, c.code)
		case c.signal != 0:
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != c.signal {
				t.Errorf("%s: state %v, want killed by %v", c.script, cmd.ProcessState, c.signal)
			}
		}
	}
}

func TestStopThroughGroup(t *testing.T) {
	// olc stops a trial by signalling the group: the program gets SIGTERM
	// and the supervisor passes on how it ended.
	cmd := supervise.Command([]string{"sh", "-c", "trap 'exit 7' TERM; sleep 300 & wait"}, time.Second)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	supervise.Kill(cmd.Process.Pid, syscall.SIGTERM)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Errorf("err = %v, want exit status 7 from the program's trap", err)
	}
	supervise.Kill(cmd.Process.Pid, syscall.SIGKILL)
}
