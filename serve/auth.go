package serve

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"
	"golang.org/x/time/rate"
)

// Argon2Params are argon2id's costs. The defaults are OWASP's first
// recommendation (19 MiB of memory, 2 passes, 1 lane).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 is OWASP's recommended argon2id configuration
// (Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1).
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const saltLen, keyLen = 16, 32

// HashPassword returns the PHC string of password's argon2id hash under a
// fresh random salt: $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC string hash, in
// constant time over the hash bytes. The costs are read from the hash, so
// that stored hashes keep working when the defaults change.
func CheckPassword(password, hash string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errors.New("not an argon2id hash")
	}
	var v int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, fmt.Errorf("argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 || p.Memory > 1<<22 {
		return false, fmt.Errorf("argon2 parameters %q", parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errors.New("argon2 hash: bad base64")
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Tokens issues and checks the bearer tokens: JWTs signed with HS256
// carrying sub (the user's id), iat, exp and jti.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// MinSecretLen is the shortest accepted signing secret, in bytes.
const MinSecretLen = 32

// NewTokens returns a token issuer for a secret of at least MinSecretLen
// bytes; tokens live for ttl; now is the clock (time.Now when nil).
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("the token secret has %d bytes; it needs at least %d", len(secret), MinSecretLen)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("the token lifetime must be positive, not %v", ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{secret: secret, ttl: ttl, now: now}, nil
}

// Issue returns a token for the user id.
func (t *Tokens) Issue(userID int64) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	now := t.now()
	claims := jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(userID, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		ID:        hex.EncodeToString(jti),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
}

// Check verifies a token's signature (HS256 only: "none" and every other
// algorithm are refused), its expiry and issue time, and returns its
// user id.
func (t *Tokens) Check(token string) (int64, error) {
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(t.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second))
	if err != nil {
		return 0, err
	}
	if claims.ID == "" {
		return 0, errors.New("the token has no jti")
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("the token's subject is not a user")
	}
	return id, nil
}

// LoadSecret returns the token secret: OLC_JWT_SECRET's value when env
// holds it (at least MinSecretLen bytes), else the secret kept in file,
// created with 32 random bytes (hex) and mode 0600 when missing. A kept
// file readable by others is refused.
func LoadSecret(env, file string) ([]byte, error) {
	if env != "" {
		if len(env) < MinSecretLen {
			return nil, fmt.Errorf("OLC_JWT_SECRET has %d bytes; it needs at least %d (try: openssl rand -hex 32)", len(env), MinSecretLen)
		}
		return []byte(env), nil
	}
	b, err := os.ReadFile(file)
	if err == nil {
		st, err := os.Stat(file)
		if err != nil {
			return nil, err
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("the token secret %s can be read by others (mode %v); chmod 600 it", file, st.Mode().Perm())
		}
		s := strings.TrimSpace(string(b))
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("the token secret %s has %d bytes; it needs at least %d", file, len(s), MinSecretLen)
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read the token secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(raw)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another server made it first
			return LoadSecret("", file)
		}
		return nil, fmt.Errorf("keep the token secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		os.Remove(file)
		return nil, fmt.Errorf("keep the token secret: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return []byte(s), f.Close()
}

// limiter is a set of token buckets by key (an IP, a username), dropping
// those idle long enough to be full again.
type limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	now     func() time.Time
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perMinute float64, burst int, now func() time.Time) *limiter {
	return &limiter{every: rate.Limit(perMinute / 60), burst: burst, buckets: map[string]*bucket{}, now: now}
}

// allow takes one token from key's bucket; when it is empty, it returns
// false and how long until a token is back.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.sweep) > time.Minute {
		full := time.Duration(float64(l.burst) / float64(l.every) * float64(time.Second))
		for k, b := range l.buckets {
			if now.Sub(b.seen) > full {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
