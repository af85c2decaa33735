package loadgen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/serve/loadgen"
)

// TestRun: every request is counted once, as a success or an error by
// its status; the latencies reflect the handler's (2 ms, then 20 ms for
// one request in ten), so p50 is near 2 ms and p99 near 20 ms; at most
// `clients` requests are in flight.
func TestRun(t *testing.T) {
	var served, inFlight, most atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		k := served.Add(1)
		d := 2 * time.Millisecond
		if k%10 == 0 {
			d = 20 * time.Millisecond
		}
		time.Sleep(d)
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer ts.Close()
	res, err := loadgen.Run(context.Background(), "get", 4, 400*time.Millisecond, 200, loadgen.Get(ts.URL, "tok"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Count < 20 || int64(res.Count)+4 != served.Load() { // +4: the warm-up
		t.Errorf("%+v, served %d", res, served.Load())
	}
	if res.P50 < 2 || res.P50 > 15 || res.P99 < 15 || res.P99 < res.P50 {
		t.Errorf("p50 %.1f ms, p99 %.1f ms", res.P50, res.P99)
	}
	if most.Load() > 4 {
		t.Errorf("%d requests in flight with 4 clients", most.Load())
	}
	bad, err := loadgen.Run(context.Background(), "bad", 2, 100*time.Millisecond, 200, loadgen.Get(ts.URL, "wrong"))
	if err != nil || bad.Count != 0 || bad.Errors == 0 || bad.FirstError != "status 401" {
		t.Errorf("%+v, %v", bad, err)
	}
}
