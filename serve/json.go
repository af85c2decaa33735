package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// apiError is an error answered as {"detail": msg} with a status.
type apiError struct {
	status int
	msg    string
	// retryAfter, when positive, is sent as Retry-After (seconds).
	retryAfter int
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// writeJSON answers v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // an API, not a page: "<" stays "<"
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"detail":"the answer could not be encoded"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// writeError answers an error: an *apiError with its status and detail,
// anything else as a 500 that says no more (the log has it).
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, msg: "internal error"}
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(ae.retryAfter))
	}
	writeJSON(w, ae.status, map[string]string{"detail": ae.msg})
}

// maxJSONBody bounds a JSON request's body.
const maxJSONBody = 64 << 10

// decodeJSON reads a request's JSON body into v strictly: the content type
// must be JSON (415), the body at most maxJSONBody bytes (413), one object
// with no unknown field and nothing after it (400), each field of its type
// (422 naming the field).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errorf(http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json), not %q", ct)
		}
	} else {
		return errorf(http.StatusUnsupportedMediaType, "the body must be JSON: send Content-Type: application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	return decodeStrict(r.Body, v)
}

// decodeStrict decodes one JSON object from rd into v (a pointer to a
// struct), mapping every failure to the status a client should get.
func decodeStrict(rd io.Reader, v any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return errorf(http.StatusBadRequest, "invalid JSON: data after the object")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, "the body exceeds %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "invalid JSON: the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "invalid JSON: the body ends too soon")
	case errors.As(err, &se):
		return errorf(http.StatusBadRequest, "invalid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		if te.Field == "" {
			return errorf(http.StatusBadRequest, "the body must be a JSON object, not %s", te.Value)
		}
		return errorf(http.StatusUnprocessableEntity, "field %q must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errorf(http.StatusBadRequest, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return errorf(http.StatusBadRequest, "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "float64", "float32":
		return "a number"
	case "bool":
		return "true or false"
	}
	return "a " + k
}
