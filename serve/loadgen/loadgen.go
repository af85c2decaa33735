// Package loadgen measures an olc server from the client's side: requests
// per second and latency percentiles of an endpoint at a number of
// concurrent clients, on keep-alive connections.
package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/olc-toolkit/olc/internal/sample"
)

// Request makes one request of a load (a fresh one each time: bodies are
// read once).
type Request func(ctx context.Context) (*http.Request, error)

// JSONPost returns a Request that POSTs body as JSON to url with a token.
func JSONPost(url, token string, body []byte) Request {
	return func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/json")
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return r, nil
	}
}

// Get returns a Request that GETs url with a token.
func Get(url, token string) Request {
	return func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return nil, err
		}
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return r, nil
	}
}

// Result is what a load measured.
type Result struct {
	Name    string  `json:"name"`
	Clients int     `json:"clients"`
	Count   int     `json:"requests"`
	Errors  int     `json:"errors"`
	Seconds float64 `json:"seconds"`
	RPS     float64 `json:"rps"`
	// P50 and P99 are latency percentiles, in milliseconds.
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	// FirstError is the first failure's status or error.
	FirstError string `json:"first_error,omitempty"`
}

// Run sends requests from clients goroutines for about d (each finishes
// the request it is on) after a warm-up of one request each, and returns
// the throughput and latencies of those that succeeded with want. ctx
// stops it early.
func Run(ctx context.Context, name string, clients int, d time.Duration, want int, req Request) (Result, error) {
	if clients < 1 {
		return Result{}, fmt.Errorf("loadgen: %d clients", clients)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	one := func() (time.Duration, string) {
		r, err := req(ctx)
		if err != nil {
			return 0, err.Error()
		}
		t0 := time.Now()
		res, err := c.Do(r)
		if err != nil {
			return 0, err.Error()
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		lat := time.Since(t0)
		if res.StatusCode != want {
			return lat, fmt.Sprintf("status %d", res.StatusCode)
		}
		return lat, ""
	}
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ { // warm-up: connections open, caches full
		wg.Add(1)
		go func() { defer wg.Done(); one() }()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	var mu sync.Mutex
	res := Result{Name: name, Clients: clients}
	var lats []float64
	start := time.Now()
	stop := start.Add(d)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) && ctx.Err() == nil {
				lat, msg := one()
				mu.Lock()
				if msg != "" {
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = msg
					}
				} else {
					res.Count++
					lats = append(lats, float64(lat)/float64(time.Millisecond))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	if len(lats) > 0 {
		slices.Sort(lats)
		res.P50, res.P99 = sample.Quantile(lats, 0.5), sample.Quantile(lats, 0.99)
		res.RPS = float64(res.Count) / res.Seconds
	}
	return res, ctx.Err()
}
