package servecmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/serve"
)

// The limits of the child process that reads an uploaded PDF.
const (
	pdfMemory  = 2 << 30 // bytes of address space
	pdfTimeout = 60 * time.Second
	// exitUnreadable is the child's exit code for a PDF it refuses
	// (the reason on stderr); exitNoText for one without text.
	exitUnreadable = 3
	exitNoText     = 4
)

// newCmdPDFText returns the hidden 'olc serve pdf-text', which reads a PDF
// on stdin and writes its text on stdout, in a process limited to
// pdfMemory of address space: olc serve runs it for each uploaded PDF, so
// that a hostile file can cost a child process, never the server.
func newCmdPDFText(ios *cmdutil.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:    "pdf-text",
		Short:  "Read a PDF on stdin and write its text (olc serve's sandbox)",
		Hidden: true,
		Args:   cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			limitMemory(pdfMemory)
			data, err := io.ReadAll(ios.In)
			if err != nil {
				return err
			}
			text, err := serve.PDFText(data)
			var ue *serve.UnsupportedError
			switch {
			case errors.As(err, &ue):
				return &cmdutil.CodeError{Code: exitUnreadable, Err: errors.New(ue.Reason)}
			case errors.Is(err, serve.ErrNoText):
				return &cmdutil.CodeError{Code: exitNoText, Err: err}
			case err != nil:
				return err
			}
			_, err = io.WriteString(ios.Out, text)
			return err
		},
	}
}

// sandboxedPDF returns a serve.PDFReader that runs 'exe serve pdf-text' for
// each PDF, with pdfTimeout and pdfMemory, at most n children at a time.
func sandboxedPDF(exe string, n int) serve.PDFReader {
	sem := make(chan struct{}, n)
	return func(ctx context.Context, data []byte) (string, error) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		defer func() { <-sem }()
		ctx, cancel := context.WithTimeout(ctx, pdfTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, exe, "serve", "pdf-text")
		cmd.Stdin = bytes.NewReader(data)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &limitedWriter{w: &errOut, n: 4 << 10}
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return out.String(), nil
		case ctx.Err() != nil:
			return "", &serve.UnsupportedError{Reason: fmt.Sprintf("the PDF could not be read within %v", pdfTimeout)}
		case errors.As(err, &ee) && ee.ExitCode() == exitUnreadable:
			return "", &serve.UnsupportedError{Reason: strings.TrimSpace(strings.TrimPrefix(errOut.String(), "olc: "))}
		case errors.As(err, &ee) && ee.ExitCode() == exitNoText:
			return "", fmt.Errorf("%w: the PDF has no text layer (scanned pages need OCR first)", serve.ErrNoText)
		case errors.As(err, &ee):
			return "", &serve.UnsupportedError{Reason: "the PDF could not be read within the server's limits of memory"}
		}
		return "", fmt.Errorf("read PDF: %w", err)
	}
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(l.n, len(p))
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
