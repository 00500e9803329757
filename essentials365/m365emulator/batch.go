package m365emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBatchItems is Graph's limit on the requests of one $batch.
const maxBatchItems = 20

type batchBody struct {
	Requests []batchItem `json:"requests"`
}

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type batchAnswer struct {
	Responses []batchItemAnswer `json:"responses"`
}

type batchItemAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body,omitempty"`
}

// batch serves POST /$batch (https://learn.microsoft.com/graph/json-batching).
// A batch is fully parallel (no dependsOn) or fully sequential (each item
// depends on the one before); any other shape is refused with 400, as
// Graph does. Items run one at a time in the order listed; in a sequential
// batch an item whose predecessor failed gets 424 without running. Each
// item is routed, faulted and throttled like a request of its own.
func (s *Server) batch(ctx context.Context, req *request, _ string) *response {
	var body batchBody
	if err := decodeJSON(req.body, &body); err != nil {
		return s.fail(req, http.StatusBadRequest, "BadRequest", "Invalid batch payload format: "+err.Error(), nil)
	}
	items := body.Requests
	index, sequential, msg := checkBatch(items)
	if msg != "" {
		return s.fail(req, http.StatusBadRequest, "BadRequest", msg, nil)
	}

	// A parallel batch costs its slowest item; a sequential one runs its
	// items one after the other, so each pays its own latency (below).
	if !sequential {
		var wait time.Duration
		for _, it := range items {
			wait = max(wait, s.itemLatency(it.Method))
		}
		if err := sleep(ctx, wait); err != nil {
			return s.errorResponse(req, route{}, err)
		}
	}

	status := make([]int, len(items))
	units := 0 // the resource units of the items, reported on the batch
	answers := make([]batchItemAnswer, 0, len(items))
	for i, it := range items {
		sub, resp := s.runBatchItem(ctx, req, it, sequential, firstFailed(it.DependsOn, index, status))
		if resp.reset {
			return resp // a connection reset loses the whole batch
		}
		status[i] = resp.status
		if n, err := strconv.Atoi(resp.header.Get("x-ms-resource-unit")); err == nil {
			units += n
		}
		answers = append(answers, itemAnswer(it.ID, sub, resp))
		s.log.Debug("m365emulator: batch item", "id", it.ID, "method", sub.method, "url", it.URL, "status", resp.status)
	}
	if s.opts.ShuffleBatch {
		s.mu.Lock()
		s.rng.Shuffle(len(answers), func(i, j int) { answers[i], answers[j] = answers[j], answers[i] })
		s.mu.Unlock()
	}
	resp := &response{status: http.StatusOK, body: batchAnswer{Responses: answers}}
	resp.setHeader("x-ms-resource-unit", strconv.Itoa(max(units, 1)))
	return resp
}

// checkBatch checks a batch's items before any runs: a count within the
// limit, an id, method and url on each, ids unique, dependencies on other
// items of the batch, and one of the two shapes Graph accepts. It returns
// the items' index by lower-case id and whether the batch is sequential,
// or Graph's message for the first problem.
func checkBatch(items []batchItem) (index map[string]int, sequential bool, msg string) {
	switch {
	case len(items) == 0:
		return nil, false, "The batch request must contain at least one request."
	case len(items) > maxBatchItems:
		return nil, false, fmt.Sprintf("The batch request contains %d requests; the limit is %d.", len(items), maxBatchItems)
	}
	index = map[string]int{}
	for i, it := range items {
		key := strings.ToLower(it.ID)
		switch {
		case it.ID == "":
			return nil, false, fmt.Sprintf("Request %d of the batch has no id.", i+1)
		case it.Method == "" || it.URL == "":
			return nil, false, fmt.Sprintf("Request '%s' of the batch needs a method and a url.", it.ID)
		}
		if _, dup := index[key]; dup {
			return nil, false, "Batch request cannot contain two requests with the same Id: '" + it.ID + "'."
		}
		index[key] = i
	}
	for _, it := range items {
		for _, d := range it.DependsOn {
			if _, ok := index[strings.ToLower(d)]; !ok || strings.EqualFold(d, it.ID) {
				return nil, false, fmt.Sprintf("Request '%s' depends on '%s', which is not another request of the batch.", it.ID, d)
			}
		}
	}
	sequential, ok := batchShape(items)
	if !ok {
		return nil, false, msgMixedBatch
	}
	return index, sequential, ""
}

// runBatchItem runs one item of a batch as a request of its own; failed
// names the item it depends on that failed ("" when none), which answers
// 424 without running it.
func (s *Server) runBatchItem(ctx context.Context, req *request, it batchItem, sequential bool, failed string) (*request, *response) {
	s.batchItems.Add(1)
	sub := &request{
		method:    strings.ToUpper(it.Method),
		base:      req.base,
		requestID: newRequestID(),
		clientID:  req.clientID,
		appID:     req.appID,
		inBatch:   true,
		header:    http.Header{},
	}
	for k, v := range it.Headers {
		sub.header.Set(k, v)
	}
	if len(it.Body) > 0 && string(it.Body) != "null" {
		sub.body = it.Body
	}
	if failed != "" {
		return sub, s.fail(sub, http.StatusFailedDependency, "FailedDependency", msgFailedDependency+" ("+failed+")", nil)
	}
	if err := s.sequentialLatency(ctx, sequential, it.Method); err != nil {
		return sub, s.errorResponse(sub, route{}, err)
	}
	u, err := url.Parse(it.URL)
	if err != nil || u.IsAbs() || u.Host != "" {
		return sub, s.fail(sub, http.StatusBadRequest, "BadRequest",
			"The url of a batch request must be relative to the service root, like /users.", nil)
	}
	sub.path = "/" + strings.TrimPrefix(u.Path, "/")
	sub.rawQuery = u.RawQuery
	return sub, s.handle(ctx, sub)
}

func itemAnswer(id string, sub *request, resp *response) batchItemAnswer {
	h := map[string]string{}
	for k := range resp.header {
		name := k
		if strings.HasPrefix(strings.ToLower(k), "x-ms-") {
			name = strings.ToLower(k) // as Graph writes them
		}
		h[name] = resp.header.Get(k)
	}
	h["Content-Type"] = "application/json"
	h["request-id"] = sub.requestID
	h["client-request-id"] = sub.clientID
	h["Cache-Control"] = "no-cache"
	return batchItemAnswer{ID: id, Status: resp.status, Headers: h, Body: resp.body}
}

// batchShape tells a fully parallel batch (no dependsOn) from a fully
// sequential one (each request after the first depends on the one before
// it, in the order listed); ok is false for any other shape. Graph answers
// 400 "Batch should be either fully sequential or fully parallel" to a
// batch that mixes independent requests with dependsOn chains, or lists a
// chain out of order: json-batching ("Sequencing requests with the
// dependsOn property"), microsoft-graph-docs issue 16280 and
// msgraph-sdk-java-core issue 71.
func batchShape(items []batchItem) (sequential, ok bool) {
	chained := false
	for _, it := range items {
		chained = chained || len(it.DependsOn) > 0
	}
	if !chained {
		return false, true
	}
	if len(items[0].DependsOn) > 0 {
		return true, false
	}
	for i := 1; i < len(items); i++ {
		d := items[i].DependsOn
		if len(d) != 1 || !strings.EqualFold(d[0], items[i-1].ID) {
			return true, false
		}
	}
	return true, true
}

// itemLatency is the latency configured for a request of that method.
func (s *Server) itemLatency(method string) time.Duration {
	if strings.EqualFold(method, http.MethodGet) {
		return s.opts.ReadLatency
	}
	return s.opts.WriteLatency
}

// sequentialLatency sleeps an item's latency when the batch is sequential.
func (s *Server) sequentialLatency(ctx context.Context, sequential bool, method string) error {
	if !sequential {
		return nil
	}
	return sleep(ctx, s.itemLatency(method))
}

// firstFailed returns the id of the first dependency that failed, or "".
func firstFailed(deps []string, index map[string]int, status []int) string {
	for _, d := range deps {
		if st := status[index[strings.ToLower(d)]]; st >= 400 {
			return d + ": " + strconv.Itoa(st)
		}
	}
	return ""
}
