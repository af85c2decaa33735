package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/train"
)

// Options configure a [Server].
type Options struct {
	// Users holds users and documents; Record is the experiment record
	// the studies endpoints read. Both are required.
	Users  Store
	Record experiments.Store
	// Secret signs the tokens (at least MinSecretLen bytes); TokenTTL is
	// their lifetime (an hour when 0).
	Secret   []byte
	TokenTTL time.Duration
	// Model answers questions, with Tokenizer; without a model, questions
	// get 503. ModelPath is shown by /readyz. A model that is a
	// train.ThreadSetter is set to one thread per pass: the server spreads
	// questions and their windows over the cores instead.
	Model     train.Model
	Tokenizer model.Tokenizer
	ModelPath string
	// Workers questions are answered at a time (the core count when 0);
	// Queue more may wait (64 when 0; negative: none), beyond which a
	// question gets 429.
	Workers, Queue int
	// MaxUpload bounds an uploaded file, in bytes (20 MiB when 0).
	MaxUpload int64
	// MaxAskChars bounds the documents questions are asked of, in
	// characters (DefaultMaxAskChars when 0): a question reads every
	// window of its document, and holds them all in memory.
	MaxAskChars int
	// LoginPerMinute bounds login attempts per username (10 when 0;
	// negative: no bound). AddressPerMinute bounds logins and
	// registrations per client address (five times LoginPerMinute when 0;
	// negative: no bound).
	LoginPerMinute, AddressPerMinute float64
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for the address limits and the log); none when empty.
	TrustedProxies []netip.Prefix
	// CORSOrigins are the origins allowed to call the API from a browser
	// ("*" for any); none when empty.
	CORSOrigins []string
	// Log receives the access log and errors (discarded when nil).
	Log *slog.Logger
	// Argon2 are the password hash's costs (DefaultArgon2 when zero).
	Argon2 Argon2Params
	// Now is the clock (time.Now when nil), for tests of expiry.
	Now func() time.Time
	// AskTimeout bounds one question's work (WriteTimeout less 5 s when 0).
	AskTimeout time.Duration
	// PDF reads uploaded PDFs ([PDFText] in process when nil). A server
	// open to strangers gives one that runs the reader in a child process
	// with limits of time and memory, as olc serve does: a hostile PDF can
	// make any reader work or allocate without bound.
	PDF PDFReader
}

// The server's timeouts, set on its http.Server.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 2 * time.Minute
	WriteTimeout      = 3 * time.Minute
	IdleTimeout       = 2 * time.Minute
	// ShutdownTimeout is how long a graceful shutdown waits for requests
	// in flight.
	ShutdownTimeout = 30 * time.Second
)

// DefaultMaxAskChars is the longest document a question is answered over
// by default: two million characters, about two minutes of a tiny model
// on two cores and a few hundred MB of windows.
const DefaultMaxAskChars = 2_000_000

// Server is the REST API. Its zero value is not usable: use [New].
type Server struct {
	o       Options
	tokens  *Tokens
	byUser  *limiter
	byIP    *limiter
	pool    *pool
	hashSem chan struct{}
	dummy   string // a hash checked for unknown users, so that they take as long
	routes  []route
	handler http.Handler
	// inflight counts the questions being answered (tests check that none
	// is left running).
	inflight atomic.Int64
}

// route is one documented endpoint.
type route struct {
	Method, Path string
	// Auth: the route needs a bearer token.
	Auth bool
	h    func(w http.ResponseWriter, r *http.Request, u *User) error
}

// New returns a server for o.
func New(o Options) (*Server, error) {
	if o.Users == nil || o.Record == nil {
		return nil, errors.New("serve: Users and Record stores are required")
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	switch {
	case o.Queue == 0:
		o.Queue = 64
	case o.Queue < 0:
		o.Queue = 0
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = 20 << 20
	}
	if o.MaxAskChars <= 0 {
		o.MaxAskChars = DefaultMaxAskChars
	}
	if o.Argon2 == (Argon2Params{}) {
		o.Argon2 = DefaultArgon2
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.AskTimeout <= 0 {
		o.AskTimeout = WriteTimeout - 5*time.Second
	}
	if o.Model != nil && o.Tokenizer == nil {
		o.Tokenizer = model.ByteTokenizer{}
	}
	if ts, ok := o.Model.(train.ThreadSetter); ok {
		// Questions and their windows are spread over the cores; each
		// pass runs on one.
		ts.SetThreads(1)
	}
	tok, err := NewTokens(o.Secret, o.TokenTTL, o.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, tokens: tok, pool: newPool(o.Workers, o.Queue)}
	per := o.LoginPerMinute
	if per == 0 {
		per = 10
	}
	if per > 0 {
		s.byUser = newLimiter(per, int(max(1, per)), o.Now)
	}
	if ip := o.AddressPerMinute; ip >= 0 {
		if ip == 0 {
			ip = 5 * max(per, 10)
		}
		s.byIP = newLimiter(ip, int(max(1, ip)), o.Now)
	}
	// argon2id holds its memory while it runs: at most one hash per core
	// at a time bounds the server's memory under a flood of logins.
	s.hashSem = make(chan struct{}, runtime.NumCPU())
	if s.dummy, err = HashPassword("not a password of anyone", o.Argon2); err != nil {
		return nil, err
	}
	s.routes = []route{
		{"POST", "/api/v1/auth/register", false, s.register},
		{"POST", "/api/v1/auth/login", false, s.login},
		{"POST", "/api/v1/documents/upload", true, s.upload},
		{"GET", "/api/v1/documents", true, s.listDocuments},
		{"GET", "/api/v1/documents/{doc_id}", true, s.getDocument},
		{"DELETE", "/api/v1/documents/{doc_id}", true, s.deleteDocument},
		{"POST", "/api/v1/qa/ask", true, s.ask},
		{"GET", "/api/v1/studies", true, s.listStudies},
		{"GET", "/api/v1/studies/{name}", true, s.getStudy},
		{"GET", "/api/v1/studies/{name}/trials", true, s.listTrials},
		{"GET", "/healthz", false, s.healthz},
		{"GET", "/readyz", false, s.readyz},
		{"GET", "/api/v1/openapi.json", false, s.openapi},
	}
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.Method+" "+rt.Path, s.endpoint(rt))
	}
	s.handler = s.recoverer(s.accessLog(s.headers(notFound(mux))))
	return s, nil
}

// notFound answers what mux has no route for in JSON: 405 with the
// methods allowed when the path exists, 404 otherwise.
func notFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		var allowed []string
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
			r2 := *r
			r2.Method = m
			if _, p := mux.Handler(&r2); p != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) == 0 {
			writeError(w, errorf(http.StatusNotFound, "no such endpoint: %s (the API is described at /api/v1/openapi.json)", r.URL.Path))
			return
		}
		allow := strings.Join(allowed, ", ")
		w.Header().Set("Allow", allow)
		writeError(w, errorf(http.StatusMethodNotAllowed, "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
	})
}

// Routes returns the routes served, as "METHOD /path/{param}".
func (s *Server) Routes() []string {
	out := make([]string, len(s.routes))
	for i, rt := range s.routes {
		out[i] = rt.Method + " " + rt.Path
	}
	return out
}

// InFlight returns the number of questions being answered now.
func (s *Server) InFlight() int { return int(s.inflight.Load()) }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until ctx is done, then shuts down
// gracefully: it stops accepting, lets the requests in flight finish (up
// to ShutdownTimeout) and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.o.Log.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	s.o.Log.Info("shutting down: finishing the requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-done
	if err != nil {
		hs.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

type userKey struct{}

// logInfo is filled in by handlers for the access log.
type logInfo struct{ user int64 }

// endpoint wraps a route's handler: the bearer token when needed, and
// errors as JSON.
func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u *User
		if rt.Auth {
			var err error
			if u, err = s.authenticate(r); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="olc"`)
				writeError(w, err)
				return
			}
			if li, ok := r.Context().Value(userKey{}).(*logInfo); ok {
				li.user = u.ID
			}
		}
		if err := rt.h(w, r, u); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				s.o.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
		}
	})
}

func (s *Server) authenticate(r *http.Request) (*User, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return nil, errorf(http.StatusUnauthorized, "not authenticated: send Authorization: Bearer <token> (from POST /api/v1/auth/login)")
	}
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
		return nil, errorf(http.StatusUnauthorized, "the Authorization header must be: Bearer <token>")
	}
	id, err := s.tokens.Check(strings.TrimSpace(token))
	if err != nil {
		return nil, errorf(http.StatusUnauthorized, "invalid or expired token: log in again")
	}
	u, err := s.o.Users.UserByID(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		return nil, errorf(http.StatusUnauthorized, "invalid or expired token: log in again")
	}
	return u, err
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog logs each request: method, path (without its query), status,
// duration, size, client and user id. Never a header, a body or a query.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		li := &logInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), userKey{}, li)))
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration_ms", float64(time.Since(t0).Microseconds()) / 1000, "bytes", sw.bytes, "remote", s.clientIP(r)}
		if li.user != 0 {
			attrs = append(attrs, "user_id", li.user)
		}
		s.o.Log.Info("request", attrs...)
	})
}

// headers sets the security headers on every response, and CORS's when
// the origin is allowed; it answers CORS preflights.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if origin := r.Header.Get("Origin"); origin != "" && s.corsAllowed(origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) corsAllowed(origin string) bool {
	for _, o := range s.o.CORSOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// recoverer turns a handler's panic into a 500 and a log line, so that one
// bad request cannot take the server down.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				buf := make([]byte, 4<<10)
				buf = buf[:runtime.Stack(buf, false)]
				s.o.Log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(buf))
				writeError(w, errorf(http.StatusInternalServerError, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientIP is the client's address: the peer's, without its port; when the
// peer is one of the trusted proxies, the right-most address of
// X-Forwarded-For that is not a trusted proxy (the one the first trusted
// proxy saw). Headers from any other peer are ignored: they can be forged.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(s.o.TrustedProxies) == 0 || !s.trusted(host) {
		return host
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a forged or broken list: stop at what the proxies vouch for
		}
		if !s.trusted(a.String()) {
			return a.Unmap().String()
		}
	}
	return host
}

func (s *Server) trusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.o.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
