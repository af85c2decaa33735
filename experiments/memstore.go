package experiments

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/olc-toolkit/olc/optimize"
)

// MemoryStore is a Store in memory, for tests and for library users who
// need no record on disk. The zero value is not usable; call
// NewMemoryStore.
type MemoryStore struct {
	mu      sync.Mutex
	studies map[string]*Study
	trials  map[int64][]*Trial        // by study ID, in number order
	claims  map[int64]map[string]bool // by study ID
	byID    map[int64]*Trial
	queue   map[int64][]Queued // by study ID
	nextID  int64
}

var (
	_ Store          = (*MemoryStore)(nil)
	_ SelectiveStore = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{studies: map[string]*Study{}, trials: map[int64][]*Trial{}, claims: map[int64]map[string]bool{}, byID: map[int64]*Trial{}, queue: map[int64][]Queued{}}
}

// CreateStudy implements Store.
func (m *MemoryStore) CreateStudy(ctx context.Context, s *Study) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.studies[s.Name] != nil {
		return fmt.Errorf("create study %q: %w", s.Name, ErrStudyExists)
	}
	m.nextID++
	s.ID = m.nextID
	c := *s
	m.studies[s.Name] = &c
	m.claims[s.ID] = map[string]bool{}
	m.trials[s.ID] = nil
	return nil
}

// Study implements Store.
func (m *MemoryStore) Study(ctx context.Context, name string) (*Study, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.studies[name]
	if s == nil {
		return nil, fmt.Errorf("study %q: %w", name, ErrNotFound)
	}
	c := *s
	return &c, nil
}

// Studies implements Store.
func (m *MemoryStore) Studies(ctx context.Context) ([]Study, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Study, 0, len(m.studies))
	for _, s := range m.studies {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Study) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RenameStudy implements Store.
func (m *MemoryStore) RenameStudy(ctx context.Context, name, newName string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.studies[name]
	if s == nil {
		return fmt.Errorf("rename study %q: %w", name, ErrNotFound)
	}
	if m.studies[newName] != nil {
		return fmt.Errorf("rename study %q to %q: %w", name, newName, ErrStudyExists)
	}
	delete(m.studies, name)
	s.Name = newName
	m.studies[newName] = s
	return nil
}

// DeleteStudy implements Store.
func (m *MemoryStore) DeleteStudy(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.studies[name]
	if s == nil {
		return fmt.Errorf("delete study %q: %w", name, ErrNotFound)
	}
	for _, t := range m.trials[s.ID] {
		delete(m.byID, t.ID)
	}
	delete(m.trials, s.ID)
	delete(m.claims, s.ID)
	delete(m.queue, s.ID)
	delete(m.studies, name)
	return nil
}

// Enqueue implements Store.
func (m *MemoryStore) Enqueue(ctx context.Context, studyID int64, q *Queued) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.claims[studyID]; !ok {
		return false, fmt.Errorf("enqueue: study %d: %w", studyID, ErrNotFound)
	}
	for _, u := range m.queue[studyID] {
		if u.Key == q.Key {
			return false, nil
		}
	}
	m.nextID++
	q.ID, q.Added = m.nextID, time.Now().UTC()
	c := *q
	c.Params = q.Params.Clone()
	m.queue[studyID] = append(m.queue[studyID], c)
	return true, nil
}

// Queue implements Store.
func (m *MemoryStore) Queue(ctx context.Context, studyID int64) ([]Queued, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Queued, 0, len(m.queue[studyID]))
	for _, q := range m.queue[studyID] {
		q.Params = q.Params.Clone()
		out = append(out, q)
	}
	return out, nil
}

// CreateTrial implements Store.
func (m *MemoryStore) CreateTrial(ctx context.Context, t *Trial) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	claims, ok := m.claims[t.StudyID]
	if !ok {
		return fmt.Errorf("create trial: study %d: %w", t.StudyID, ErrNotFound)
	}
	if t.Cap > 0 {
		held := 0
		for _, u := range m.trials[t.StudyID] {
			if u.State == optimize.Complete || u.State == optimize.Pruned || u.State == optimize.Running {
				held++
			}
		}
		if held >= t.Cap {
			return fmt.Errorf("create trial: %d trials complete, pruned or running: %w", held, ErrStudyFull)
		}
	}
	if t.Claim != "" {
		if claims[t.Claim] {
			return fmt.Errorf("create trial: claim %q: %w", t.Claim, ErrClaimed)
		}
		claims[t.Claim] = true
	}
	m.nextID++
	t.ID = m.nextID
	t.Number = len(m.trials[t.StudyID])
	t.State = optimize.Running
	c := cloneTrial(t)
	m.trials[t.StudyID] = append(m.trials[t.StudyID], c)
	m.byID[c.ID] = c
	return nil
}

// Heartbeat implements Store.
func (m *MemoryStore) Heartbeat(ctx context.Context, at time.Time, ids ...int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		if t := m.byID[id]; t != nil && t.State == optimize.Running {
			t.Heartbeat = at
		}
	}
	return nil
}

// FinishTrial implements Store.
func (m *MemoryStore) FinishTrial(ctx context.Context, t *Trial) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.byID[t.ID]
	if s == nil {
		return fmt.Errorf("finish trial %d: %w", t.ID, ErrNotFound)
	}
	if s.State != optimize.Running {
		return fmt.Errorf("finish trial %d: %w", s.Number, ErrNotRunning)
	}
	c := cloneTrial(t)
	s.State, s.Metrics, s.Value, s.Intermediate = c.State, c.Metrics, c.Value, c.Intermediate
	s.Finished, s.Error, s.Reason, s.LogPath = c.Finished, c.Error, c.Reason, c.LogPath
	return nil
}

// ExpireTrial implements Store.
func (m *MemoryStore) ExpireTrial(ctx context.Context, id int64, heartbeat, at time.Time, msg string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.byID[id]
	if s == nil {
		return fmt.Errorf("expire trial %d: %w", id, ErrNotFound)
	}
	if s.State != optimize.Running || !s.Heartbeat.Equal(heartbeat) {
		return fmt.Errorf("expire trial %d: %w", s.Number, ErrNotRunning)
	}
	s.State, s.Reason, s.Error, s.Finished = optimize.Failed, ReasonLost, msg, at
	return nil
}

// Trials implements Store.
func (m *MemoryStore) Trials(ctx context.Context, studyID int64, from int) ([]Trial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.trials[studyID]
	from = min(max(from, 0), len(list))
	out := make([]Trial, 0, len(list)-from)
	for _, t := range list[from:] {
		out = append(out, *cloneTrial(t))
	}
	return out, nil
}

// TrialsSince implements SelectiveStore.
func (m *MemoryStore) TrialsSince(ctx context.Context, studyID int64, from int, also []int) ([]Trial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.trials[studyID]
	var out []Trial
	for _, t := range list {
		if t.Number >= from || slices.Contains(also, t.Number) {
			out = append(out, *cloneTrial(t))
		}
	}
	return out, nil
}

// Close implements Store.
func (m *MemoryStore) Close() error { return nil }

func cloneTrial(t *Trial) *Trial {
	c := *t
	c.Params = t.Params.Clone()
	c.Metrics = maps.Clone(t.Metrics)
	c.Intermediate = nil
	for _, iv := range t.Intermediate {
		c.Intermediate = append(c.Intermediate, Intermediate{Step: iv.Step, Metrics: maps.Clone(iv.Metrics)})
	}
	return &c
}
