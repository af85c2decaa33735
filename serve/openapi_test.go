package serve_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/serve"
)

// TestOpenAPIMatchesRoutes: every route served is documented and every
// documented route is served: each documented operation, sent to a real
// server, reaches a handler (it is neither 404 "no such endpoint" nor
// 405), and each method the server answers on a documented path is
// documented. The description is OpenAPI 3.1 and every error response
// points at the Error schema.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	ts := newServer(t, serve.Options{})
	r := ts.do("GET", "/api/v1/openapi.json", "", nil)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Security  []map[string][]string `json:"security"`
			Responses map[string]struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	r.json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	tok := ts.user("alice")
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			method = strings.ToUpper(method)
			documented = append(documented, method+" "+path)
			concrete := param.ReplaceAllString(path, "0123456789abcdef0123456789abcdef")
			token := ""
			if len(op.Security) > 0 {
				token = tok
				// Documented as protected: refused without a token.
				if r := ts.do(method, concrete, "", nil); r.Status != 401 {
					t.Errorf("%s %s without a token: %d", method, path, r.Status)
				}
			}
			r := ts.do(method, concrete, token, nil)
			if r.Status == 405 || (r.Status == 404 && strings.Contains(string(r.Body), "no such endpoint")) {
				t.Errorf("documented %s %s is not served: %d %s", method, path, r.Status, r.Body)
			}
			if _, ok := op.Responses[itoa(r.Status)]; !ok && r.Status != 404 {
				t.Errorf("%s %s answered %d, which is not documented", method, path, r.Status)
			}
			for code, resp := range op.Responses {
				if code >= "400" && path != "/readyz" && resp.Content["application/json"].Schema["$ref"] != "#/components/schemas/Error" {
					t.Errorf("%s %s %s: not the Error schema", method, path, code)
				}
			}
			// Every other method on the path is 405 or answered by another
			// documented operation.
			for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
				if _, ok := ops[strings.ToLower(m)]; ok {
					continue
				}
				// (GET /api/v1/documents/upload is the document "upload":
				// none such.)
				if r := ts.do(m, concrete, tok, nil); r.Status != 405 && !(r.Status == 404 && strings.Contains(string(r.Body), "no document")) {
					t.Errorf("undocumented %s %s answered %d, not 405", m, path, r.Status)
				}
			}
		}
	}
	sort.Strings(documented)
	served := ts.srv.Routes()
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Errorf("documented:\n%s\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
	var raw map[string]any
	if err := json.Unmarshal(serve.OpenAPI, &raw); err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
