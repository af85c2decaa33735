package serve_test

import (
	"encoding/base64"
	"testing"
)

func base64URL(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }

func decodeB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
