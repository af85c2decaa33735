package serve_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/pgstore"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/serve"
	"github.com/olc-toolkit/olc/train/traintest"
)

// cheap are argon2id costs for tests that are not about the hash.
var cheap = serve.Argon2Params{Memory: 64, Time: 1, Threads: 1}

const secret = "0123456789abcdef0123456789abcdef-test"

// testServer is a real server on a loopback listener over a SQLite store.
type testServer struct {
	t     *testing.T
	URL   string
	srv   *serve.Server
	store recordStore
	stop  func()
}

// recordStore is an experiment store whose tables a test can read.
type recordStore interface {
	experiments.Store
	DB() *sql.DB
}

// openStores opens the experiment store at path (a SQLite file or a
// PostgreSQL URL) and the server's store in it.
func openStores(t *testing.T, path string) (recordStore, *serve.SQLStore) {
	t.Helper()
	ctx := context.Background()
	if pgstore.IsURL(path) {
		st, err := pgstore.Open(ctx, path, pgstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		users, err := serve.NewPostgres(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		return st, users
	}
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	users, err := serve.NewSQLite(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	return st, users
}

// start runs a server over the store at path (a SQLite file or a
// PostgreSQL URL) with options o (Users, Record, Secret and Argon2 filled
// in when unset).
func start(t *testing.T, path string, o serve.Options) *testServer {
	t.Helper()
	ctx := context.Background()
	st, users := openStores(t, path)
	o.Users, o.Record = users, st
	if o.Secret == nil {
		o.Secret = []byte(secret)
	}
	if o.Argon2 == (serve.Argon2Params{}) {
		o.Argon2 = cheap
	}
	srv, err := serve.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	ts := &testServer{t: t, URL: "http://" + ln.Addr().String(), srv: srv, store: st}
	var stopped bool
	ts.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		st.Close()
	}
	t.Cleanup(ts.stop)
	return ts
}

func newServer(t *testing.T, o serve.Options) *testServer {
	return start(t, filepath.Join(t.TempDir(), "olc.db"), o)
}

// response is an answer read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("status %d, body %q: %v", r.Status, r.Body, err)
	}
}

// detail returns an error answer's detail, failing the test when the
// body is not {"detail": "..."}.
func (r *response) detail(t *testing.T) string {
	t.Helper()
	var e map[string]any
	r.json(t, &e)
	d, ok := e["detail"].(string)
	if !ok || len(e) != 1 || d == "" {
		t.Fatalf("status %d: error body %q is not {\"detail\": \"...\"}", r.Status, r.Body)
	}
	return d
}

// do sends a request; body is JSON-encoded unless it is a []byte or an
// io.Reader (sent as is, with the content type given in headers).
func (ts *testServer) do(method, path, token string, body any, headers ...string) *response {
	ts.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
		ct = "application/json"
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// user registers and logs in a user, returning its token.
func (ts *testServer) user(name string) string {
	ts.t.Helper()
	r := ts.do("POST", "/api/v1/auth/register", "", map[string]string{"username": name, "email": name + "@example.org", "password": "password-of-" + name, "full_name": strings.ToUpper(name)})
	if r.Status != http.StatusCreated {
		ts.t.Fatalf("register %s: %d %s", name, r.Status, r.Body)
	}
	return ts.login(name, "password-of-"+name)
}

func (ts *testServer) login(name, password string) string {
	ts.t.Helper()
	r := ts.do("POST", "/api/v1/auth/login", "", map[string]string{"username": name, "password": password})
	if r.Status != http.StatusOK {
		ts.t.Fatalf("login %s: %d %s", name, r.Status, r.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	r.json(ts.t, &tok)
	if tok.TokenType != "bearer" || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		ts.t.Fatalf("login: %s", r.Body)
	}
	return tok.AccessToken
}

// multipartBody returns a multipart/form-data body with one file in field.
func multipartBody(t testing.TB, field, name string, data []byte) (io.Reader, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	mw.Close()
	return &b, mw.FormDataContentType()
}

type uploaded struct {
	DocID    string `json:"doc_id"`
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	Status   string `json:"status"`
	Kind     string `json:"kind"`
	Chars    int    `json:"text_length"`
}

func (ts *testServer) upload(token, name string, data []byte) (*response, uploaded) {
	ts.t.Helper()
	body, ct := multipartBody(ts.t, "file", name, data)
	r := ts.do("POST", "/api/v1/documents/upload", token, body, "Content-Type", ct)
	var u uploaded
	if r.Status == http.StatusCreated {
		r.json(ts.t, &u)
	}
	return r, u
}

// slowModel takes delay over each window and counts the windows read.
type slowModel struct {
	traintest.DigitModel
	delay   time.Duration
	windows atomic.Int64
}

func (m *slowModel) QALogits(ids []int, mask []int8) ([]float32, []float32, error) {
	m.windows.Add(1)
	time.Sleep(m.delay)
	return m.DigitModel.QALogits(ids, mask)
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func post(c *http.Client, url, token, ct string, body io.Reader, v any) int {
	req, err := http.NewRequest("POST", url, body)
	if err != nil {
		return -1
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	return send(c, req, v)
}

func get(c *http.Client, url, token string, v any) int {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return -1
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return send(c, req, v)
}

func send(c *http.Client, req *http.Request, v any) int {
	res, err := c.Do(req)
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil && res.StatusCode < 300 {
		return -2
	}
	return res.StatusCode
}
