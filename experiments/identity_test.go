package experiments_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

func identity(t *testing.T, high float64, values ...any) experiments.Identity {
	t.Helper()
	space, err := optimize.NewSpace(
		optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: high},
		optimize.Param{Name: "c", Kind: optimize.Categorical, Values: values},
	)
	if err != nil {
		t.Fatal(err)
	}
	return experiments.Identity{Direction: optimize.Minimize, Metric: "loss", Sampler: "random", Space: space,
		Objective: map[string]any{"kind": "command", "command": []string{"python3", "train.py"}}}
}

func TestSpaceOfRoundTrip(t *testing.T) {
	id := identity(t, 1, 2.0, int64(2), "2", true)
	space, err := experiments.SpaceOf(&experiments.Study{Name: "s", Identity: id.String()})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := space.Param("c")
	if len(c.Values) != 4 || c.Values[0] != 2.0 || c.Values[1] != int64(2) || c.Values[2] != "2" || c.Values[3] != true {
		t.Errorf("values = %#v: the float 2.0 and the int 2 must stay apart", c.Values)
	}
	if strings.Join(space.Names(), ",") != "x,c" {
		t.Errorf("order = %v", space.Names())
	}
}

func TestDiffIdentities(t *testing.T) {
	a := identity(t, 1, "adam", "sgd")
	b := identity(t, 2, "adam", "lion")
	b.Objective = map[string]any{"kind": "command", "command": []string{"python3", "train2.py"}}
	diff := strings.Join(experiments.DiffIdentities(a.String(), b.String()), "\n")
	for _, want := range []string{`params.x.high: 1 → 2`, `params.c.values: ["adam","sgd"] → ["adam","lion"]`, `objective.command: ["python3","train.py"] → ["python3","train2.py"]`} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	if d := experiments.DiffIdentities(a.String(), a.String()); len(d) != 0 {
		t.Errorf("diff of equal identities: %v", d)
	}
}

func TestOpenStudy(t *testing.T) {
	ctx := context.Background()
	store := experiments.NewMemoryStore()
	s := &experiments.Study{Name: "s", Direction: optimize.Minimize, Identity: identity(t, 1, "a").String()}
	st, created, _, err := experiments.OpenStudy(ctx, store, s, false)
	if err != nil || !created || st.ID == 0 {
		t.Fatalf("first open: %v %v %v", st, created, err)
	}
	again, created, _, err := experiments.OpenStudy(ctx, store, s, false)
	if err != nil || created || again.ID != st.ID {
		t.Fatalf("reopen: %v %v %v", again, created, err)
	}
	changed := *s
	changed.Identity = identity(t, 3, "a").String()
	_, _, _, err = experiments.OpenStudy(ctx, store, &changed, false)
	var ce *experiments.ChangedError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "params.x.high: 1 → 3") {
		t.Fatalf("changed identity: %v", err)
	}
	for _, want := range []string{"s.1", "s.2"} {
		fresh, created, archived, err := experiments.OpenStudy(ctx, store, &changed, true)
		if err != nil || !created || archived != want || fresh.ID == st.ID {
			t.Fatalf("fresh: %v %v %q %v, want archived as %s", fresh, created, archived, err, want)
		}
	}
	all, _ := store.Studies(ctx)
	if len(all) != 3 {
		t.Errorf("%d studies, want 3", len(all))
	}
}
