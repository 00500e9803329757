package dnsrecords

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/essentials365/sdk/essentials365/backend"
)

// FilePattern is the name pattern of the file WriteFile creates; %d is a
// random number, as in the Essentials wizard's NewDNSRecords_(n).txt.
const FilePattern = "NewDNSRecords_(%d).txt"

// WriteFileOptions tunes WriteFile.
type WriteFileOptions struct {
	// Format of the file; empty means FormatText.
	Format Format
	// Random returns the random numbers used for n; nil uses math/rand/v2.
	Random func() uint32
	// Attempts is how many names are tried before giving up; 0 means 100.
	Attempts int
}

// WriteFile writes the set into a new file NewDNSRecords_(n).txt in dir, with
// n random, and returns its path. It never overwrites a file: the file is
// created exclusively, and another n is drawn when the name is taken.
func WriteFile(dir string, s *RecordSet, opts *WriteFileOptions) (string, error) {
	if opts == nil {
		opts = &WriteFileOptions{}
	}
	format := opts.Format
	if format == "" {
		format = FormatText
	}
	random := opts.Random
	if random == nil {
		random = rand.Uint32
	}
	attempts := opts.Attempts
	if attempts <= 0 {
		attempts = 100
	}
	var buf bytes.Buffer
	if err := s.Render(&buf, format); err != nil {
		return "", err
	}
	for range attempts {
		n := random()%99999 + 1
		path := filepath.Join(dir, fmt.Sprintf(FilePattern, n))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", backend.Wrap(err, backend.Unavailable, opWriteFile, path)
		}
		if _, err := f.Write(buf.Bytes()); err != nil {
			f.Close()
			return "", backend.Wrap(err, backend.Unavailable, opWriteFile, path)
		}
		if err := f.Close(); err != nil {
			return "", backend.Wrap(err, backend.Unavailable, opWriteFile, path)
		}
		return path, nil
	}
	return "", &backend.Error{Kind: backend.AlreadyExists, Op: opWriteFile, Key: dir, Msg: fmt.Sprintf("no free file name after %d attempts; clean up old NewDNSRecords files", attempts), Err: fs.ErrExist}
}
