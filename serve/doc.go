// Package serve is olc's REST API: accounts with bearer tokens, documents
// uploaded for question answering, answers from a model trained by olc
// train, and read-only access to the experiment record (studies and their
// trials). Users and documents live in the experiment store's SQLite file,
// in tables of their own, so that one file holds a lab's record.
//
// Routes are net/http's method patterns; every error is JSON
// {"detail": "..."} with its status. The description of the routes is
// [OpenAPI], served at /api/v1/openapi.json.
package serve
