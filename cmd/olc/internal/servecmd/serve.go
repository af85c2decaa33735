// Package servecmd implements 'olc serve', the REST API.
package servecmd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments/pgstore"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/serve"
	"github.com/olc-toolkit/olc/train"
)

// Options are the options of 'olc serve'.
type Options struct {
	IO          *cmdutil.IOStreams
	Addr        string
	Store       string
	Model       string
	Workers     int
	Queue       int
	MaxUpload   int64
	MaxAskChars int
	maxUpload   string
	CORSOrigins []string
	// TrustedProxies are the reverse proxies' addresses (CIDR or IP).
	TrustedProxies []netip.Prefix
	trustedProxies []string
	LogFormat      string
	TokenTTL       time.Duration
	LoginRate      float64
	// Getenv reads OLC_JWT_SECRET (os.Getenv when nil).
	Getenv func(string) string
}

// NewCmdServe returns 'olc serve'. runF, when not nil, replaces the run
// (for tests of flag parsing).
func NewCmdServe(ios *cmdutil.IOStreams, runF func(context.Context, *Options) error) *cobra.Command {
	o := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "serve [--model DIR] [--addr HOST:PORT]",
		Short: "Serve the REST API: accounts, documents, question answering, the experiment record",
		Long: `Serve olc's REST API on --addr (loopback by default): users register and log
in for a bearer token, upload documents (plain text, Markdown, HTML or PDF),
ask questions of them with the question-answering model of --model (a
folder written by 'olc train'), and read the studies of the store.

Users and documents are kept in the store's SQLite file (--store), beside
the experiment record, in tables of their own. Tokens are signed with
OLC_JWT_SECRET (at least 32 bytes) or with a secret generated on first
start and kept, mode 0600, in STORE.jwt-secret. The API is described at
/api/v1/openapi.json. SIGINT or SIGTERM stops the server after the requests
in flight finish.`,
		Example: `  olc serve --model .olc/runs/passkey/model
  curl -s localhost:8000/readyz`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := humanize.ParseBytes(o.maxUpload)
			if err != nil || n == 0 || n > 1<<40 {
				return cmdutil.Usagef("--max-upload %q: give a positive size such as 20MiB, 500KB or 1048576", o.maxUpload)
			}
			o.MaxUpload = int64(n)
			if o.Workers < 0 {
				return cmdutil.Usagef("--workers must be positive, not %d", o.Workers)
			}
			if o.MaxAskChars <= 0 {
				return cmdutil.Usagef("--max-ask-chars must be positive, not %d", o.MaxAskChars)
			}
			if o.Queue < 0 {
				return cmdutil.Usagef("--queue must be 0 or more, not %d", o.Queue)
			}
			if o.TokenTTL < time.Minute {
				return cmdutil.Usagef("--token-ttl must be at least 1m, not %v", o.TokenTTL)
			}
			if o.LoginRate < 0 {
				return cmdutil.Usagef("--login-rate must be 0 (no limit) or more, not %g", o.LoginRate)
			}
			if _, _, err := net.SplitHostPort(o.Addr); err != nil {
				return cmdutil.Usagef("--addr %q: give HOST:PORT, such as 127.0.0.1:8000", o.Addr)
			}
			o.TrustedProxies = nil
			for _, p := range o.trustedProxies {
				pfx, err := netip.ParsePrefix(p)
				if err != nil {
					a, err2 := netip.ParseAddr(p)
					if err2 != nil {
						return cmdutil.Usagef("--trusted-proxy %q: give an address or a CIDR block, such as 10.0.0.5 or 10.0.0.0/8", p)
					}
					pfx = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
				}
				o.TrustedProxies = append(o.TrustedProxies, pfx.Masked())
			}
			for _, c := range o.CORSOrigins {
				if c != "*" && !strings.HasPrefix(c, "http://") && !strings.HasPrefix(c, "https://") {
					return cmdutil.Usagef("--cors-origin %q: give an origin such as https://lab.example.org, or *", c)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return Run(cmd.Context(), o)
		},
	}
	cmd.AddCommand(newCmdPDFText(ios))
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", "127.0.0.1:8000", "the address to listen on (0.0.0.0:8000 for every interface)")
	cmdutil.AddStoreFlag(cmd, &o.Store)
	f.StringVar(&o.Model, "model", "", "a question-answering model folder written by 'olc train' (without one, questions get 503)")
	f.IntVar(&o.Workers, "workers", runtime.NumCPU(), "questions answered at a time")
	f.IntVar(&o.Queue, "queue", 64, "questions that may wait for a worker; beyond them, 429")
	f.StringVar(&o.maxUpload, "max-upload", "20MiB", "largest uploaded file (bytes, or with KB, MB, KiB, MiB, GiB)")
	f.IntVar(&o.MaxAskChars, "max-ask-chars", serve.DefaultMaxAskChars, "longest document questions are answered over, in characters")
	f.StringSliceVar(&o.CORSOrigins, "cors-origin", nil, "an origin allowed to call the API from a browser (repeatable; * for any); CORS is off without it")
	f.StringSliceVar(&o.trustedProxies, "trusted-proxy", nil, "a reverse proxy (address or CIDR; repeatable) whose X-Forwarded-For names the client, for the login limits and the log")
	cmdutil.StringEnumFlag(cmd, &o.LogFormat, "log-format", "text", []string{"text", "json"}, "the access log's format, on stderr")
	f.DurationVar(&o.TokenTTL, "token-ttl", time.Hour, "how long a login's token lives")
	f.Float64Var(&o.LoginRate, "login-rate", 10, "login attempts per minute per username (five times as many per client address); 0: no limit")
	return cmd
}

// Run serves until ctx is done.
func Run(ctx context.Context, o *Options) error {
	var h slog.Handler = slog.NewTextHandler(o.IO.ErrOut, nil)
	if o.LogFormat == "json" {
		h = slog.NewJSONHandler(o.IO.ErrOut, nil)
	}
	log := slog.New(h)
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find olc's own binary (it reads PDFs in a child process): %w", err)
	}
	so := serve.Options{PDF: sandboxedPDF(exe, runtime.NumCPU()), Workers: o.Workers, Queue: o.Queue, MaxUpload: o.MaxUpload, MaxAskChars: o.MaxAskChars, CORSOrigins: o.CORSOrigins, TrustedProxies: o.TrustedProxies,
		Log: log, TokenTTL: o.TokenTTL, LoginPerMinute: o.LoginRate}
	if o.LoginRate == 0 {
		so.LoginPerMinute, so.AddressPerMinute = -1, -1
	}
	if o.Queue == 0 {
		so.Queue = -1
	}
	if o.Model != "" {
		lf, err := train.LoadLongformer(o.Model, model.HeadQA, false)
		if err != nil {
			return &cmdutil.UsageError{Err: fmt.Errorf("--model: %w", err)}
		}
		so.Model, so.ModelPath, so.Tokenizer = lf, o.Model, lf.Tok
	}
	st, err := cmdutil.OpenStore(ctx, o.Store, o.IO.ErrOut)
	if err != nil {
		return err
	}
	defer st.Close()
	// The secret that signs tokens: beside a SQLite store; in the working
	// folder's .olc for a PostgreSQL one (replicas of the server behind a
	// load balancer share OLC_JWT_SECRET instead).
	secretFile := o.Store + ".jwt-secret"
	if pgstore.IsURL(o.Store) {
		secretFile = filepath.Join(cmdutil.WorkDir(o.Store), "serve.jwt-secret")
	}
	secret, err := serve.LoadSecret(getenv("OLC_JWT_SECRET"), secretFile)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	so.Secret = secret
	var users *serve.SQLStore
	switch st := st.(type) {
	case *sqlitestore.Store:
		users, err = serve.NewSQLite(ctx, st)
	case *pgstore.Store:
		users, err = serve.NewPostgres(ctx, st)
	default:
		err = fmt.Errorf("serve: a store of type %T cannot hold users", st)
	}
	if err != nil {
		return err
	}
	so.Users, so.Record = users, st
	srv, err := serve.New(so)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return &cmdutil.UsageError{Err: fmt.Errorf("--addr: %w", err)}
	}
	model := "none (questions get 503; start with --model DIR)"
	if o.Model != "" {
		model = o.Model
	}
	fmt.Fprintf(o.IO.ErrOut, "olc serve: listening on http://%s (store %s, model %s); Ctrl-C stops\n", ln.Addr(), cmdutil.StoreName(o.Store), model)
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(o.IO.ErrOut, "olc serve: stopped")
	return nil
}
