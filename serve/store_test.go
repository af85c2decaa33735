package serve_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments/pgstore/pgtest"
	"github.com/olc-toolkit/olc/serve"
	"github.com/olc-toolkit/olc/train/traintest"
)

// backends are the experiment stores the server keeps its tables in.
var backends = []struct {
	name string
	path func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "olc.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
}

// The Store's contract, on SQLite and on PostgreSQL.
func TestStores(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			rec, s := openStores(t, b.path(t))
			defer rec.Close()
			now := time.Now().UTC().Truncate(time.Microsecond)
			alice := &serve.User{Username: "Alice", Email: "alice@example.org", FullName: "Alice A.", Created: now}
			if err := s.CreateUser(ctx, alice, "hash-a"); err != nil || alice.ID == 0 {
				t.Fatalf("CreateUser: %v (id %d)", err, alice.ID)
			}
			for _, dup := range []serve.User{
				{Username: "alice", Email: "other@example.org"},
				{Username: "carol", Email: "ALICE@example.org"},
			} {
				var taken *serve.TakenError
				if err := s.CreateUser(ctx, &dup, "h"); !errors.As(err, &taken) {
					t.Errorf("CreateUser(%s, %s) = %v, want a *TakenError", dup.Username, dup.Email, err)
				}
			}
			u, hash, err := s.UserByName(ctx, "ALICE")
			if err != nil || u.ID != alice.ID || hash != "hash-a" || !u.Created.Equal(now) || u.FullName != "Alice A." {
				t.Errorf("UserByName = %+v, %q, %v", u, hash, err)
			}
			if _, err := s.UserByID(ctx, alice.ID+100); !errors.Is(err, serve.ErrNotFound) {
				t.Errorf("UserByID of nobody = %v", err)
			}
			bob := &serve.User{Username: "bob", Email: "bob@example.org", Created: now}
			if err := s.CreateUser(ctx, bob, "hash-b"); err != nil {
				t.Fatal(err)
			}
			for i, id := range []string{"d1", "d2"} {
				d := &serve.Document{ID: id, Owner: alice.ID, Filename: id + ".txt", Kind: "text", Size: 5, Status: "processed",
					Text: "héllo", Chars: 5, Uploaded: now.Add(time.Duration(i) * time.Second)}
				if err := s.AddDocument(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			docs, err := s.Documents(ctx, alice.ID)
			if err != nil || len(docs) != 2 || docs[0].ID != "d2" || docs[0].Text != "" {
				t.Errorf("Documents = %+v, %v; want d2, d1 without text", docs, err)
			}
			if d, err := s.Document(ctx, alice.ID, "d1"); err != nil || d.Text != "héllo" {
				t.Errorf("Document = %+v, %v", d, err)
			}
			if _, err := s.Document(ctx, bob.ID, "d1"); !errors.Is(err, serve.ErrNotFound) {
				t.Errorf("bob reads alice's document: %v", err)
			}
			if err := s.DeleteDocument(ctx, bob.ID, "d1"); !errors.Is(err, serve.ErrNotFound) {
				t.Errorf("bob deletes alice's document: %v", err)
			}
			if err := s.DeleteDocument(ctx, alice.ID, "d1"); err != nil {
				t.Errorf("DeleteDocument: %v", err)
			}
			if err := s.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
			// Eight registrations of one name at once: one account.
			var wg sync.WaitGroup
			var mu sync.Mutex
			won, lost := 0, 0
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.CreateUser(ctx, &serve.User{Username: "dave", Email: fmt.Sprintf("dave%d@example.org", i), Created: now}, "h")
					var taken *serve.TakenError
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						won++
					case errors.As(err, &taken):
						lost++
					default:
						t.Errorf("concurrent CreateUser: %v", err)
					}
				}()
			}
			wg.Wait()
			if won != 1 || lost != 7 {
				t.Errorf("concurrent registrations: %d succeeded, %d taken; want 1 and 7", won, lost)
			}
		})
	}
}

// The server on a PostgreSQL store: the API's flow end to end.
func TestServerOnPostgres(t *testing.T) {
	ts := start(t, pgtest.URL(t), serve.Options{Model: traintest.DigitModel{Max: 128}})
	alice, bob := ts.user("alice"), ts.user("bob")
	_, doc := ts.upload(alice, "note.txt", []byte("The vault code is 1234."))
	var list struct{ Documents []map[string]any }
	ts.do("GET", "/api/v1/documents", alice, nil).json(t, &list)
	if len(list.Documents) != 1 || list.Documents[0]["doc_id"] != doc.DocID {
		t.Errorf("alice lists %v", list.Documents)
	}
	if r := ts.do("GET", "/api/v1/documents/"+doc.DocID, bob, nil); r.Status != 404 {
		t.Errorf("bob reads alice's document: %d", r.Status)
	}
	if r := ts.do("POST", "/api/v1/qa/ask", alice, map[string]any{"question": "What is the code?", "doc_id": doc.DocID}); r.Status != 200 {
		t.Errorf("ask: %d %s", r.Status, r.Body)
	}
	if r := ts.do("GET", "/readyz", "", nil); r.Status != 200 {
		t.Errorf("readyz: %d %s", r.Status, r.Body)
	}
}
