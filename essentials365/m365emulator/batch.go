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

// batch serves POST /$batch. Items run one at a time, dependencies first;
// an item whose dependency failed gets 424 without running. Each item is
// routed, faulted and throttled like a request of its own.
func (s *Server) batch(ctx context.Context, req *request, _ string) *response {
	var body batchBody
	if err := decodeJSON(req.body, &body); err != nil {
		return s.fail(req, http.StatusBadRequest, "BadRequest", "Invalid batch payload format: "+err.Error(), nil)
	}
	items := body.Requests
	switch {
	case len(items) == 0:
		return s.fail(req, http.StatusBadRequest, "BadRequest", "The batch request must contain at least one request.", nil)
	case len(items) > maxBatchItems:
		return s.fail(req, http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("The batch request contains %d requests; the limit is %d.", len(items), maxBatchItems), nil)
	}
	index := map[string]int{}
	for i, it := range items {
		key := strings.ToLower(it.ID)
		switch {
		case it.ID == "":
			return s.fail(req, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Request %d of the batch has no id.", i+1), nil)
		case it.Method == "" || it.URL == "":
			return s.fail(req, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Request '%s' of the batch needs a method and a url.", it.ID), nil)
		}
		if _, dup := index[key]; dup {
			return s.fail(req, http.StatusBadRequest, "BadRequest", "Batch request cannot contain two requests with the same Id: '"+it.ID+"'.", nil)
		}
		index[key] = i
	}
	for _, it := range items {
		for _, d := range it.DependsOn {
			if _, ok := index[strings.ToLower(d)]; !ok || strings.EqualFold(d, it.ID) {
				return s.fail(req, http.StatusBadRequest, "BadRequest",
					fmt.Sprintf("Request '%s' depends on '%s', which is not another request of the batch.", it.ID, d), nil)
			}
		}
	}
	order, ok := topoOrder(items, index)
	if !ok {
		return s.fail(req, http.StatusBadRequest, "BadRequest", "The dependsOn of the batch requests form a cycle.", nil)
	}

	var wait time.Duration
	for _, it := range items {
		d := s.opts.ReadLatency
		if !strings.EqualFold(it.Method, http.MethodGet) {
			d = s.opts.WriteLatency
		}
		wait = max(wait, d)
	}
	if err := sleep(ctx, wait); err != nil {
		return s.errorResponse(req, route{}, err)
	}

	status := make([]int, len(items))
	units := 0 // the resource units of the items, reported on the batch
	answers := make([]batchItemAnswer, 0, len(items))
	for _, i := range order {
		it := items[i]
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
		var resp *response
		if failed := firstFailed(it.DependsOn, index, status); failed != "" {
			resp = s.fail(sub, http.StatusFailedDependency, "FailedDependency", msgFailedDependency+" ("+failed+")", nil)
		} else if u, err := url.Parse(it.URL); err != nil || u.IsAbs() || u.Host != "" {
			resp = s.fail(sub, http.StatusBadRequest, "BadRequest",
				"The url of a batch request must be relative to the service root, like /users.", nil)
		} else {
			sub.path = "/" + strings.TrimPrefix(u.Path, "/")
			sub.rawQuery = u.RawQuery
			resp = s.handle(ctx, sub)
		}
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

// topoOrder orders the items so that each comes after those it depends
// on, keeping the given order otherwise; ok is false on a cycle.
func topoOrder(items []batchItem, index map[string]int) ([]int, bool) {
	done := make([]bool, len(items))
	order := make([]int, 0, len(items))
	for len(order) < len(items) {
		progressed := false
		for i, it := range items {
			if done[i] {
				continue
			}
			ready := true
			for _, d := range it.DependsOn {
				ready = ready && done[index[strings.ToLower(d)]]
			}
			if ready {
				done[i] = true
				order = append(order, i)
				progressed = true
			}
		}
		if !progressed {
			return nil, false
		}
	}
	return order, true
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
