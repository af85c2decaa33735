package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/train"
)

// pool runs at most `workers` jobs at a time and lets at most `queue`
// more wait; beyond that, a job is refused at once.
type pool struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
	active  atomic.Int64
}

var errBusy = errors.New("busy")

func newPool(workers, queue int) *pool {
	return &pool{slots: make(chan struct{}, workers), queue: int64(queue)}
}

// do runs fn when a worker is free, or returns errBusy when the queue is
// full, or ctx's error when ctx ends first. fn gets the number of jobs
// running with it.
func (p *pool) do(ctx context.Context, fn func(active int) error) error {
	select {
	case p.slots <- struct{}{}:
	default:
		if p.waiting.Add(1) > p.queue {
			p.waiting.Add(-1)
			return errBusy
		}
		select {
		case p.slots <- struct{}{}:
			p.waiting.Add(-1)
		case <-ctx.Done():
			p.waiting.Add(-1)
			return ctx.Err()
		}
	}
	defer func() { <-p.slots }()
	n := p.active.Add(1)
	defer p.active.Add(-1)
	return fn(int(n))
}

// DefaultContextLength is the window of /qa/ask when the request gives
// none, capped by the model's longest input.
const DefaultContextLength = 4096

type askRequest struct {
	Question      string `json:"question"`
	DocID         string `json:"doc_id"`
	ContextLength *int   `json:"context_length"`
}

type askResponse struct {
	Answer         string  `json:"answer"`
	Confidence     float64 `json:"confidence"`
	Context        string  `json:"context"`
	ProcessingTime float64 `json:"processing_time"`
	NoAnswer       bool    `json:"no_answer"`
	Start          int     `json:"start"`
	End            int     `json:"end"`
	Windows        int     `json:"windows"`
	ContextLength  int     `json:"context_length"`
	Note           string  `json:"note,omitempty"`
}

func (s *Server) ask(w http.ResponseWriter, r *http.Request, u *User) error {
	t0 := time.Now()
	var req askRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Question) == "" {
		return errorf(http.StatusUnprocessableEntity, "field \"question\" is required")
	}
	if utf8.RuneCountInString(req.Question) > 1000 {
		return errorf(http.StatusUnprocessableEntity, "field \"question\" must be at most 1000 characters")
	}
	if req.DocID == "" {
		return errorf(http.StatusUnprocessableEntity, "field \"doc_id\" is required (from POST /api/v1/documents/upload)")
	}
	n := DefaultContextLength
	if req.ContextLength != nil {
		n = *req.ContextLength
		if n < 64 {
			return errorf(http.StatusUnprocessableEntity, "field \"context_length\" must be at least 64 tokens, not %d", n)
		}
	}
	d, err := s.document(r, u, req.DocID)
	if err != nil {
		return err
	}
	if d.Chars > s.o.MaxAskChars {
		return errorf(http.StatusUnprocessableEntity, "the document has %d characters; this server answers questions over documents of up to %d (olc serve --max-ask-chars)", d.Chars, s.o.MaxAskChars)
	}
	if s.o.Model == nil {
		return errorf(http.StatusServiceUnavailable, "no model is loaded: start the server with --model DIR (a question-answering model folder written by 'olc train')")
	}
	// A checkpoint with a Hugging Face tokenizer answers as transformers'
	// question-answering pipeline, in its windows unless asked for others.
	_, pipeline := s.o.Tokenizer.(*model.Roberta)
	if pipeline && req.ContextLength == nil {
		n = train.PipelineWindow(s.o.Model, s.o.Tokenizer)
	}
	resp := askResponse{ContextLength: n}
	if m := s.o.Model.MaxTokens(); n > m {
		resp.ContextLength = m
		resp.Note = fmt.Sprintf("context_length %d exceeds the model's longest input; %d tokens were used", n, m)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.o.AskTimeout)
	defer cancel()
	var a *train.QAAnswer
	err = s.pool.do(ctx, func(active int) error {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		// The cores are shared among the questions being answered; one
		// question alone reads its windows on all of them.
		threads := max(1, runtime.GOMAXPROCS(0)/active)
		var err error
		a, err = train.AnswerQuestion(ctx, s.o.Model, s.o.Tokenizer, d.Text, req.Question,
			train.QAOptions{ContextLength: resp.ContextLength, Global: s.global(), Threads: threads, Pipeline: pipeline})
		return err
	})
	switch {
	case errors.Is(err, errBusy):
		return &apiError{status: http.StatusTooManyRequests, msg: "the server is answering as many questions as it can queue: try again shortly", retryAfter: 1}
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		return errorf(http.StatusServiceUnavailable, "the question took longer than %v", s.o.AskTimeout)
	case r.Context().Err() != nil:
		// The client went away: nobody reads the answer.
		return errorf(499, "the client closed the request")
	case err != nil:
		return errorf(http.StatusUnprocessableEntity, "%v", err)
	}
	resp.Answer, resp.Confidence, resp.Context, resp.NoAnswer = a.Answer, a.Confidence, a.Context, a.NoAnswer
	resp.Start, resp.End, resp.Windows = a.Start, a.End, a.Windows
	resp.ProcessingTime = time.Since(t0).Seconds()
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// global reports whether the model reads the question with global
// attention (as the Longformer QA models are trained).
func (s *Server) global() bool {
	if lf, ok := s.o.Model.(*train.Longformer); ok {
		return lf.M.Config.GlobalAttention
	}
	return true
}
