package main_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testModel is a tiny Longformer (2 layers, hidden 64) trained by olc
// train on passkey retrieval, shipped for the server's tests.
const testModel = "../../serve/testdata/passkey-model"

// passkeyDoc is a document of about n bytes (byte tokens) with a pass key
// two thirds of the way in.
func passkeyDoc(n int, key string) string {
	filler := "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
	var b strings.Builder
	for b.Len() < 2*n/3 {
		b.WriteString(filler)
	}
	b.WriteString("The pass key is " + key + ". Remember it. " + key + " is the pass key. ")
	for b.Len()+len(filler) <= n {
		b.WriteString(filler)
	}
	return b.String()
}

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c *apiClient) call(method, path, ct string, body io.Reader, out any) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %d %q: %v", method, path, res.StatusCode, b, err)
		}
	}
	return res.StatusCode
}

func (c *apiClient) json(method, path string, in, out any) int {
	b, _ := json.Marshal(in)
	return c.call(method, path, "application/json", bytes.NewReader(b), out)
}

// startServe runs the olc binary's serve in dir and returns its base URL
// and the running command; its stderr is collected in log.
func startServe(t *testing.T, dir string, log *syncBuffer, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(olc, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OLC_JWT_SECRET=")
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`listening on (http://\S+)`)
		for sc.Scan() {
			log.Write([]byte(sc.Text() + "\n"))
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return a, cmd
	case <-time.After(30 * time.Second):
		t.Fatalf("olc serve did not start: %s", log.String())
	}
	return "", nil
}

// TestServeTutorial: the README's tutorial against the real binary with
// the shipped model: register, log in, upload a 4k-token document, list,
// ask, get the pass key; then SIGTERM while a question is being answered:
// the answer still arrives, and olc exits 0. A restart finds the user and
// the document in the store, under the secret kept beside it (mode 0600).
func TestServeTutorial(t *testing.T) {
	dir := t.TempDir()
	modelDir, err := filepath.Abs(testModel)
	if err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	base, cmd := startServe(t, dir, &log, "--model", modelDir, "--log-format", "json")
	c := &apiClient{t: t, base: base}
	var user map[string]any
	if s := c.json("POST", "/api/v1/auth/register", map[string]string{"username": "ada", "email": "ada@example.org", "password": "correct horse battery", "full_name": "Ada Lovelace"}, &user); s != 201 || user["username"] != "ada" {
		t.Fatalf("register: %d %v", s, user)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if s := c.json("POST", "/api/v1/auth/login", map[string]string{"username": "ada", "password": "correct horse battery"}, &tok); s != 200 || tok.TokenType != "bearer" || tok.ExpiresIn != 3600 {
		t.Fatalf("login: %d %+v", s, tok)
	}
	c.token = tok.AccessToken
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "../../long report.txt")
	fw.Write([]byte(passkeyDoc(4096, "40917")))
	mw.Close()
	var up struct {
		DocID    string `json:"doc_id"`
		Filename string `json:"filename"`
		Status   string `json:"status"`
		Size     int    `json:"size"`
	}
	if s := c.call("POST", "/api/v1/documents/upload", mw.FormDataContentType(), &body, &up); s != 201 || up.Filename != "long report.txt" || up.Status != "processed" || up.Size < 4000 {
		t.Fatalf("upload: %d %+v", s, up)
	}
	var list struct {
		Documents []struct {
			DocID      string `json:"doc_id"`
			UploadedAt string `json:"uploaded_at"`
		}
	}
	if s := c.call("GET", "/api/v1/documents", "", nil, &list); s != 200 || len(list.Documents) != 1 || list.Documents[0].DocID != up.DocID {
		t.Fatalf("list: %d %+v", s, list)
	}
	if _, err := time.Parse(time.RFC3339, list.Documents[0].UploadedAt); err != nil || !strings.HasSuffix(list.Documents[0].UploadedAt, "Z") {
		t.Errorf("uploaded_at %q is not RFC 3339 UTC", list.Documents[0].UploadedAt)
	}
	var a struct {
		Answer, Context, Note   string
		Confidence, ProcessTime float64
		ContextLength           int `json:"context_length"`
	}
	if s := c.json("POST", "/api/v1/qa/ask", map[string]any{"question": "What is the pass key?", "doc_id": up.DocID, "context_length": 512}, &a); s != 200 || a.Answer != "40917" || !strings.Contains(a.Context, "40917") {
		t.Fatalf("ask: %d %+v", s, a)
	}
	// The default window (4096) is capped by the model's, with a note.
	if s := c.json("POST", "/api/v1/qa/ask", map[string]any{"question": "What is the pass key?", "doc_id": up.DocID}, &a); s != 200 || a.Note == "" || a.ContextLength >= 4096 {
		t.Errorf("ask with the default window: %d %+v", s, a)
	}
	// SIGTERM during a question over a long document (about 150 windows):
	// it is answered, then olc exits 0.
	body.Reset()
	mw = multipart.NewWriter(&body)
	fw, _ = mw.CreateFormFile("file", "longer.txt")
	fw.Write([]byte(passkeyDoc(40000, "40917")))
	mw.Close()
	if s := c.call("POST", "/api/v1/documents/upload", mw.FormDataContentType(), &body, &up); s != 201 {
		t.Fatalf("upload: %d", s)
	}
	done := make(chan int)
	go func() {
		var a2 map[string]any
		done <- c.json("POST", "/api/v1/qa/ask", map[string]any{"question": "What is the pass key?", "doc_id": up.DocID, "context_length": 512}, &a2)
	}()
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if s := <-done; s != 200 {
		t.Errorf("the question in flight at SIGTERM: %d", s)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("olc serve after SIGTERM: %v\n%s", err, log.String())
	}
	logs := log.String()
	if i, j := strings.Index(logs, "shutting down"), strings.LastIndex(logs, `"path":"/api/v1/qa/ask"`); i < 0 || j < i {
		t.Errorf("the question did not finish after the shutdown began:\n%s", logs)
	}
	if !strings.Contains(logs, `"path":"/api/v1/auth/login"`) || !strings.Contains(logs, `"user_id":1`) {
		t.Errorf("no JSON access log:\n%s", logs)
	}
	// The passkey is digits, so the search leaves out the fields that
	// hold arbitrary digits: the time (nanoseconds) and the duration.
	kept := withoutClockFields(logs)
	if !strings.Contains(kept, `"path":"/api/v1/auth/login"`) || strings.Contains(kept, `"time"`) {
		t.Errorf("withoutClockFields kept the wrong fields:\n%s", kept)
	}
	for _, secret := range []string{"correct horse", tok.AccessToken, "40917"} {
		if strings.Contains(kept, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	st, err := os.Stat(filepath.Join(dir, ".olc", "olc.db.jwt-secret"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("secret file: %v %v", st, err)
	}
	// A restart keeps the user, the document and the token's validity.
	var log2 syncBuffer
	base2, _ := startServe(t, dir, &log2)
	c2 := &apiClient{t: t, base: base2, token: tok.AccessToken}
	if s := c2.call("GET", "/api/v1/documents/"+up.DocID, "", nil, nil); s != 200 {
		t.Errorf("after a restart: %d", s)
	}
	var e map[string]string
	if s := c2.json("POST", "/api/v1/qa/ask", map[string]any{"question": "What?", "doc_id": up.DocID}, &e); s != 503 || !strings.Contains(e["detail"], "--model") {
		t.Errorf("ask without a model: %d %v", s, e)
	}
}

func TestServeBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--max-upload", "lots"},
		{"serve", "--addr", "nowhere"},
		{"serve", "--model", "no-such-folder"},
		{"serve", "--token-ttl", "1s"},
		{"serve", "--cors-origin", "lab.example.org"},
		{"serve", "--log-format", "xml"},
		{"serve", "--trusted-proxy", "proxy.local"},
		{"serve", "--max-ask-chars", "0"},
	} {
		r := runOLC(t, dir, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "--") {
			t.Errorf("olc %v: exit %d, %q", args, r.code, r.stderr)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// flateBomb returns a PDF whose one page's content stream inflates to
// 4 GiB of the digit 0 (one number the reader would hold whole) from a few
// MiB: built from one compressed block repeated, so that the test does not
// compress 4 GiB.
func flateBomb(t *testing.T) []byte {
	t.Helper()
	const blockMiB, blocks = 16, 256
	var blk bytes.Buffer
	zw, _ := flate.NewWriter(&blk, flate.BestCompression)
	zw.Write(bytes.Repeat([]byte{'0'}, blockMiB<<20))
	zw.Flush() // a non-final block, ending byte-aligned: it can be repeated
	var stream bytes.Buffer
	stream.Write([]byte{0x78, 0xda}) // zlib header
	for range blocks {
		stream.Write(blk.Bytes())
	}
	stream.Write([]byte{0x03, 0x00}) // an empty final block
	stream.Write([]byte{0, 0, 0, 1}) // an Adler-32 the reader meets only at the end
	return writePDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << >> /MediaBox [0 0 10 10] >>",
		fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", stream.Len(), stream.Bytes()))
}

// TestServePDFSandbox: olc serve reads uploaded PDFs in a child process
// with a memory limit: a PDF that inflates to gigabytes is refused (415)
// without harm to the server, which then reads a real PDF.
func TestServePDFSandbox(t *testing.T) {
	dir := t.TempDir()
	var log syncBuffer
	base, _ := startServe(t, dir, &log)
	c := &apiClient{t: t, base: base}
	c.json("POST", "/api/v1/auth/register", map[string]string{"username": "ada", "email": "ada@example.org", "password": "correct horse battery"}, nil)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	c.json("POST", "/api/v1/auth/login", map[string]string{"username": "ada", "password": "correct horse battery"}, &tok)
	c.token = tok.AccessToken
	upload := func(name string, data []byte) (int, map[string]any) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(data)
		mw.Close()
		var out map[string]any
		return c.call("POST", "/api/v1/documents/upload", mw.FormDataContentType(), &body, &out), out
	}
	bomb := flateBomb(t)
	if s, out := upload("bomb.pdf", bomb); s != 415 || !strings.Contains(fmt.Sprint(out["detail"]), "limits") {
		t.Errorf("a %d-byte PDF inflating to 4 GiB: %d %v", len(bomb), s, out)
	}
	pdf := simplePDF("The pass key is 40917.")
	if s, out := upload("ok.pdf", pdf); s != 201 || out["kind"] != "pdf" {
		t.Errorf("a real PDF after the bomb: %d %v", s, out)
	}
	if s := c.call("GET", "/healthz", "", nil, nil); s != 200 {
		t.Errorf("healthz after the bomb: %d", s)
	}
}

// simplePDF is a one-page PDF showing text in Helvetica, written by hand.
func simplePDF(text string) []byte {
	content := fmt.Sprintf("BT /F1 12 Tf 72 712 Td (%s) Tj ET", text)
	return writePDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /MediaBox [0 0 612 792] >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
}

// writePDF writes a PDF of the objects (numbered from 1, the first the
// catalog) with its cross-reference table.
func writePDF(objects ...string) []byte {
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objects))
	for i, body := range objects {
		offs[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return out.Bytes()
}

// TestBenchServe: olc bench serve starts the server as a child, loads
// login and list without errors and reads the server's peak memory.
func TestBenchServe(t *testing.T) {
	r := runBinary(t, t.TempDir(), "bench", "serve", "--duration", "300ms", "--clients", "1,2", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Results []struct {
			Name    string  `json:"name"`
			Clients int     `json:"clients"`
			Count   int     `json:"requests"`
			Errors  int     `json:"errors"`
			RPS     float64 `json:"rps"`
			P50     float64 `json:"p50_ms"`
			P99     float64 `json:"p99_ms"`
		} `json:"results"`
		Peak    int64 `json:"server_peak_rss_bytes"`
		Kernels struct{ BLAS string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != 4 || out.Peak < 1<<20 || out.Kernels.BLAS == "" {
		t.Fatalf("%s", r.stdout)
	}
	for _, res := range out.Results {
		if res.Count == 0 || res.Errors != 0 || res.RPS <= 0 || res.P50 <= 0 || res.P99 < res.P50 {
			t.Errorf("%+v", res)
		}
	}
}

// withoutClockFields returns the JSON log lines in logs with their time and
// duration_ms fields removed; other lines are kept as they are.
func withoutClockFields(logs string) string {
	var out strings.Builder
	for line := range strings.Lines(logs) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			out.WriteString(line)
			continue
		}
		delete(m, "time")
		delete(m, "duration_ms")
		b, _ := json.Marshal(m)
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.String()
}
