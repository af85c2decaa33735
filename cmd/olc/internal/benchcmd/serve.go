package benchcmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/serve/loadgen"
	"github.com/olc-toolkit/olc/train"
)

// ServeOptions are the options of 'olc bench serve'.
type ServeOptions struct {
	IO        *cmdutil.IOStreams
	Model     string
	Clients   []int
	clients   string
	Duration  time.Duration
	DocTokens int
	JSON      bool
}

func newCmdServe(ios *cmdutil.IOStreams, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	o := &ServeOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "serve [--model DIR]",
		Short: "Requests per second and latency of olc serve's login, list and ask, and its peak memory",
		Long: `Start 'olc serve' as a separate process on a loopback port with a new store,
register a user, upload a document of --doc-tokens bytes (the byte
tokenizer's tokens) with a pass key in it, then load login, the document
list and a question (with --model) from 1 and 16 concurrent clients on
keep-alive connections, each for --duration: requests per second, p50 and
p99 latency, and errors. The server's peak resident memory (VmHWM) is read
from /proc before it is stopped. Login is argon2id with OWASP's costs, slow
on purpose; the login limit is off for the benchmark.`,
		Example: `  olc bench serve --model .olc/runs/passkey/model`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Clients = nil
			for _, f := range strings.Split(o.clients, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n < 1 {
					return cmdutil.Usagef("--clients: %q is not a positive number", f)
				}
				o.Clients = append(o.Clients, n)
			}
			if o.Duration <= 0 || o.DocTokens < 100 {
				return cmdutil.Usagef("--duration must be positive and --doc-tokens at least 100")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runServe(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "a question-answering model folder (without one, ask is left out)")
	f.StringVar(&o.clients, "clients", "1,16", "concurrent clients")
	f.DurationVar(&o.Duration, "duration", 5*time.Second, "how long each load runs")
	f.IntVar(&o.DocTokens, "doc-tokens", 4096, "the document's length in tokens (bytes)")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

var reListening = regexp.MustCompile(`listening on (http://[0-9.:]+)`)

func runServe(ctx context.Context, o *ServeOptions) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "olc-bench-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--store", filepath.Join(dir, "olc.db"), "--login-rate", "0", "--queue", "1024"}
	if o.Model != "" {
		args = append(args, "--model", o.Model)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "OLC_JWT_SECRET="+strings.Repeat("b", 48))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	base := make(chan string, 1)
	lines := bufio.NewScanner(stderr)
	go func() {
		for lines.Scan() {
			if m := reListening.FindStringSubmatch(lines.Text()); m != nil {
				base <- m[1]
			} else if strings.HasPrefix(lines.Text(), "olc:") {
				fmt.Fprintln(o.IO.ErrOut, lines.Text())
			}
		}
	}()
	var url string
	select {
	case url = <-base:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("the server did not start within 30 s")
	case <-ctx.Done():
		return ctx.Err()
	}
	token, docID, err := benchSetup(url, o.DocTokens)
	if err != nil {
		return err
	}
	loads := []struct {
		name string
		want int
		req  loadgen.Request
	}{
		{"login", 200, loadgen.JSONPost(url+"/api/v1/auth/login", "", []byte(`{"username":"bench","password":"bench-password"}`))},
		{"list", 200, loadgen.Get(url+"/api/v1/documents", token)},
	}
	if o.Model != "" {
		loads = append(loads, struct {
			name string
			want int
			req  loadgen.Request
		}{"ask", 200, loadgen.JSONPost(url+"/api/v1/qa/ask", token, []byte(`{"question":"What is the pass key?","doc_id":"`+docID+`"}`))})
	}
	var results []loadgen.Result
	for _, l := range loads {
		for _, c := range o.Clients {
			r, err := loadgen.Run(ctx, l.name, c, o.Duration, l.want, l.req)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
	}
	peak := vmHWM(cmd.Process.Pid)
	if o.JSON {
		return cmdutil.PrintJSON(o.IO.Out, map[string]any{"results": results, "server_peak_rss_bytes": peak, "doc_tokens": o.DocTokens, "model": o.Model, "kernels": kernels()})
	}
	fmt.Fprintln(o.IO.Out, kernels(), "(the server is this binary)")
	tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\tclients\trequests\terrors\treq/s\tp50 ms\tp99 ms\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.2f\t%.2f\t\n", r.Name, r.Clients, r.Count, r.Errors, r.RPS, r.P50, r.P99)
	}
	tw.Flush()
	fmt.Fprintf(o.IO.Out, "server peak memory (VmHWM): %.1f MiB; document %d tokens", float64(peak)/(1<<20), o.DocTokens)
	if o.Model == "" {
		fmt.Fprint(o.IO.Out, "; ask left out (no --model)")
	}
	fmt.Fprintln(o.IO.Out)
	for _, r := range results {
		if r.Errors > 0 {
			fmt.Fprintf(o.IO.Out, "%s at %d clients: first error %s\n", r.Name, r.Clients, r.FirstError)
		}
	}
	return nil
}

// benchSetup registers the bench user, logs in and uploads a passkey
// document of n bytes (train's synthetic task) with the key two thirds of
// the way in.
func benchSetup(url string, n int) (token, docID string, err error) {
	post := func(path, ct, tok string, body io.Reader, v any) error {
		req, _ := http.NewRequest("POST", url+path, body)
		req.Header.Set("Content-Type", ct)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			return fmt.Errorf("%s: %d %s", path, res.StatusCode, b)
		}
		return json.Unmarshal(b, v)
	}
	var u map[string]any
	if err := post("/api/v1/auth/register", "application/json", "", strings.NewReader(`{"username":"bench","email":"bench@example.org","password":"bench-password"}`), &u); err != nil {
		return "", "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := post("/api/v1/auth/login", "application/json", "", strings.NewReader(`{"username":"bench","password":"bench-password"}`), &tok); err != nil {
		return "", "", err
	}
	set, err := train.GenerateTask(train.SynthSpec{Task: "passkey", Lengths: [][2]int{{n, n}}, Depths: []float64{2.0 / 3}, N: 1, Seed: 1})
	if err != nil {
		return "", "", err
	}
	doc := set.Data[0].Paragraphs[0].Context
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, _ := mw.CreateFormFile("file", "bench.txt")
	w.Write([]byte(doc))
	mw.Close()
	var up struct {
		DocID string `json:"doc_id"`
	}
	if err := post("/api/v1/documents/upload", mw.FormDataContentType(), tok.AccessToken, &b, &up); err != nil {
		return "", "", err
	}
	return tok.AccessToken, up.DocID, nil
}

// vmHWM returns a process's peak resident memory in bytes, from Linux's
// /proc (0 elsewhere).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
