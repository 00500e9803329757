package graphtenant

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	khttp "github.com/microsoft/kiota-http-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingTransport answers 204 (or status) and keeps the requests'
// bodies and encodings.
type recordingTransport struct {
	status   []int
	bodies   [][]byte
	encoding []string
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(req.Body)
	rt.bodies = append(rt.bodies, b)
	rt.encoding = append(rt.encoding, req.Header.Get("Content-Encoding"))
	status := http.StatusNoContent
	if len(rt.status) > 0 {
		status, rt.status = rt.status[0], rt.status[1:]
	}
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: req}, nil
}

func post(t testing.TB, rt http.RoundTripper, body string) *http.Response {
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/v1.0/$batch", strings.NewReader(body))
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	return resp
}

func gunzip(t *testing.T, b []byte) string {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return string(out)
}

func TestCompressor(t *testing.T) {
	small, large := `{"accountEnabled":false}`, strings.Repeat(`{"id":"x","method":"GET","url":"/users/a"},`, 100)
	inner := &recordingTransport{}
	c := &compressor{next: inner, min: 1024}
	post(t, c, small)
	post(t, c, large)
	post(t, c, large) // a pooled writer is reused
	assert.Equal(t, []string{"", "gzip", "gzip"}, inner.encoding)
	assert.Equal(t, small, string(inner.bodies[0]))
	assert.Equal(t, large, gunzip(t, inner.bodies[1]))
	assert.Equal(t, large, gunzip(t, inner.bodies[2]))

	// 415: sent again uncompressed, as Kiota's handler does.
	inner = &recordingTransport{status: []int{http.StatusUnsupportedMediaType}}
	resp := post(t, &compressor{next: inner, min: 1024}, large)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, []string{"gzip", ""}, inner.encoding)
	assert.Equal(t, large, string(inner.bodies[1]))

	inner = &recordingTransport{}
	post(t, &compressor{next: inner, min: -1}, large)
	assert.Equal(t, []string{""}, inner.encoding, "off")
}

// BenchmarkRequestCompression compares the bytes allocated per request
// body by Kiota's compression middleware (a new gzip writer per request)
// with the driver's compressor (pooled writers, small bodies left alone),
// on a single-user PATCH and on a 20-item batch body, in the same run.
func BenchmarkRequestCompression(b *testing.B) {
	var items []string
	for i := range 20 {
		items = append(items, fmt.Sprintf(`{"id":"%d","method":"POST","url":"/users","headers":{"Content-Type":"application/json"},"body":{"accountEnabled":true,"displayName":"User %d","mailNickname":"user%d","userPrincipalName":"user%d@contoso.com","passwordProfile":{"password":"Bench!Passw0rd","forceChangePasswordNextSignIn":true}}}`, i, i, i, i))
	}
	bodies := map[string]string{
		"patch": `{"@odata.type":"#microsoft.graph.user","accountEnabled":false}`,
		"batch": `{"requests":[` + strings.Join(items, ",") + `]}`,
	}
	noop := &recordingTransport{}
	kiota := khttp.NewCustomTransportWithParentTransport(noop, khttp.NewCompressionHandler())
	pooled := &compressor{next: noop, min: defaultCompressMin}
	measure := func(rt http.RoundTripper, body string, n int) float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			post(b, rt, body)
			noop.bodies, noop.encoding = noop.bodies[:0], noop.encoding[:0]
		}
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	}
	for _, name := range []string{"patch", "batch"} {
		b.Run(name, func(b *testing.B) {
			var k, p float64
			for b.Loop() {
				k = measure(kiota, bodies[name], 50)
				p = measure(pooled, bodies[name], 50)
			}
			b.ReportMetric(k, "kiota-B/req")
			b.ReportMetric(p, "pooled-B/req")
			b.ReportMetric(k/p, "kiota/pooled")
		})
	}
}
