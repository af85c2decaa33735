package serve

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/report"
)

type studyJSON struct {
	Name      string            `json:"name"`
	Direction string            `json:"direction"`
	Metric    string            `json:"metric"`
	Sampler   string            `json:"sampler"`
	Seed      uint64            `json:"seed"`
	CreatedAt string            `json:"created_at"`
	Trials    int               `json:"trials"`
	Complete  int               `json:"complete"`
	Failed    int               `json:"failed"`
	Running   int               `json:"running"`
	Pruned    int               `json:"pruned"`
	Best      *report.TrialJSON `json:"best_trial,omitempty"`
	Config    *string           `json:"config,omitempty"`
}

// trialJSON is a trial as the API shows it: the export format of olc
// optimize export, without the server's log paths.
func trialJSON(t *experiments.Trial) report.TrialJSON {
	j := report.Trial(t)
	j.LogPath = ""
	return j
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func summarize(st *experiments.Study, trials []experiments.Trial) studyJSON {
	j := studyJSON{Name: st.Name, Direction: string(st.Direction), Metric: st.Metric, Sampler: st.Sampler, Seed: st.Seed,
		CreatedAt: rfc3339(st.Created), Trials: len(trials)}
	c := experiments.CountStates(trials)
	j.Complete, j.Failed, j.Running, j.Pruned = c.Complete, c.Failed, c.Running, c.Pruned
	return j
}

func (s *Server) listStudies(w http.ResponseWriter, r *http.Request, _ *User) error {
	studies, err := s.o.Record.Studies(r.Context())
	if err != nil {
		return err
	}
	out := make([]studyJSON, 0, len(studies))
	for i := range studies {
		trials, err := s.o.Record.Trials(r.Context(), studies[i].ID, 0)
		if err != nil {
			return err
		}
		out = append(out, summarize(&studies[i], trials))
	}
	writeJSON(w, http.StatusOK, map[string]any{"studies": out})
	return nil
}

func (s *Server) study(r *http.Request) (*experiments.Study, []experiments.Trial, error) {
	name := r.PathValue("name")
	st, err := s.o.Record.Study(r.Context(), name)
	if errors.Is(err, experiments.ErrNotFound) {
		return nil, nil, errorf(http.StatusNotFound, "no study %q (GET /api/v1/studies lists them)", name)
	}
	if err != nil {
		return nil, nil, err
	}
	trials, err := s.o.Record.Trials(r.Context(), st.ID, 0)
	return st, trials, err
}

func (s *Server) getStudy(w http.ResponseWriter, r *http.Request, _ *User) error {
	st, trials, err := s.study(r)
	if err != nil {
		return err
	}
	j := summarize(st, trials)
	if b := experiments.Best(trials, st.Direction); b != nil {
		tj := trialJSON(b)
		j.Best = &tj
	}
	j.Config = &st.Config
	writeJSON(w, http.StatusOK, j)
	return nil
}

// MaxPageSize bounds ?limit= on paginated lists.
const MaxPageSize = 1000

func pageParams(r *http.Request) (offset, limit int, err error) {
	q := r.URL.Query()
	offset, limit = 0, 100
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, errorf(http.StatusUnprocessableEntity, "query parameter \"offset\" must be a non-negative integer, not %q", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > MaxPageSize {
			return 0, 0, errorf(http.StatusUnprocessableEntity, "query parameter \"limit\" must be an integer from 1 to %d, not %q", MaxPageSize, v)
		}
	}
	return offset, limit, nil
}

func (s *Server) listTrials(w http.ResponseWriter, r *http.Request, _ *User) error {
	offset, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	_, trials, err := s.study(r)
	if err != nil {
		return err
	}
	page := []report.TrialJSON{}
	for i := offset; i < len(trials) && i < offset+limit; i++ {
		page = append(page, trialJSON(&trials[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"trials": page, "total": len(trials), "offset": offset, "limit": limit})
	return nil
}
