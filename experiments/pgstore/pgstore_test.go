package pgstore_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/pgstore"
	"github.com/olc-toolkit/olc/experiments/pgstore/pgtest"
	"github.com/olc-toolkit/olc/experiments/storetest"
	"github.com/olc-toolkit/olc/optimize"
)

func open(t *testing.T, url string, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	urls := map[experiments.Store]string{}
	var mu sync.Mutex
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) experiments.Store {
			u := pgtest.URL(t)
			s := open(t, u, pgstore.Options{})
			mu.Lock()
			urls[s] = u
			mu.Unlock()
			return s
		},
		Reopen: func(t *testing.T, s experiments.Store) experiments.Store {
			mu.Lock()
			defer mu.Unlock()
			return open(t, urls[s], pgstore.Options{})
		},
	})
}

// Many processes starting at once on a new database migrate it once.
func TestConcurrentMigration(t *testing.T) {
	u := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := pgstore.Open(context.Background(), u, pgstore.Options{})
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Open: %v", err)
	}
	s := open(t, u, pgstore.Options{})
	var rows, version int
	if err := s.Pool().QueryRow(context.Background(), `SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version != 2 {
		t.Errorf("schema_version holds %d rows, version %d; want one row, version 2", rows, version)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	if _, err := pgstore.Open(ctx, u, pgstore.Options{ReadOnly: true}); err == nil {
		t.Error("a read-only open of an empty database succeeded")
	}
	s := open(t, u, pgstore.Options{})
	st := &experiments.Study{Name: "s", Direction: optimize.Minimize, Metric: "loss", Sampler: "random", Created: time.Now()}
	if err := s.CreateStudy(ctx, st); err != nil {
		t.Fatal(err)
	}
	ro := open(t, u, pgstore.Options{ReadOnly: true})
	if got, err := ro.Study(ctx, "s"); err != nil || got.ID != st.ID {
		t.Fatalf("read-only Study = %v, %v", got, err)
	}
	if err := ro.CreateStudy(ctx, &experiments.Study{Name: "t", Created: time.Now()}); err == nil {
		t.Error("a read-only store created a study")
	}
}

// The store's clock is the server's: on one machine it agrees with
// time.Now to within the round trip.
func TestClock(t *testing.T) {
	s := open(t, pgtest.URL(t), pgstore.Options{})
	before := time.Now()
	got, err := s.Now(context.Background())
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if got.Before(before.Add(-time.Millisecond)) || got.After(after.Add(time.Millisecond)) {
		t.Errorf("Now = %v, not within [%v, %v]", got, before, after)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://olc:s3cret@db:5432/olc":             "postgres://olc:xxxxx@db:5432/olc",
		"postgres://olc@db/olc?password=s3cret&x=1":     "postgres://olc@db/olc?password=xxxxx&x=1",
		"postgresql://db/olc?sslmode=require":           "postgresql://db/olc?sslmode=require",
		"postgres://olc:p%40ss@db/olc?search_path=exp1": "postgres://olc:xxxxx@db/olc?search_path=exp1",
	} {
		if got := pgstore.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// A server that stops and starts again mid-study: the store's calls made
// while it is down wait for it and succeed, and a trial finished across
// the outage is recorded once.
func TestServerRestart(t *testing.T) {
	pgtest.CanCtl(t)
	ctx := context.Background()
	u := pgtest.URL(t)
	var retries int
	var mu sync.Mutex
	s := open(t, u, pgstore.Options{RetryFor: time.Minute, OnRetry: func(string, int, error, time.Duration) {
		mu.Lock()
		retries++
		mu.Unlock()
	}})
	st := &experiments.Study{Name: "restart", Direction: optimize.Minimize, Metric: "loss", Sampler: "random", Created: time.Now()}
	if err := s.CreateStudy(ctx, st); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	tr := &experiments.Trial{StudyID: st.ID, State: optimize.Running, Attempt: 1, RetryOf: -1, Params: optimize.Params{"x": 1}, Started: now, Heartbeat: now, Owner: "h:1", Value: math.NaN()}
	if err := s.CreateTrial(ctx, tr); err != nil {
		t.Fatal(err)
	}
	pgtest.Ctl(t, "stop")
	restarted := make(chan struct{})
	go func() {
		time.Sleep(2 * time.Second)
		pgtest.Ctl(t, "start")
		close(restarted)
	}()
	tr.State, tr.Finished, tr.Metrics, tr.Value = optimize.Complete, time.Now().UTC(), map[string]float64{"loss": 0.5}, 0.5
	err := s.FinishTrial(ctx, tr)
	<-restarted
	if err != nil {
		t.Fatalf("FinishTrial across a restart: %v", err)
	}
	tr2 := &experiments.Trial{StudyID: st.ID, State: optimize.Running, Attempt: 1, RetryOf: -1, Params: optimize.Params{"x": 2}, Started: now, Heartbeat: now, Owner: "h:1", Value: math.NaN()}
	if err := s.CreateTrial(ctx, tr2); err != nil {
		t.Fatal(err)
	}
	got, err := s.Trials(ctx, st.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].State != optimize.Complete || got[0].Value != 0.5 || got[1].Number != 1 {
		t.Errorf("after the restart the study holds %+v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if retries == 0 {
		t.Error("no retry was reported while the server was down")
	}
}

// An unreachable server is an error once RetryFor has passed, naming the
// store without its password.
func TestUnreachable(t *testing.T) {
	ctx := context.Background()
	_, err := pgstore.Open(ctx, "postgres://olc:s3cret@127.0.0.1:1/olc?connect_timeout=1", pgstore.Options{RetryFor: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "xxxxx") || strings.Contains(msg, "s3cret") {
		t.Errorf("error = %q; want the URL with its password hidden", msg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v", err)
	}
}

// proxy forwards connections to a PostgreSQL server; when armed, it
// throws away the server's next answer and closes the connection, as a
// network that fails just after the server committed would.
type proxy struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	drops  atomic.Int32
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 && p.armed.CompareAndSwap(true, false) {
						p.drops.Add(1)
						c.Close()
						s.Close()
						return
					}
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							s.Close()
							return
						}
					}
					if err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	return p
}

// A commit whose answer is lost: the store retries on a new connection
// and recognizes its own earlier write, so a trial is created once and a
// finished trial's result is recorded once, and neither call fails.
func TestLostAnswerAfterCommit(t *testing.T) {
	ctx := context.Background()
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("pool_max_conns", "1")
	u.RawQuery = q.Encode()
	s := open(t, u.String(), pgstore.Options{RetryFor: 30 * time.Second})
	st := &experiments.Study{Name: "lost", Direction: optimize.Minimize, Metric: "loss", Sampler: "random", Created: time.Now()}
	if err := s.CreateStudy(ctx, st); err != nil {
		t.Fatal(err)
	}
	trial := func(x float64) *experiments.Trial {
		now := time.Now().UTC()
		return &experiments.Trial{StudyID: st.ID, State: optimize.Running, Attempt: 1, RetryOf: -1, Params: optimize.Params{"x": x}, Started: now, Heartbeat: now, Owner: "h:1", Value: math.NaN()}
	}
	finish := func(tr *experiments.Trial) error {
		tr.State, tr.Finished, tr.Metrics, tr.Value = optimize.Complete, time.Now().UTC(), map[string]float64{"loss": tr.Params["x"].(float64)}, tr.Params["x"].(float64)
		return s.FinishTrial(ctx, tr)
	}
	// Once through, so that the statements are prepared on the connection
	// and the armed answer is the execution's.
	first := trial(1)
	if err := s.CreateTrial(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := finish(first); err != nil {
		t.Fatal(err)
	}
	second := trial(2)
	p.armed.Store(true)
	if err := s.CreateTrial(ctx, second); err != nil {
		t.Fatalf("CreateTrial with its answer lost: %v", err)
	}
	p.armed.Store(true)
	if err := finish(second); err != nil {
		t.Fatalf("FinishTrial with its answer lost: %v", err)
	}
	if p.drops.Load() != 2 {
		t.Fatalf("the proxy dropped %d answers, want 2", p.drops.Load())
	}
	got, err := s.Trials(ctx, st.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ID != second.ID || got[1].Number != 1 || got[1].State != optimize.Complete || got[1].Value != 2 {
		t.Errorf("after the lost answers the study holds %+v", got)
	}
}
