package modelcmd

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
)

func TestInfoFlags(t *testing.T) {
	cases := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"models/tiny", "--seq-len", "16384", "--globals", "2", "--json"}, ""},
		{[]string{}, "info takes a model folder or a config file, got 0 argument(s)"},
		{[]string{"a", "b"}, "got 2 argument(s)"},
		{[]string{"m", "--seq-len", "0"}, "--seq-len must be positive"},
		{[]string{"m", "--globals", "5000"}, "--globals between 0 and it"},
	}
	for _, c := range cases {
		ios, _, _ := cmdutil.Test()
		var got *InfoOptions
		err := cmdutil.Run(newCmdInfo(ios, func(_ context.Context, o *InfoOptions) error { got = o; return nil }), c.args...)
		if c.wantErr != "" {
			var ue *cmdutil.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want a usage error containing %q", c.args, err, c.wantErr)
			}
			continue
		}
		if err != nil || got.Dir != "models/tiny" || got.SeqLen != 16384 || got.Globals != 2 || !got.JSON {
			t.Errorf("%v: %+v, %v", c.args, got, err)
		}
	}
}
