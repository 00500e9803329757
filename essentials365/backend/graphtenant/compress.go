package graphtenant

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"sync"
)

// defaultCompressMin is the default of Config.CompressMinBytes.
const defaultCompressMin = 1024

// gzipWriters pools the gzip writers of request bodies: Kiota's
// compression middleware allocates a new one (about 0.8 MB) per request.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// compressor gzips request bodies of at least min bytes with pooled
// writers, in place of Kiota's compression middleware (turned off in
// New); smaller bodies go as they are, where gzip saves nothing. As Kiota
// does, a 415 answer to a compressed body is retried once uncompressed.
type compressor struct {
	next http.RoundTripper
	min  int
}

func (c *compressor) RoundTrip(req *http.Request) (*http.Response, error) {
	if c.min < 0 || req.Body == nil || req.Body == http.NoBody || req.Header.Get("Content-Encoding") != "" ||
		req.Header.Get("Content-Range") != "" {
		return c.next.RoundTrip(req)
	}
	plain, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	send := func(body []byte, gzipped bool) (*http.Response, error) {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
		if gzipped {
			r.Header.Set("Content-Encoding", "gzip")
		}
		return c.next.RoundTrip(r)
	}
	if len(plain) < c.min {
		return send(plain, false)
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, err = zw.Write(plain)
	if err == nil {
		err = zw.Close()
	}
	zw.Reset(io.Discard)
	gzipWriters.Put(zw)
	if err != nil {
		return nil, err
	}
	resp, err := send(buf.Bytes(), true)
	if err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return send(plain, false)
}
