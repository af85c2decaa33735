package serve

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/olc-toolkit/olc/experiments/sqlitestore"
)

// User is an account of the server. Its password hash never leaves the
// store but to be checked.
type User struct {
	ID       int64     `json:"id"`
	Username string    `json:"username"`
	Email    string    `json:"email"`
	FullName string    `json:"full_name"`
	Created  time.Time `json:"created_at"`
}

// Document is an uploaded document: its metadata and extracted text.
type Document struct {
	ID    string
	Owner int64
	// Filename is the uploaded file's base name, cleaned.
	Filename string
	// Kind is what the content was detected as: text, markdown, html or pdf.
	Kind string
	// Size is the upload's size in bytes.
	Size     int64
	Uploaded time.Time
	Status   string
	// Text is the extracted text (empty in listings); Chars its length in
	// characters (code points).
	Text  string
	Chars int
}

// Errors of a [Store].
var (
	// ErrNotFound: no such user or document (or not the caller's).
	ErrNotFound = errors.New("not found")
)

// TakenError is returned by [Store.CreateUser] when the username or the
// email already belongs to an account.
type TakenError struct{ Field string }

func (e *TakenError) Error() string { return "that " + e.Field + " is already registered" }

// Store holds the server's users and documents.
type Store interface {
	// CreateUser adds a user with a password hash, setting u.ID; a taken
	// username or email (compared without case) is a *TakenError.
	CreateUser(ctx context.Context, u *User, hash string) error
	// UserByName returns a user and its password hash, or ErrNotFound.
	UserByName(ctx context.Context, username string) (*User, string, error)
	// UserByID returns a user, or ErrNotFound.
	UserByID(ctx context.Context, id int64) (*User, error)
	// AddDocument stores a document.
	AddDocument(ctx context.Context, d *Document) error
	// Documents lists an owner's documents, newest first, without their text.
	Documents(ctx context.Context, owner int64) ([]Document, error)
	// Document returns an owner's document with its text, or ErrNotFound
	// (also when it is another user's).
	Document(ctx context.Context, owner int64, id string) (*Document, error)
	// DeleteDocument deletes an owner's document, or returns ErrNotFound.
	DeleteDocument(ctx context.Context, owner int64, id string) error
	// Ping checks that the store can be read.
	Ping(ctx context.Context) error
}

// migrations are the server's tables in the experiment store's file;
// migrations[i] upgrades them from version i to i+1. Usernames and emails
// are unique without regard to case (username_key, email_key hold them
// lower-cased), so that "Alice" cannot pass for "alice".
var migrations = []string{
	`CREATE TABLE serve_users (
		id INTEGER PRIMARY KEY,
		username TEXT NOT NULL,
		username_key TEXT NOT NULL UNIQUE,
		email TEXT NOT NULL,
		email_key TEXT NOT NULL UNIQUE,
		full_name TEXT NOT NULL,
		password_hash TEXT NOT NULL,
		created BIGINT NOT NULL
	);
	CREATE TABLE serve_documents (
		id TEXT PRIMARY KEY,
		owner INTEGER NOT NULL REFERENCES serve_users(id) ON DELETE CASCADE,
		filename TEXT NOT NULL,
		kind TEXT NOT NULL,
		size BIGINT NOT NULL,
		status TEXT NOT NULL,
		chars INTEGER NOT NULL,
		text TEXT NOT NULL,
		uploaded BIGINT NOT NULL
	);
	CREATE INDEX serve_documents_owner ON serve_documents (owner, uploaded)`,
}

// SQLite is the [Store] in an experiment store's SQLite file, beside the
// experiment record, in tables of its own (serve_users, serve_documents)
// with their own migrations.
type SQLite struct {
	st *sqlitestore.Store
}

var _ Store = (*SQLite)(nil)

// NewSQLite creates or upgrades the server's tables in st's file.
func NewSQLite(ctx context.Context, st *sqlitestore.Store) (*SQLite, error) {
	if err := st.Extend(ctx, "serve", migrations); err != nil {
		return nil, err
	}
	return &SQLite{st: st}, nil
}

// CreateUser implements Store.
func (s *SQLite) CreateUser(ctx context.Context, u *User, hash string) error {
	return s.st.Write(ctx, func(tx *sql.Tx) error {
		var byName, byEmail int
		if err := tx.QueryRowContext(ctx,
			`SELECT COUNT(*) FILTER (WHERE username_key = ?), COUNT(*) FILTER (WHERE email_key = ?) FROM serve_users`,
			strings.ToLower(u.Username), strings.ToLower(u.Email)).Scan(&byName, &byEmail); err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		switch {
		case byName > 0:
			return &TakenError{Field: "username"}
		case byEmail > 0:
			return &TakenError{Field: "email"}
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO serve_users (username, username_key, email, email_key, full_name, password_hash, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.Username, strings.ToLower(u.Username), u.Email, strings.ToLower(u.Email), u.FullName, hash, u.Created.UnixNano())
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		u.ID, err = res.LastInsertId()
		return err
	})
}

const userColumns = `id, username, email, full_name, created`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*User, error) {
	var u User
	var created int64
	if err := row.Scan(append([]any{&u.ID, &u.Username, &u.Email, &u.FullName, &created}, extra...)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read user: %w", err)
	}
	u.Created = time.Unix(0, created).UTC()
	return &u, nil
}

// UserByName implements Store.
func (s *SQLite) UserByName(ctx context.Context, username string) (*User, string, error) {
	var hash string
	u, err := scanUser(s.st.DB().QueryRowContext(ctx,
		`SELECT `+userColumns+`, password_hash FROM serve_users WHERE username_key = ?`, strings.ToLower(username)), &hash)
	return u, hash, err
}

// UserByID implements Store.
func (s *SQLite) UserByID(ctx context.Context, id int64) (*User, error) {
	return scanUser(s.st.DB().QueryRowContext(ctx, `SELECT `+userColumns+` FROM serve_users WHERE id = ?`, id))
}

// AddDocument implements Store.
func (s *SQLite) AddDocument(ctx context.Context, d *Document) error {
	return s.st.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO serve_documents (id, owner, filename, kind, size, status, chars, text, uploaded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.Owner, d.Filename, d.Kind, d.Size, d.Status, d.Chars, d.Text, d.Uploaded.UnixNano())
		if err != nil {
			return fmt.Errorf("add document: %w", err)
		}
		return nil
	})
}

// Documents implements Store.
func (s *SQLite) Documents(ctx context.Context, owner int64) ([]Document, error) {
	rows, err := s.st.DB().QueryContext(ctx,
		`SELECT id, filename, kind, size, status, chars, uploaded FROM serve_documents WHERE owner = ? ORDER BY uploaded DESC, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	docs := []Document{}
	for rows.Next() {
		d := Document{Owner: owner}
		var up int64
		if err := rows.Scan(&d.ID, &d.Filename, &d.Kind, &d.Size, &d.Status, &d.Chars, &up); err != nil {
			return nil, fmt.Errorf("list documents: %w", err)
		}
		d.Uploaded = time.Unix(0, up).UTC()
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	return docs, nil
}

// Document implements Store.
func (s *SQLite) Document(ctx context.Context, owner int64, id string) (*Document, error) {
	d := Document{ID: id, Owner: owner}
	var up int64
	err := s.st.DB().QueryRowContext(ctx,
		`SELECT filename, kind, size, status, chars, text, uploaded FROM serve_documents WHERE owner = ? AND id = ?`, owner, id).
		Scan(&d.Filename, &d.Kind, &d.Size, &d.Status, &d.Chars, &d.Text, &up)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read document: %w", err)
	}
	d.Uploaded = time.Unix(0, up).UTC()
	return &d, nil
}

// DeleteDocument implements Store.
func (s *SQLite) DeleteDocument(ctx context.Context, owner int64, id string) error {
	return s.st.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM serve_documents WHERE owner = ? AND id = ?`, owner, id)
		if err != nil {
			return fmt.Errorf("delete document: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete document: %w", err)
		} else if n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// Ping implements Store.
func (s *SQLite) Ping(ctx context.Context) error { return s.st.Ping(ctx) }
