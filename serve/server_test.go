package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/serve"
	"github.com/olc-toolkit/olc/train/traintest"
)

// TestErrorStatuses: every error status of the API, each answered as JSON
// {"detail": "..."} with the security headers.
func TestErrorStatuses(t *testing.T) {
	ts := newServer(t, serve.Options{MaxUpload: 1000, MaxAskChars: 100, LoginPerMinute: 3, AddressPerMinute: 1000})
	tok := ts.user("alice")
	_, long := ts.upload(tok, "long.txt", []byte(strings.Repeat("Long text. ", 20)))
	var doc uploaded
	if r, u := ts.upload(tok, "a.txt", []byte("The code is 4242.")); r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	} else {
		doc = u
	}
	cases := []struct {
		name, method, path, token string
		body                      any
		headers                   []string
		status                    int
		detail                    string
	}{
		{"malformed JSON", "POST", "/api/v1/auth/login", "", `{"username": `, nil, 400, "invalid JSON"},
		{"trailing data", "POST", "/api/v1/auth/login", "", `{"username":"a","password":"b"} {}`, nil, 400, "data after the object"},
		{"unknown field", "POST", "/api/v1/auth/register", "", `{"username":"bob","email":"b@example.org","password":"12345678","admin":true}`, nil, 400, `unknown field "admin"`},
		{"not an object", "POST", "/api/v1/auth/login", "", `[1, 2]`, nil, 400, "must be a JSON object"},
		{"empty body", "POST", "/api/v1/auth/login", "", ``, nil, 400, "empty"},
		{"no token", "GET", "/api/v1/documents", "", nil, nil, 401, "Authorization: Bearer"},
		{"garbage token", "GET", "/api/v1/documents", "not.a.token", nil, nil, 401, "invalid or expired token"},
		{"basic auth", "GET", "/api/v1/studies", "", nil, []string{"Authorization", "Basic YTpi"}, 401, "Bearer <token>"},
		{"unknown user", "POST", "/api/v1/auth/login", "", map[string]string{"username": "nobody", "password": "whatever1"}, nil, 401, "wrong username or password"},
		{"wrong password", "POST", "/api/v1/auth/login", "", map[string]string{"username": "alice", "password": "whatever1"}, nil, 401, "wrong username or password"},
		{"no such route", "GET", "/api/v1/nothing", "", nil, nil, 404, "no such endpoint"},
		{"no such document", "GET", "/api/v1/documents/0123456789abcdef0123456789abcdef", tok, nil, nil, 404, "no document"},
		{"malformed document id", "DELETE", "/api/v1/documents/..%2f..%2fetc", tok, nil, nil, 404, "no document"},
		{"ask of no document", "POST", "/api/v1/qa/ask", tok, map[string]any{"question": "Which?", "doc_id": "0123456789abcdef0123456789abcdef"}, nil, 404, "no document"},
		{"no such study", "GET", "/api/v1/studies/nothing", tok, nil, nil, 404, "no study"},
		{"wrong method", "PUT", "/api/v1/qa/ask", tok, nil, nil, 405, "allowed: POST"},
		{"wrong method on a document", "POST", "/api/v1/documents/" + doc.DocID, tok, nil, nil, 405, "allowed: GET, HEAD, DELETE"},
		{"username taken", "POST", "/api/v1/auth/register", "", map[string]string{"username": "ALICE", "email": "other@example.org", "password": "12345678"}, nil, 409, "username"},
		{"email taken", "POST", "/api/v1/auth/register", "", map[string]string{"username": "alice2", "email": "Alice@Example.org", "password": "12345678"}, nil, 409, "email"},
		{"body too large", "POST", "/api/v1/auth/register", "", `{"username":"` + strings.Repeat("x", 70<<10) + `"}`, nil, 413, "exceeds"},
		{"upload too large", "POST", "/api/v1/documents/upload", tok, "", nil, 413, "upload limit of 1000 bytes"},
		{"JSON as text/plain", "POST", "/api/v1/auth/login", "", []byte(`{}`), []string{"Content-Type", "text/plain"}, 415, "must be JSON"},
		{"upload not multipart", "POST", "/api/v1/documents/upload", tok, []byte("hello"), []string{"Content-Type", "text/plain"}, 415, "multipart/form-data"},
		{"upload a PNG", "POST", "/api/v1/documents/upload", tok, "png", nil, 415, "image/png"},
		{"wrong type", "POST", "/api/v1/qa/ask", tok, `{"question": "Which?", "doc_id": "x", "context_length": "long"}`, nil, 422, `"context_length" must be an integer`},
		{"short password", "POST", "/api/v1/auth/register", "", map[string]string{"username": "carol", "email": "c@example.org", "password": "1234567"}, nil, 422, "password"},
		{"bad username", "POST", "/api/v1/auth/register", "", map[string]string{"username": "../root", "email": "c@example.org", "password": "12345678"}, nil, 422, "username"},
		{"bad email", "POST", "/api/v1/auth/register", "", map[string]string{"username": "carol", "email": "Carol <c@example.org>", "password": "12345678"}, nil, 422, "email"},
		{"no question", "POST", "/api/v1/qa/ask", tok, map[string]any{"doc_id": doc.DocID}, nil, 422, `"question" is required`},
		{"document too long to ask", "POST", "/api/v1/qa/ask", tok, map[string]any{"question": "Which?", "doc_id": "LONGDOC"}, nil, 422, "up to 100"},
		{"tiny window", "POST", "/api/v1/qa/ask", tok, map[string]any{"question": "Which?", "doc_id": doc.DocID, "context_length": 8}, nil, 422, "at least 64"},
		{"bad page", "GET", "/api/v1/studies/x/trials?limit=0", tok, nil, nil, 422, `"limit"`},
		{"empty upload", "POST", "/api/v1/documents/upload", tok, "empty", nil, 422, "no text"},
		{"no model", "POST", "/api/v1/qa/ask", tok, map[string]any{"question": "Which?", "doc_id": doc.DocID}, nil, 503, "--model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r *response
			switch c.body {
			case "png", "empty":
				data := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
				if c.body == "empty" {
					data = []byte(" \n ")
				}
				r, _ = ts.upload(c.token, "x.png", data)
			default:
				if c.status == 413 && c.path == "/api/v1/documents/upload" {
					r, _ = ts.upload(c.token, "big.txt", []byte(strings.Repeat("a", 1001)))
				} else {
					body := c.body
					if m, ok := body.(map[string]any); ok && m["doc_id"] == "LONGDOC" {
						m["doc_id"] = long.DocID
					}
					r = ts.do(c.method, c.path, c.token, body, c.headers...)
				}
			}
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			if d := r.detail(t); !strings.Contains(d, c.detail) {
				t.Errorf("detail %q does not say %q", d, c.detail)
			}
			for _, h := range []string{"X-Content-Type-Options", "Content-Security-Policy", "Referrer-Policy"} {
				if r.Header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
			if r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			}
		})
	}
	// 429: login attempts for one username beyond the limit (3 a minute),
	// with Retry-After.
	var r *response
	for i := 0; i < 5; i++ {
		r = ts.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "victim", "password": "guess-" + fmt.Sprint(i)})
	}
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("the sixth login attempt: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if d := r.detail(t); !strings.Contains(d, "too many login attempts") {
		t.Errorf("429 detail %q", d)
	}
}

// TestAddressLimit: registrations and logins from one address share a
// budget (here 2 a minute); beyond it, 429 with Retry-After.
func TestAddressLimit(t *testing.T) {
	ts := newServer(t, serve.Options{AddressPerMinute: 2})
	for i, want := range []int{201, 201, 429} {
		r := ts.do("POST", "/api/v1/auth/register", "", map[string]string{"username": "user" + itoa(i), "email": "u" + itoa(i) + "@example.org", "password": "12345678"})
		if r.Status != want {
			t.Fatalf("registration %d: %d %s", i, r.Status, r.Body)
		}
		if want == 429 && r.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	}
	if r := ts.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "user0", "password": "12345678"}); r.Status != 429 {
		t.Errorf("a login after the address's budget: %d", r.Status)
	}
}

// TestTrustedProxies: X-Forwarded-For names the client only when the peer
// is a trusted proxy; otherwise a forged header cannot buy a new budget.
func TestTrustedProxies(t *testing.T) {
	reg := func(ts *testServer, i int, xff string) int {
		return ts.do("POST", "/api/v1/auth/register", "", map[string]string{"username": "user" + itoa(i), "email": "u" + itoa(i) + "@example.org", "password": "12345678"}, "X-Forwarded-For", xff).Status
	}
	direct := newServer(t, serve.Options{AddressPerMinute: 1})
	if a, b := reg(direct, 0, "203.0.113.5"), reg(direct, 1, "203.0.113.6"); a != 201 || b != 429 {
		t.Errorf("without trusted proxies, a forged X-Forwarded-For: %d then %d, want 201 then 429", a, b)
	}
	proxied := newServer(t, serve.Options{AddressPerMinute: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	for i, c := range []struct {
		xff  string
		want int
	}{
		{"203.0.113.5", 201},
		{"203.0.113.5", 429},               // the same client again
		{"198.51.100.7, 203.0.113.6", 201}, // a new client; the left entry is the client's claim, not trusted
		{"203.0.113.6", 429},
		{"203.0.113.5, 127.0.0.1", 429}, // a trusted hop on the right is skipped
	} {
		if got := reg(proxied, 10+i, c.xff); got != c.want {
			t.Errorf("X-Forwarded-For %q: %d, want %d", c.xff, got, c.want)
		}
	}
}

// TestTokens: expiry with an injected clock, alg none, another algorithm,
// a tampered payload and a token signed with another secret are all 401.
func TestTokens(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ts := newServer(t, serve.Options{Now: clock, TokenTTL: time.Hour})
	tok := ts.user("alice")
	if r := ts.do("GET", "/api/v1/documents", tok, nil); r.Status != 200 {
		t.Fatalf("a fresh token: %d %s", r.Status, r.Body)
	}
	parts := strings.Split(tok, ".")
	b64 := func(s string) string { return strings.TrimRight(base64URL(s), "=") }
	var claims map[string]any
	if err := json.Unmarshal(decodeB64(t, parts[1]), &claims); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sub", "iat", "exp", "jti"} {
		if claims[k] == nil {
			t.Errorf("the token has no %q claim: %v", k, claims)
		}
	}
	if claims["exp"].(float64)-claims["iat"].(float64) != 3600 {
		t.Errorf("exp - iat = %v, want 3600", claims["exp"].(float64)-claims["iat"].(float64))
	}
	other, _ := serve.NewTokens([]byte(strings.Repeat("k", 40)), time.Hour, clock)
	foreign, _ := other.Issue(1)
	payload := strings.Replace(string(decodeB64(t, parts[1])), `"sub":"1"`, `"sub":"2"`, 1)
	bad := map[string]string{
		"alg none":      b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".",
		"alg HS512":     b64(`{"alg":"HS512","typ":"JWT"}`) + "." + parts[1] + "." + parts[2],
		"tampered":      parts[0] + "." + b64(payload) + "." + parts[2],
		"other secret":  foreign,
		"no signature":  parts[0] + "." + parts[1] + ".",
		"truncated":     tok[:len(tok)-3],
		"bearer prefix": "Bearer " + tok,
	}
	for name, bt := range bad {
		if r := ts.do("GET", "/api/v1/documents", bt, nil); r.Status != 401 {
			t.Errorf("%s: status %d, want 401", name, r.Status)
		}
	}
	now = now.Add(59 * time.Minute)
	if r := ts.do("GET", "/api/v1/documents", tok, nil); r.Status != 200 {
		t.Errorf("a token at 59 min: %d", r.Status)
	}
	now = now.Add(2 * time.Minute)
	if r := ts.do("GET", "/api/v1/documents", tok, nil); r.Status != 401 {
		t.Errorf("an expired token: %d %s", r.Status, r.Body)
	} else if d := r.detail(t); !strings.Contains(d, "expired") {
		t.Errorf("detail %q", d)
	}
}

// TestIsolation: a user never sees, reads, deletes or asks about another
// user's documents: they are 404 to him, never 403.
func TestIsolation(t *testing.T) {
	ts := newServer(t, serve.Options{Model: traintest.DigitModel{Max: 128}})
	alice, bob := ts.user("alice"), ts.user("bob")
	_, doc := ts.upload(alice, "secret.txt", []byte("The vault code is 1234."))
	var list struct{ Documents []map[string]any }
	ts.do("GET", "/api/v1/documents", bob, nil).json(t, &list)
	if len(list.Documents) != 0 {
		t.Errorf("bob lists %v", list.Documents)
	}
	for _, r := range []*response{
		ts.do("GET", "/api/v1/documents/"+doc.DocID, bob, nil),
		ts.do("DELETE", "/api/v1/documents/"+doc.DocID, bob, nil),
		ts.do("POST", "/api/v1/qa/ask", bob, map[string]any{"question": "What is the code?", "doc_id": doc.DocID}),
	} {
		if r.Status != 404 {
			t.Errorf("bob on alice's document: %d %s", r.Status, r.Body)
		}
	}
	if r := ts.do("GET", "/api/v1/documents/"+doc.DocID, alice, nil); r.Status != 200 {
		t.Errorf("alice's own document: %d", r.Status)
	}
	if r := ts.do("DELETE", "/api/v1/documents/"+doc.DocID, alice, nil); r.Status != 204 {
		t.Errorf("alice deletes her document: %d %s", r.Status, r.Body)
	}
	if r := ts.do("GET", "/api/v1/documents/"+doc.DocID, alice, nil); r.Status != 404 {
		t.Errorf("a deleted document: %d", r.Status)
	}
}

// TestRestart: users and documents survive a restart on the same store,
// and tokens signed with the same secret stay valid.
func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "olc.db")
	ts := start(t, path, serve.Options{})
	tok := ts.user("alice")
	_, doc := ts.upload(tok, "notes.md", []byte("# Notes\n\nThe answer is 42.\n"))
	ts.stop()
	ts2 := start(t, path, serve.Options{})
	var d map[string]any
	r := ts2.do("GET", "/api/v1/documents/"+doc.DocID, tok, nil)
	r.json(t, &d)
	if r.Status != 200 || d["filename"] != "notes.md" || d["kind"] != "markdown" {
		t.Errorf("after a restart: %d %s", r.Status, r.Body)
	}
	ts2.login("alice", "password-of-alice")
	if r := ts2.do("POST", "/api/v1/auth/register", "", map[string]string{"username": "alice", "email": "x@example.org", "password": "12345678"}); r.Status != 409 {
		t.Errorf("alice registered again after a restart: %d", r.Status)
	}
}

// TestRegisterNeverShowsThePassword: the user answered has no password
// and no hash, and the store keeps an argon2id hash, not the password.
func TestRegisterNeverShowsThePassword(t *testing.T) {
	ts := newServer(t, serve.Options{})
	r := ts.do("POST", "/api/v1/auth/register", "", map[string]string{"username": "alice", "email": "a@example.org", "password": "hunter2hunter2", "full_name": "Alice"})
	if r.Status != 201 || strings.Contains(string(r.Body), "hunter2") || strings.Contains(string(r.Body), "argon2") {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	var hash string
	if err := ts.store.DB().QueryRow(`SELECT password_hash FROM serve_users WHERE username = 'alice'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$") || strings.Contains(hash, "hunter2") {
		t.Errorf("stored hash %q", hash)
	}
}

// TestCORS: no CORS headers without an allowed origin; a preflight from
// an allowed one is answered.
func TestCORS(t *testing.T) {
	off := newServer(t, serve.Options{})
	if r := off.do("GET", "/healthz", "", nil, "Origin", "https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS on by default: %v", r.Header)
	}
	on := newServer(t, serve.Options{CORSOrigins: []string{"https://lab.example.org"}})
	r := on.do("OPTIONS", "/api/v1/qa/ask", "", nil, "Origin", "https://lab.example.org", "Access-Control-Request-Method", "POST")
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://lab.example.org" || !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", r.Status, r.Header)
	}
	if r := on.do("GET", "/healthz", "", nil, "Origin", "https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin allowed: %v", r.Header)
	}
}

// TestHealthAndReadiness: /healthz answers; /readyz says whether a model
// is loaded, and 503 when the store cannot be read.
func TestHealthAndReadiness(t *testing.T) {
	ts := newServer(t, serve.Options{Model: traintest.DigitModel{Max: 100}, ModelPath: "m"})
	if r := ts.do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Errorf("healthz %d", r.Status)
	}
	var ready struct {
		Status, Store string
		Model         struct {
			Loaded    bool
			MaxTokens int `json:"max_tokens"`
		}
	}
	ts.do("GET", "/readyz", "", nil).json(t, &ready)
	if ready.Status != "ready" || !ready.Model.Loaded || ready.Model.MaxTokens != 100 {
		t.Errorf("readyz %+v", ready)
	}
	ts.store.Close() // the store goes away under the server
	r := ts.do("GET", "/readyz", "", nil)
	if r.Status != 503 || !strings.Contains(string(r.Body), "unavailable") {
		t.Errorf("readyz without a store: %d %s", r.Status, r.Body)
	}
}

// TestClientGoneStopsWork: a question whose client goes away stops
// reading windows.
func TestClientGoneStopsWork(t *testing.T) {
	m := &slowModel{DigitModel: traintest.DigitModel{Max: 128}, delay: 20 * time.Millisecond}
	ts := newServer(t, serve.Options{Model: m, Workers: 1})
	tok := ts.user("alice")
	_, doc := ts.upload(tok, "long.txt", []byte(strings.Repeat("Nothing to see here. ", 1000))) // ~330 windows, ~7 s
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/api/v1/qa/ask", strings.NewReader(`{"question":"Which code?","doc_id":"`+doc.DocID+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	go func() {
		for m.windows.Load() < 3 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the request was not cancelled")
	}
	deadline := time.Now().Add(3 * time.Second)
	for ts.srv.InFlight() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := ts.srv.InFlight(); n != 0 {
		t.Fatalf("%d questions still running after the client left", n)
	}
	if w := m.windows.Load(); w > 100 {
		t.Errorf("%d windows read after the client left after 3", w)
	}
}

// TestQueueFull: with one worker and no queue, a second question while
// the first runs gets 429 with Retry-After.
func TestQueueFull(t *testing.T) {
	m := &slowModel{DigitModel: traintest.DigitModel{Max: 128}, delay: 30 * time.Millisecond}
	ts := newServer(t, serve.Options{Model: m, Workers: 1, Queue: -1})
	tok := ts.user("alice")
	_, doc := ts.upload(tok, "long.txt", []byte(strings.Repeat("Nothing to see here. ", 100)+"Code 77."))
	done := make(chan *response)
	go func() {
		done <- ts.do("POST", "/api/v1/qa/ask", tok, map[string]any{"question": "Which code?", "doc_id": doc.DocID})
	}()
	for m.windows.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	r := ts.do("POST", "/api/v1/qa/ask", tok, map[string]any{"question": "Which code?", "doc_id": doc.DocID})
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("a question beyond the queue: %d %s", r.Status, r.Body)
	}
	if first := <-done; first.Status != 200 || !strings.Contains(string(first.Body), `"answer":"77"`) {
		t.Errorf("the first question: %d %s", first.Status, first.Body)
	}
}
