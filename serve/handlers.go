package serve

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

var reUsername = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,64}$`)

// Password bounds, in characters (the upper one keeps hashing cheap to
// refuse).
const minPassword, maxPassword = 8, 256

type registerRequest struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
	FullName string `json:"full_name"`
}

func (s *Server) register(w http.ResponseWriter, r *http.Request, _ *User) error {
	// Registering costs a hash too: it shares the address's login budget.
	if ok, wait := s.byIP.allow(s.clientIP(r)); !ok {
		return tooMany(wait, "too many attempts from this address")
	}
	var req registerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if !reUsername.MatchString(req.Username) {
		return errorf(http.StatusUnprocessableEntity, "field \"username\" must be 3 to 64 letters, digits, '_', '.' or '-'")
	}
	addr, err := mail.ParseAddress(req.Email)
	if err != nil || addr.Address != req.Email || !strings.Contains(req.Email[strings.LastIndexByte(req.Email, '@')+1:], ".") || len(req.Email) > 254 {
		return errorf(http.StatusUnprocessableEntity, "field \"email\" must be an email address such as ada@example.org")
	}
	if n := utf8.RuneCountInString(req.Password); n < minPassword || n > maxPassword {
		return errorf(http.StatusUnprocessableEntity, "field \"password\" must have %d to %d characters", minPassword, maxPassword)
	}
	if !utf8.ValidString(req.FullName) || utf8.RuneCountInString(req.FullName) > 200 || strings.ContainsFunc(req.FullName, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errorf(http.StatusUnprocessableEntity, "field \"full_name\" must be at most 200 characters without control characters")
	}
	hash, err := s.hash(r, req.Password)
	if err != nil {
		return err
	}
	u := &User{Username: req.Username, Email: req.Email, FullName: strings.TrimSpace(req.FullName), Created: s.o.Now().UTC()}
	if err := s.o.Users.CreateUser(r.Context(), u, hash); err != nil {
		var te *TakenError
		if errors.As(err, &te) {
			return errorf(http.StatusConflict, "%s", te.Error())
		}
		return err
	}
	s.o.Log.Info("registered", "user_id", u.ID)
	writeJSON(w, http.StatusCreated, u)
	return nil
}

// hash runs argon2id with at most one hash per core at a time.
func (s *Server) hash(r *http.Request, password string) (string, error) {
	select {
	case s.hashSem <- struct{}{}:
	case <-r.Context().Done():
		return "", r.Context().Err()
	}
	defer func() { <-s.hashSem }()
	return HashPassword(password, s.o.Argon2)
}

func (s *Server) check(r *http.Request, password, hash string) (bool, error) {
	select {
	case s.hashSem <- struct{}{}:
	case <-r.Context().Done():
		return false, r.Context().Err()
	}
	defer func() { <-s.hashSem }()
	return CheckPassword(password, hash)
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *User) error {
	if ok, wait := s.byIP.allow(s.clientIP(r)); !ok {
		return tooMany(wait, "too many login attempts from this address")
	}
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Username == "" || req.Password == "" {
		return errorf(http.StatusUnprocessableEntity, "fields \"username\" and \"password\" are required")
	}
	if len(req.Username) > 64 || len(req.Password) > 4*maxPassword {
		return errorf(http.StatusUnauthorized, "wrong username or password")
	}
	if ok, wait := s.byUser.allow(strings.ToLower(req.Username)); !ok {
		return tooMany(wait, "too many login attempts for this user")
	}
	u, hash, err := s.o.Users.UserByName(r.Context(), req.Username)
	if errors.Is(err, ErrNotFound) {
		// The same work as for a known user, so that timing does not tell
		// which usernames exist.
		if _, err := s.check(r, req.Password, s.dummy); err != nil {
			return err
		}
		return errorf(http.StatusUnauthorized, "wrong username or password")
	}
	if err != nil {
		return err
	}
	ok, err := s.check(r, req.Password, hash)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(http.StatusUnauthorized, "wrong username or password")
	}
	tok, err := s.tokens.Issue(u.ID)
	if err != nil {
		return err
	}
	if li, ok := r.Context().Value(userKey{}).(*logInfo); ok {
		li.user = u.ID
	}
	writeJSON(w, http.StatusOK, loginResponse{AccessToken: tok, TokenType: "bearer", ExpiresIn: int(s.o.TokenTTL / time.Second)})
	return nil
}

func tooMany(wait time.Duration, msg string) error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &apiError{status: http.StatusTooManyRequests, msg: fmt.Sprintf("%s: try again in %d s", msg, secs), retryAfter: max(1, secs)}
}

type uploadResponse struct {
	DocID    string `json:"doc_id"`
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	Status   string `json:"status"`
	Kind     string `json:"kind"`
	Chars    int    `json:"text_length"`
}

// multipartSlack is what a multipart body may hold besides the file: the
// boundaries and part headers.
const multipartSlack = 64 << 10

func (s *Server) upload(w http.ResponseWriter, r *http.Request, u *User) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return errorf(http.StatusUnsupportedMediaType, "upload the document as multipart/form-data with the field \"file\" (curl -F file=@doc.txt)")
	}
	if r.ContentLength > s.o.MaxUpload+multipartSlack {
		return s.tooLarge()
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.o.MaxUpload+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return errorf(http.StatusBadRequest, "the multipart body cannot be read: %v", err)
	}
	var name string
	var data []byte
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s.bodyError(err)
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		if data != nil {
			return errorf(http.StatusBadRequest, "send one file per upload")
		}
		name = part.FileName()
		data, err = io.ReadAll(io.LimitReader(part, s.o.MaxUpload+1))
		if err != nil {
			return s.bodyError(err)
		}
		if int64(len(data)) > s.o.MaxUpload {
			return s.tooLarge()
		}
		if data == nil {
			data = []byte{}
		}
	}
	if data == nil {
		return errorf(http.StatusUnprocessableEntity, "field \"file\" is required (curl -F file=@doc.txt)")
	}
	kind, text, err := extract(r.Context(), name, data, s.o.PDF)
	var ue *UnsupportedError
	switch {
	case errors.As(err, &ue):
		return errorf(http.StatusUnsupportedMediaType, "%s", ue.Error())
	case errors.Is(err, ErrNoText):
		return errorf(http.StatusUnprocessableEntity, "%s", err.Error())
	case err != nil:
		return err
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	d := &Document{ID: hex.EncodeToString(id), Owner: u.ID, Filename: CleanFilename(name), Kind: kind,
		Size: int64(len(data)), Uploaded: s.o.Now().UTC(), Status: "processed", Text: text, Chars: utf8.RuneCountInString(text)}
	if err := s.o.Users.AddDocument(r.Context(), d); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, uploadResponse{DocID: d.ID, Filename: d.Filename, Size: d.Size, Status: d.Status, Kind: d.Kind, Chars: d.Chars})
	return nil
}

func (s *Server) tooLarge() error {
	return errorf(http.StatusRequestEntityTooLarge, "the file exceeds the server's upload limit of %d bytes", s.o.MaxUpload)
}

func (s *Server) bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return s.tooLarge()
	}
	return errorf(http.StatusBadRequest, "the multipart body cannot be read: %v", err)
}

type documentJSON struct {
	DocID      string `json:"doc_id"`
	Filename   string `json:"filename"`
	UploadedAt string `json:"uploaded_at"`
	Status     string `json:"status"`
	Kind       string `json:"kind"`
	Size       int64  `json:"size"`
	Chars      int    `json:"text_length"`
}

func docJSON(d *Document) documentJSON {
	return documentJSON{DocID: d.ID, Filename: d.Filename, UploadedAt: d.Uploaded.UTC().Format(time.RFC3339), Status: d.Status,
		Kind: d.Kind, Size: d.Size, Chars: d.Chars}
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request, u *User) error {
	docs, err := s.o.Users.Documents(r.Context(), u.ID)
	if err != nil {
		return err
	}
	out := make([]documentJSON, len(docs))
	for i := range docs {
		out[i] = docJSON(&docs[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": out})
	return nil
}

var reDocID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *Server) document(r *http.Request, u *User, id string) (*Document, error) {
	if !reDocID.MatchString(id) {
		return nil, errorf(http.StatusNotFound, "no document %q", id)
	}
	d, err := s.o.Users.Document(r.Context(), u.ID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errorf(http.StatusNotFound, "no document %q", id)
	}
	return d, err
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request, u *User) error {
	d, err := s.document(r, u, r.PathValue("doc_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, docJSON(d))
	return nil
}

func (s *Server) deleteDocument(w http.ResponseWriter, r *http.Request, u *User) error {
	id := r.PathValue("doc_id")
	if !reDocID.MatchString(id) {
		return errorf(http.StatusNotFound, "no document %q", id)
	}
	if err := s.o.Users.DeleteDocument(r.Context(), u.ID, id); errors.Is(err, ErrNotFound) {
		return errorf(http.StatusNotFound, "no document %q", id)
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *User) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ *User) error {
	type modelJSON struct {
		Loaded    bool   `json:"loaded"`
		Path      string `json:"path,omitempty"`
		MaxTokens int    `json:"max_tokens,omitempty"`
	}
	out := struct {
		Status string    `json:"status"`
		Store  string    `json:"store"`
		Model  modelJSON `json:"model"`
	}{Status: "ready", Store: "ok"}
	if s.o.Model != nil {
		out.Model = modelJSON{Loaded: true, Path: s.o.ModelPath, MaxTokens: s.o.Model.MaxTokens()}
	}
	status := http.StatusOK
	if err := s.o.Users.Ping(r.Context()); err != nil {
		s.o.Log.Error("readiness: the store cannot be read", "err", err)
		out.Status, out.Store, status = "unavailable", "unreachable", http.StatusServiceUnavailable
	}
	writeJSON(w, status, out)
	return nil
}
