package graphtenant

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/essentials365/sdk/essentials365/backend"
)

// MaxBatchItems is Graph's limit of requests in one JSON batch.
const MaxBatchItems = 20

// errorMappings parse every error answer as an OData error.
var errorMappings = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// unit is the work for one input of a bulk call: a write, optionally
// followed by a read that depends on it.
type unit struct {
	steps []*abstractions.RequestInformation
	err   error // set when the input could not be turned into requests
}

// itemResult is Graph's answer to one step of a batch.
type itemResult struct {
	status int
	header http.Header
	body   []byte
	err    error // the batch itself failed
}

// CreateUsers creates users through JSON batches of up to 20 requests,
// several batches in flight at once. Each create is followed in the same
// batch (dependsOn) by a read of the user by UPN, since Graph's answer to
// a create holds only the default properties. Results pair with users by
// index; a user whose create failed has a zero OnlineUser and an error.
func (t *Tenant) CreateUsers(ctx context.Context, in []backend.NewOnlineUser) ([]backend.OnlineUser, []error) {
	const op = "graph: create user"
	units := make([]unit, len(in))
	for i, u := range in {
		post, err := t.usersBuilder().ToPostRequestInformation(ctx, toNewUser(u), nil)
		if err != nil {
			units[i] = unit{err: err}
			continue
		}
		get, err := t.userBuilder(u.UserPrincipalName).ToGetRequestInformation(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userSelect},
		})
		units[i] = unit{steps: []*abstractions.RequestInformation{post, get}, err: err}
	}
	out := make([]backend.OnlineUser, len(in))
	errs := t.runBatches(ctx, units, func(i int, res []itemResult) error {
		r := res[0]
		if err := t.itemError(r, op, in[i].UserPrincipalName); err != nil {
			return err
		}
		if t.itemError(res[1], op, in[i].UserPrincipalName) == nil {
			if v, err := parseItem(res[1].body, models.CreateUserFromDiscriminatorValue); err == nil {
				if u, ok := v.(models.Userable); ok && u.GetId() != nil {
					out[i] = fromUser(u)
					return nil
				}
			}
		}
		var created models.Userable
		if len(r.body) > 0 {
			v, err := parseItem(r.body, models.CreateUserFromDiscriminatorValue)
			if err != nil {
				return backend.Wrap(err, backend.Unknown, op, in[i].UserPrincipalName)
			}
			created, _ = v.(models.Userable)
		}
		out[i] = mergeCreated(in[i], created)
		return nil
	}, op)
	return out, errs
}

// AssignLicensesMany assigns licenses through JSON batches. Each change is
// an assignLicense request followed, in the same batch (dependsOn), by a
// read of the user, so that the result holds the licenses now assigned.
func (t *Tenant) AssignLicensesMany(ctx context.Context, changes []backend.LicenseChange) ([]backend.OnlineUser, []error) {
	const op = "graph: assign licenses"
	units := make([]unit, len(changes))
	for i, c := range changes {
		body, err := toAssignLicense(c.Add, c.Remove)
		if err != nil {
			units[i] = unit{err: withOpKey(err, op, c.UserID)}
			continue
		}
		post, err := t.userBuilder(c.UserID).AssignLicense().ToPostRequestInformation(ctx, body, nil)
		if err != nil {
			units[i] = unit{err: err}
			continue
		}
		get, err := t.userBuilder(c.UserID).ToGetRequestInformation(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userSelect},
		})
		units[i] = unit{steps: []*abstractions.RequestInformation{post, get}, err: err}
	}
	out := make([]backend.OnlineUser, len(changes))
	errs := t.runBatches(ctx, units, func(i int, res []itemResult) error {
		key := changes[i].UserID
		if err := t.itemError(res[0], op, key); err != nil {
			return err
		}
		if err := t.itemError(res[1], op, key); err != nil {
			return err
		}
		v, err := parseItem(res[1].body, models.CreateUserFromDiscriminatorValue)
		if err != nil {
			return backend.Wrap(err, backend.Unknown, op, key)
		}
		u, _ := v.(models.Userable)
		out[i] = fromUser(u)
		return nil
	}, op)
	return out, errs
}

// runBatches packs the units into batches of at most MaxBatchItems steps
// (a unit never spans two batches), sends up to BatchConcurrency batches at
// once, each after the rate limiter let its writes through, and hands each
// unit's answers to handle. It returns one error per unit.
func (t *Tenant) runBatches(ctx context.Context, units []unit, handle func(i int, res []itemResult) error, op string) []error {
	errs := make([]error, len(units))
	var batches [][]int
	var cur []int
	steps := 0
	for i, u := range units {
		if u.err != nil {
			errs[i] = classify(u.err, op, "", t.now())
			continue
		}
		if steps+len(u.steps) > MaxBatchItems {
			batches = append(batches, cur)
			cur, steps = nil, 0
		}
		cur = append(cur, i)
		steps += len(u.steps)
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}

	sem := make(chan struct{}, t.batchConc)
	var wg sync.WaitGroup
	for _, b := range batches {
		if err := backend.CtxErr(ctx, op); err != nil {
			for _, i := range b {
				errs[i] = err
			}
			continue
		}
		if err := t.limiter.Wait(ctx, len(b)); err != nil {
			for _, i := range b {
				errs[i] = err
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			err := backend.CtxErr(ctx, op)
			for _, i := range b {
				errs[i] = err
			}
			continue
		}
		wg.Add(1)
		go func(b []int) {
			defer wg.Done()
			defer func() { <-sem }()
			results := t.sendBatch(ctx, units, b)
			for k, i := range b {
				errs[i] = handle(i, results[k])
			}
		}(b)
	}
	wg.Wait()
	return errs
}

// sendBatch sends one JSON batch and returns the answers of each unit's
// steps. When the batch itself fails, every step carries that error.
func (t *Tenant) sendBatch(ctx context.Context, units []unit, idx []int) [][]itemResult {
	out := make([][]itemResult, len(idx))
	fail := func(err error) [][]itemResult {
		for k, i := range idx {
			out[k] = make([]itemResult, len(units[i].steps))
			for s := range out[k] {
				out[k][s] = itemResult{err: err}
			}
		}
		return out
	}
	batch := msgraphgocore.NewBatchRequest(t.adapter)
	ids := make([][]string, len(idx))
	for k, i := range idx {
		var prev msgraphgocore.BatchItem
		for _, ri := range units[i].steps {
			item, err := batch.AddBatchRequestStep(*ri)
			if err != nil {
				return fail(err)
			}
			if prev != nil {
				item.DependsOnItem(prev)
			}
			prev = item
			ids[k] = append(ids[k], deref(item.GetId()))
		}
	}
	ri := abstractions.NewRequestInformation()
	ri.Method = abstractions.POST
	ri.UrlTemplate = "{+baseurl}/$batch"
	if err := ri.SetContentFromParsable(ctx, t.adapter, "application/json", batch); err != nil {
		return fail(err)
	}
	ri.Headers.TryAdd("Accept", "application/json")
	res, err := t.adapter.Send(ctx, ri, msgraphgocore.CreateBatchResponseDiscriminator, errorMappings)
	if err != nil {
		return fail(err)
	}
	br, ok := res.(msgraphgocore.BatchResponse)
	if !ok {
		return fail(backend.Errorf(backend.Unknown, "graph: batch", "", "Graph's batch answer could not be read"))
	}
	for k := range idx {
		out[k] = make([]itemResult, len(ids[k]))
		for s, id := range ids[k] {
			item := br.GetResponseById(id)
			if item == nil || item.GetStatus() == nil {
				out[k][s] = itemResult{err: backend.Errorf(backend.Unavailable, "graph: batch", id, "Graph's batch answer has no response for this request")}
				continue
			}
			r := itemResult{status: int(*item.GetStatus()), header: http.Header{}}
			for name, v := range item.GetHeaders() {
				r.header.Add(name, v)
			}
			if body := item.GetBody(); body != nil {
				r.body, err = json.Marshal(map[string]any(body))
				if err != nil {
					r.err = err
				}
			}
			t.observe(r.status, r.header, "batch item")
			out[k][s] = r
		}
	}
	return out
}

// itemError classifies a failed batch item, or returns nil for a success.
func (t *Tenant) itemError(r itemResult, op, key string) error {
	if r.err != nil {
		return classify(r.err, op, key, t.now())
	}
	if r.status < 400 {
		return nil
	}
	var sdkErr error
	if len(r.body) > 0 {
		if v, err := parseItem(r.body, odataerrors.CreateODataErrorFromDiscriminatorValue); err == nil {
			if oe, ok := v.(*odataerrors.ODataError); ok {
				oe.ResponseStatusCode = r.status
				oe.ResponseHeaders = toResponseHeaders(r.header)
				sdkErr = oe
			}
		}
	}
	if sdkErr == nil {
		sdkErr = &abstractions.ApiError{Message: "batch item failed", ResponseStatusCode: r.status, ResponseHeaders: toResponseHeaders(r.header)}
	}
	return classify(sdkErr, op, key, t.now())
}

func toResponseHeaders(h http.Header) *abstractions.ResponseHeaders {
	rh := abstractions.NewResponseHeaders()
	for k, vs := range h {
		for _, v := range vs {
			rh.Add(k, v)
		}
	}
	return rh
}

// parseItem decodes a batch item's JSON body with the SDK's model factory.
func parseItem(body []byte, ctor absser.ParsableFactory) (absser.Parsable, error) {
	node, err := jsonserialization.NewJsonParseNode(body)
	if err != nil {
		return nil, err
	}
	return node.GetObjectValue(ctor)
}
