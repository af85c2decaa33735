package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/serve"
)

// A server over an experiment store: users and documents go into the
// store's own file (here in memory), beside the studies it serves.
func ExampleNew() {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, ":memory:")
	if err != nil {
		panic(err)
	}
	defer st.Close()
	users, err := serve.NewSQLite(ctx, st)
	if err != nil {
		panic(err)
	}
	srv, err := serve.New(serve.Options{
		Users:  users,
		Record: st,
		Secret: []byte("a secret of at least thirty-two bytes"),
	})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	post := func(path, body string) {
		res, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode >= 400 {
			fmt.Println(res.StatusCode, out["detail"])
		} else {
			fmt.Println(res.StatusCode, out["username"], out["email"])
		}
	}
	post("/api/v1/auth/register", `{"username":"ada","email":"ada@example.org","password":"correct horse"}`)
	post("/api/v1/auth/login", `{"username":"ada","password":"wrong password"}`)
	post("/api/v1/qa/ask", `{"question":"Why?"}`)
	// Output:
	// 201 ada ada@example.org
	// 401 wrong username or password
	// 401 not authenticated: send Authorization: Bearer <token> (from POST /api/v1/auth/login)
}
