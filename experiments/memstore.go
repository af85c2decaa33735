package experiments

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/olc-toolkit/olc/optimize"
)

// MemoryStore is a Store in memory, for tests and for library users who
// need no record on disk. The zero value is not usable; call
// NewMemoryStore.
type MemoryStore struct {
	mu      sync.Mutex
	studies []*Study
	trials  map[int64][]*Trial // by study ID, in number order
	nextID  int64
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{trials: map[int64][]*Trial{}}
}

func (m *MemoryStore) study(name string) *Study {
	for _, s := range m.studies {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// CreateStudy implements Store.
func (m *MemoryStore) CreateStudy(ctx context.Context, s *Study) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.study(s.Name) != nil {
		return fmt.Errorf("create study %q: %w", s.Name, ErrStudyExists)
	}
	m.nextID++
	s.ID = m.nextID
	c := *s
	m.studies = append(m.studies, &c)
	return nil
}

// Study implements Store.
func (m *MemoryStore) Study(ctx context.Context, name string) (*Study, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.study(name)
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
	out := make([]Study, len(m.studies))
	for i, s := range m.studies {
		out[i] = *s
	}
	slices.SortFunc(out, func(a, b Study) int { return compareStrings(a.Name, b.Name) })
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// RenameStudy implements Store.
func (m *MemoryStore) RenameStudy(ctx context.Context, name, newName string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.study(name)
	if s == nil {
		return fmt.Errorf("rename study %q: %w", name, ErrNotFound)
	}
	if m.study(newName) != nil {
		return fmt.Errorf("rename study %q to %q: %w", name, newName, ErrStudyExists)
	}
	s.Name = newName
	return nil
}

// CreateTrial implements Store.
func (m *MemoryStore) CreateTrial(ctx context.Context, t *Trial) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.trials[t.StudyID]
	if t.Claim != "" {
		for _, o := range list {
			if o.Claim == t.Claim {
				return fmt.Errorf("create trial: claim %q: %w", t.Claim, ErrClaimed)
			}
		}
	}
	if !m.hasStudyID(t.StudyID) {
		return fmt.Errorf("create trial: study %d: %w", t.StudyID, ErrNotFound)
	}
	m.nextID++
	t.ID = m.nextID
	t.Number = len(list)
	c := cloneTrial(t)
	m.trials[t.StudyID] = append(list, c)
	return nil
}

func (m *MemoryStore) hasStudyID(id int64) bool {
	for _, s := range m.studies {
		if s.ID == id {
			return true
		}
	}
	return false
}

func (m *MemoryStore) trialByID(id int64) *Trial {
	for _, list := range m.trials {
		for _, t := range list {
			if t.ID == id {
				return t
			}
		}
	}
	return nil
}

// Heartbeat implements Store.
func (m *MemoryStore) Heartbeat(ctx context.Context, at time.Time, ids ...int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		if t := m.trialByID(id); t != nil && t.State == optimize.Running {
			t.Heartbeat = at
		}
	}
	return nil
}

// FinishTrial implements Store.
func (m *MemoryStore) FinishTrial(ctx context.Context, t *Trial) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.trialByID(t.ID)
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
	s := m.trialByID(id)
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
	if from < 0 {
		from = 0
	}
	var out []Trial
	for _, t := range list[min(from, len(list)):] {
		out = append(out, *cloneTrial(t))
	}
	return out, nil
}

// Close implements Store.
func (m *MemoryStore) Close() error { return nil }

func cloneTrial(t *Trial) *Trial {
	c := *t
	c.Params = t.Params.Clone()
	c.Metrics = maps.Clone(t.Metrics)
	c.Intermediate = make([]Intermediate, len(t.Intermediate))
	for i, iv := range t.Intermediate {
		c.Intermediate[i] = Intermediate{Step: iv.Step, Metrics: maps.Clone(iv.Metrics)}
	}
	if len(t.Intermediate) == 0 {
		c.Intermediate = nil
	}
	return &c
}
