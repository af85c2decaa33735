package experiments

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/olc-toolkit/olc/internal/supervise"
	"github.com/olc-toolkit/olc/optimize"
)

// Command is the objective that runs a program, without a shell, once per
// trial.
//
// Each argument of Argv may hold placeholders {name}, replaced by the
// trial's value of parameter name (floats in shortest round-trip form). The
// parameters are also in the environment as OLC_PARAM_<NAME> (upper case,
// other characters than letters and digits as '_'), beside OLC_STUDY,
// OLC_TRIAL, OLC_ATTEMPT and OLC_TRIAL_DIR, the variables of Env and the
// environment olc runs in.
//
// The program's stdout and stderr go to stdout.log and stderr.log in the
// trial's folder, with command.json recording what ran. Its metrics are the
// last line of stdout that parses as a JSON object; earlier such lines with
// a "step" key are intermediate values. Python's NaN and Infinity are
// understood (and make the metric fail as non-finite).
//
// The program runs in its own process group. When the trial's context is
// cancelled, Timeout passes or a pruner stops the trial (its intermediate
// lines go to TrialRun.Report as they are printed), the group gets
// SIGTERM, and SIGKILL after Grace; processes the program leaves behind are killed when it exits. On
// Linux the group also dies with olc, even when olc is killed with
// SIGKILL (see internal/supervise; other systems leave it running).
type Command struct {
	Argv []string
	// Timeout bounds a trial's run time; 0 means no limit.
	Timeout time.Duration
	// Dir is the working folder; empty means olc's own.
	Dir string
	// Env holds extra environment variables.
	Env map[string]string
	// Grace is the time between SIGTERM and SIGKILL (default 5s).
	Grace time.Duration
	// TailLines is how many lines of log a failure quotes (default 20).
	TailLines int
}

// placeholder matches {name} in an argument.
var placeholder = regexp.MustCompile(`\{([A-Za-z0-9_][A-Za-z0-9_.\-]*)\}`)

// Check reports placeholders that name no parameter of space, and
// parameters whose environment names collide.
func (c *Command) Check(space *optimize.Space) error {
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return errors.New("the command is empty; give the program and its arguments")
	}
	for i, arg := range c.Argv {
		for _, m := range placeholder.FindAllStringSubmatch(arg, -1) {
			if _, ok := space.Param(m[1]); !ok {
				return fmt.Errorf("argument %d (%q): placeholder {%s} names no parameter; allowed: %s", i, arg, m[1], placeholderList(space))
			}
		}
	}
	seen := map[string]string{}
	for _, name := range space.Names() {
		env := EnvName(name)
		if other, dup := seen[env]; dup {
			return fmt.Errorf("parameters %q and %q both map to the variable %s", other, name, env)
		}
		seen[env] = name
	}
	return nil
}

func placeholderList(space *optimize.Space) string {
	var s []string
	for _, n := range space.Names() {
		s = append(s, "{"+n+"}")
	}
	return strings.Join(s, ", ")
}

// EnvName returns the environment variable that carries parameter name:
// OLC_PARAM_ and the name in upper case, with characters other than
// letters and digits replaced by '_'.
func EnvName(name string) string {
	b := []byte("OLC_PARAM_" + strings.ToUpper(name))
	for i := len("OLC_PARAM_"); i < len(b); i++ {
		if !(b[i] >= 'A' && b[i] <= 'Z' || b[i] >= '0' && b[i] <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// CheckProgram reports whether the program the command names exists and
// can be run, as a trial would run it (see [Command.Program]). A program
// named by a placeholder is checked only when a trial runs.
func (c *Command) CheckProgram() error {
	if len(c.Argv) == 0 || placeholder.MatchString(c.Argv[0]) {
		return nil
	}
	if c.Dir != "" {
		if st, err := os.Stat(c.Dir); err != nil || !st.IsDir() {
			return fmt.Errorf("the working folder %s does not exist", c.Dir)
		}
	}
	_, err := c.resolve(c.Argv[0])
	return err
}

// Program returns the absolute path of the program Argv[0] names: a name
// with a '/' is taken from Dir (olc's working folder when Dir is empty), a
// bare name is looked up in the PATH of Env, or else of olc's environment.
// The program must be an executable file.
func (c *Command) Program() (string, error) {
	if len(c.Argv) == 0 {
		return "", errors.New("the command is empty")
	}
	return c.resolve(c.Argv[0])
}

func (c *Command) resolve(name string) (string, error) {
	executable := func(path string) error {
		st, err := os.Stat(path)
		switch {
		case err != nil:
			return fmt.Errorf("%s does not exist", path)
		case st.IsDir():
			return fmt.Errorf("%s is a folder, not a program", path)
		case st.Mode()&0o111 == 0:
			return fmt.Errorf("%s is not executable: chmod +x it, or name its interpreter first, e.g. [\"python3\", \"train.py\"]", path)
		}
		return nil
	}
	if name == "" {
		return "", errors.New("the program's name is empty")
	}
	if strings.ContainsRune(name, '/') {
		path := name
		if !filepath.IsAbs(path) {
			base := c.Dir
			if base == "" {
				base = "."
			}
			path = filepath.Join(base, path)
		}
		path, err := filepath.Abs(path)
		if err != nil {
			return "", err
		}
		if err := executable(path); err != nil {
			return "", fmt.Errorf("program %q: %w", name, err)
		}
		return path, nil
	}
	pathList, ok := c.Env["PATH"]
	if !ok {
		pathList = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(pathList) {
		if !filepath.IsAbs(dir) {
			continue // as os/exec, which refuses programs found through relative PATH entries
		}
		if p := filepath.Join(dir, name); executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("program %q not found in PATH (%s); give its path, e.g. \"./%s\" for one in the working folder", name, pathList, name)
}

// Expand returns the argument list with the placeholders replaced.
//
// An argument holding the placeholder of a parameter p lacks (one whose
// condition does not hold) is left out: write a conditional parameter's
// flag and value as one argument, "--momentum={momentum}".
func (c *Command) Expand(p optimize.Params) []string {
	out := make([]string, 0, len(c.Argv))
	for i, arg := range c.Argv {
		inactive := false
		a := placeholder.ReplaceAllStringFunc(arg, func(m string) string {
			if v, ok := p[m[1:len(m)-1]]; ok {
				return optimize.FormatValue(v)
			}
			inactive = true
			return m
		})
		if inactive && i > 0 {
			continue
		}
		out = append(out, a)
	}
	return out
}

// Run runs the program for one trial.
func (c *Command) Run(ctx context.Context, r TrialRun) (Outcome, error) {
	var out Outcome
	dir, err := r.Dir, error(nil)
	if dir == "" {
		tmp, err := os.MkdirTemp("", "olc-trial-")
		if err != nil {
			return out, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return out, fmt.Errorf("create the trial's folder: %w", err)
		}
		out.LogPath = dir
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return out, err
	}
	argv := c.Expand(r.Params)
	prog, err := c.resolve(argv[0])
	if err != nil {
		return out, fmt.Errorf("command not found: %w", err)
	}
	extra := c.environ(r, dir)
	if err := writeCommandRecord(filepath.Join(dir, "command.json"), argv, c.Dir, extra); err != nil {
		return out, err
	}
	stdoutPath, stderrPath := filepath.Join(dir, "stdout.log"), filepath.Join(dir, "stderr.log")
	stdout, err := os.Create(stdoutPath)
	if err != nil {
		return out, err
	}
	defer stdout.Close()
	stderr, err := os.Create(stderrPath)
	if err != nil {
		return out, err
	}
	defer stderr.Close()

	cmd := supervise.Command(append([]string{prog}, argv[1:]...), c.Grace)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), extra...)
	cmd.Stdin = nil
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	var pruneCh chan struct{}
	var lines *reportWriter
	if r.Report != nil {
		pruneCh = make(chan struct{})
		lines = &reportWriter{w: stdout, report: r.Report, prune: pruneCh}
		cmd.Stdout = lines
	}
	if err := cmd.Start(); err != nil {
		return out, fmt.Errorf("start %s: %w", argv[0], err)
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var timeout <-chan time.Time
	if c.Timeout > 0 {
		t := time.NewTimer(c.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var waitErr error
	stopped := ""
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		stopped = "interrupted"
		waitErr = c.stop(pgid, done)
	case <-timeout:
		stopped = "timeout"
		waitErr = c.stop(pgid, done)
	case <-pruneCh:
		stopped = "pruned"
		waitErr = c.stop(pgid, done)
	}
	// Whatever the program left running in its group goes with it.
	supervise.Kill(pgid, syscall.SIGKILL)

	switch {
	case stopped == "pruned":
		out.Intermediate = lines.inter
		return out, ErrPruned
	case stopped == "interrupted":
		return out, fmt.Errorf("interrupted: %w", ctx.Err())
	case stopped == "timeout":
		return out, fmt.Errorf("timed out after %s%s", c.Timeout, c.tail(stderrPath, stdoutPath))
	case waitErr != nil:
		return out, fmt.Errorf("%s%s", describeExit(waitErr), c.tail(stderrPath, stdoutPath))
	}
	metrics, inter, err := ParseMetrics(stdoutPath)
	if err != nil {
		return out, fmt.Errorf("%w%s", err, c.tail(stderrPath, stdoutPath))
	}
	out.Metrics, out.Intermediate = metrics, inter
	return out, nil
}

// reportWriter writes a program's stdout to w and hands each line of the
// form {"step": k, …} to report as it comes; when report asks for the
// trial to stop, it closes prune (once) and ignores later lines. Writes
// come from one goroutine (exec's copier).
type reportWriter struct {
	w      io.Writer
	report func(step int, metrics map[string]float64) bool
	prune  chan struct{}
	line   []byte
	long   bool
	done   bool
	inter  []Intermediate
}

func (rw *reportWriter) Write(p []byte) (int, error) {
	n, err := rw.w.Write(p)
	for rest := p[:n]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		chunk := rest
		if i >= 0 {
			chunk = rest[:i]
		}
		if !rw.long {
			rw.line = append(rw.line, chunk...)
			if len(rw.line) > MaxMetricsLine {
				rw.long, rw.line = true, rw.line[:0]
			}
		}
		if i < 0 {
			break
		}
		if !rw.long {
			rw.handle(rw.line)
		}
		rw.line, rw.long = rw.line[:0], false
		rest = rest[i+1:]
	}
	return n, err
}

// handle reports one line.
func (rw *reportWriter) handle(line []byte) {
	if rw.done {
		return
	}
	obj := parseObject(line)
	if obj == nil {
		return
	}
	step, ok := obj["step"].(float64)
	if !ok || step != math.Trunc(step) || math.Abs(step) > math.MaxInt32 {
		return
	}
	m := numericFields(obj)
	delete(m, "step")
	rw.inter = append(rw.inter, Intermediate{Step: int(step), Metrics: m})
	if rw.report(int(step), m) {
		rw.done = true
		close(rw.prune)
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after the grace
// period, and waits for the program to exit.
func (c *Command) stop(pgid int, done <-chan error) error {
	supervise.Kill(pgid, syscall.SIGTERM)
	grace := c.Grace
	if grace <= 0 {
		grace = supervise.DefaultGrace
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		supervise.Kill(pgid, syscall.SIGKILL)
		return <-done
	}
}

// environ returns the variables a trial's command gets on top of olc's own.
func (c *Command) environ(r TrialRun, dir string) []string {
	env := []string{
		"OLC_STUDY=" + r.Study,
		"OLC_TRIAL=" + strconv.Itoa(r.Number),
		"OLC_ATTEMPT=" + strconv.Itoa(r.Attempt),
		"OLC_TRIAL_DIR=" + dir,
	}
	names := make([]string, 0, len(r.Params))
	for name := range r.Params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		env = append(env, EnvName(name)+"="+optimize.FormatValue(r.Params[name]))
	}
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+c.Env[k])
	}
	return env
}

func writeCommandRecord(path string, argv []string, dir string, env []string) error {
	rec := struct {
		Argv []string `json:"argv"`
		Dir  string   `json:"workdir"`
		Env  []string `json:"env"`
	}{argv, dir, env}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func describeExit(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), ws.Signal())
		}
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	return err.Error()
}

// tail quotes the last lines of the first of the logs that is not empty.
func (c *Command) tail(paths ...string) string {
	n := c.TailLines
	if n <= 0 {
		n = 20
	}
	for _, p := range paths {
		lines := tailLines(p, n, 4096)
		if len(lines) > 0 {
			return fmt.Sprintf("\n--- %s, last %d lines ---\n%s", filepath.Base(p), len(lines), strings.Join(lines, "\n"))
		}
	}
	return ""
}

// tailLines returns the last n lines of a file, reading at most limit bytes.
func tailLines(path string, n int, limit int64) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	off := max(st.Size()-limit, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return nil
	}
	b = bytes.TrimRight(b, "\n")
	if len(b) == 0 {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first line is cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// ErrNoMetrics is returned by ParseMetrics when stdout has no JSON object
// line.
var ErrNoMetrics = errors.New("printed no JSON object on stdout (the metrics are the last stdout line that parses as a JSON object)")

// nonFinite matches Python's NaN and Infinity tokens in JSON values.
var nonFinite = regexp.MustCompile(`([:\[,]\s*)(-?Infinity|NaN)(\s*[,\]}])`)

// MaxMetricsLine bounds the length of a stdout line read as metrics (64
// MiB); a longer line that starts like a JSON object fails the trial with
// a message that says so, when no object follows it.
const MaxMetricsLine = 64 << 20

// ParseMetrics reads a program's stdout: the metrics are the numeric
// fields of the last line that parses as a JSON object; earlier object lines
// with an integer "step" are intermediate values.
func ParseMetrics(path string) (map[string]float64, []Intermediate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return parseMetrics(f)
}

func parseMetrics(r io.Reader) (map[string]float64, []Intermediate, error) {
	rd := bufio.NewReaderSize(r, 64<<10)
	var objs []map[string]any
	var line []byte
	long, longObject, n, size := false, false, 0, 0
	tooLong := "" // an object line over the limit after the last object
	for {
		chunk, isPrefix, err := rd.ReadLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		size += len(chunk)
		if !long {
			line = append(line, chunk...)
			if len(line) > MaxMetricsLine {
				t := bytes.TrimLeft(line, " \t")
				longObject = len(t) > 0 && t[0] == '{'
				long, line = true, line[:0]
			}
		}
		if isPrefix {
			continue
		}
		n++
		if long {
			if longObject {
				tooLong = fmt.Sprintf("stdout line %d, which starts like a JSON object, is %.1f MiB long, over olc's limit of %d MiB for a metrics line: print the metrics on a shorter line of their own", n, float64(size)/(1<<20), MaxMetricsLine>>20)
			}
		} else if obj := parseObject(line); obj != nil {
			objs = append(objs, obj)
			tooLong = ""
		}
		line, long, longObject, size = line[:0], false, false, 0
	}
	if tooLong != "" {
		return nil, nil, errors.New(tooLong)
	}
	if len(objs) == 0 {
		return nil, nil, ErrNoMetrics
	}
	var inter []Intermediate
	for _, o := range objs[:len(objs)-1] {
		step, ok := o["step"].(float64)
		if !ok || step != math.Trunc(step) || math.Abs(step) > math.MaxInt32 {
			continue
		}
		m := numericFields(o)
		delete(m, "step")
		inter = append(inter, Intermediate{Step: int(step), Metrics: m})
	}
	return numericFields(objs[len(objs)-1]), inter, nil
}

func parseObject(line []byte) map[string]any {
	line = bytes.TrimSpace(line)
	if len(line) < 2 || line[0] != '{' || line[len(line)-1] != '}' {
		return nil
	}
	var obj map[string]any
	if json.Unmarshal(line, &obj) == nil {
		return obj
	}
	fixed := nonFinite.ReplaceAll(line, []byte(`$1"$2"$3`))
	fixed = nonFinite.ReplaceAll(fixed, []byte(`$1"$2"$3`)) // overlapping matches
	if json.Unmarshal(fixed, &obj) == nil {
		return obj
	}
	return nil
}

// numericFields keeps the number fields of a JSON object, with Python's
// non-finite spellings and null as NaN or ±Inf.
func numericFields(o map[string]any) map[string]float64 {
	m := make(map[string]float64, len(o))
	for k, v := range o {
		switch x := v.(type) {
		case float64:
			m[k] = x
		case nil:
			m[k] = math.NaN()
		case string:
			switch x {
			case "NaN":
				m[k] = math.NaN()
			case "Infinity":
				m[k] = math.Inf(1)
			case "-Infinity":
				m[k] = math.Inf(-1)
			}
		}
	}
	return m
}
