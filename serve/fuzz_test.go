package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/serve"
	"github.com/olc-toolkit/olc/train/traintest"
)

// FuzzJSONHandlers: whatever body reaches register, login or ask, the
// server answers a 2xx or one of the documented client errors, never a
// 500, and an error's body is {"detail": "..."}.
func FuzzJSONHandlers(f *testing.F) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(f.TempDir(), "olc.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	users, err := serve.NewSQLite(ctx, st)
	if err != nil {
		f.Fatal(err)
	}
	srv, err := serve.New(serve.Options{Users: users, Record: st, Secret: []byte(secret), Argon2: cheap, Model: traintest.DigitModel{Max: 128}, LoginPerMinute: -1, AddressPerMinute: -1})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	send := func(path, token, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	send("/api/v1/auth/register", "", `{"username":"fuzz","email":"fuzz@example.org","password":"fuzzfuzz"}`)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(send("/api/v1/auth/login", "", `{"username":"fuzz","password":"fuzzfuzz"}`).Body.Bytes(), &tok)
	if tok.AccessToken == "" {
		f.Fatal("no token")
	}
	for _, s := range []string{
		`{"username":"ada","email":"ada@example.org","password":"12345678","full_name":"Ada"}`,
		`{"username":"fuzz","password":"fuzzfuzz"}`,
		`{"question":"What?","doc_id":"0123456789abcdef0123456789abcdef","context_length":512}`,
		`{"context_length":1e400}`, `{"username":null}`, `[]`, `"x"`, `{"a":1}{"b":2}`, `{"password":"\ud800"}`,
		`{"username":"` + strings.Repeat("a", 100) + `"}`, `{"context_length":-1}`, `{"question":{}}`,
	} {
		for p := 0; p < 3; p++ {
			f.Add(uint8(p), s)
		}
	}
	paths := []string{"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/qa/ask"}
	allowed := map[int]bool{200: true, 201: true, 400: true, 401: true, 404: true, 409: true, 413: true, 415: true, 422: true}
	f.Fuzz(func(t *testing.T, p uint8, body string) {
		path := paths[int(p)%len(paths)]
		w := send(path, tok.AccessToken, body)
		if !allowed[w.Code] {
			t.Fatalf("%s %q: status %d %s", path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e["detail"] == "" || len(e) != 1 {
				t.Fatalf("%s %q: error body %q", path, body, w.Body)
			}
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Fatal("no security headers")
		}
		if strings.Contains(w.Body.String(), "argon2") {
			t.Fatalf("a hash in an answer: %s", w.Body)
		}
	})
}

// TestConcurrentClients: 16 clients × 50 requests each, uploads, lists,
// reads and questions mixed, on a real listener: no errors, no lost
// upload, nothing left running.
func TestConcurrentClients(t *testing.T) {
	const clients, requests = 16, 50
	ts := newServer(t, serve.Options{Model: traintest.DigitModel{Max: 128}, Workers: 2})
	tokens := make([]string, clients)
	for i := range tokens {
		tokens[i] = ts.user("user" + itoa(i))
	}
	type result struct {
		ids  []string
		errs []string
	}
	results := make(chan result, clients)
	for c := 0; c < clients; c++ {
		go func(c int) {
			var res result
			fail := func(format string, args ...any) {
				res.errs = append(res.errs, strings.TrimSpace(sprintf(format, args...)))
			}
			client := &http.Client{}
			for i := 0; i < requests; i++ {
				switch i % 3 {
				case 0:
					code := 10000 + 100*c + i
					body, ct := multipartBody(t, "file", "doc.txt", []byte(strings.Repeat("Filler words here. ", 20)+"The code is "+itoa(code)+". "+strings.Repeat("More filler. ", 10)))
					var up uploaded
					if status := post(client, ts.URL+"/api/v1/documents/upload", tokens[c], ct, body, &up); status != 201 {
						fail("client %d upload: %d", c, status)
						continue
					}
					res.ids = append(res.ids, up.DocID)
				case 1:
					var list struct {
						Documents []struct {
							DocID string `json:"doc_id"`
						} `json:"documents"`
					}
					if status := get(client, ts.URL+"/api/v1/documents", tokens[c], &list); status != 200 || len(list.Documents) != len(res.ids) {
						fail("client %d list: %d, %d documents, want %d", c, status, len(list.Documents), len(res.ids))
					}
				case 2:
					if len(res.ids) == 0 {
						continue
					}
					var a struct{ Answer string }
					q := `{"question":"What is the code?","doc_id":"` + res.ids[len(res.ids)-1] + `"}`
					want := itoa(10000 + 100*c + i - 2)
					if status := post(client, ts.URL+"/api/v1/qa/ask", tokens[c], "application/json", strings.NewReader(q), &a); status != 200 || a.Answer != want {
						fail("client %d ask: %d, answer %q, want %q", c, status, a.Answer, want)
					}
				}
			}
			results <- res
		}(c)
	}
	total := 0
	for c := 0; c < clients; c++ {
		res := <-results
		for _, e := range res.errs {
			t.Error(e)
		}
		total += len(res.ids)
	}
	var n int
	if err := ts.store.DB().QueryRow(`SELECT COUNT(*) FROM serve_documents`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != total || total != clients*((requests+2)/3) {
		t.Errorf("%d documents stored, %d uploads answered 201, want %d", n, total, clients*((requests+2)/3))
	}
	if k := ts.srv.InFlight(); k != 0 {
		t.Errorf("%d questions still running", k)
	}
}
