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

	"github.com/essentials365/sdk/essentials365/backend"
)

// MaxBatchItems is Graph's limit of requests in one JSON batch.
const MaxBatchItems = 20

// errorMappings parse every error answer as an OData error.
var errorMappings = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// step is one request of a bulk call, or the error that kept it from
// being built.
type step struct {
	ri  *abstractions.RequestInformation
	err error
}

// itemResult is Graph's answer to one step of a batch.
type itemResult struct {
	status int
	header http.Header
	body   []byte
	err    error // the step could not be built, or its batch failed
}

// CreateUsers creates users through JSON batches of up to 20 requests,
// several batches in flight at once, then reads the created users back
// (Graph's answer to a create holds only the default properties) through
// batches of reads. Every batch is fully parallel: Graph answers 400 to
// a batch that mixes independent requests with dependsOn chains ("a batch
// should be either fully sequential or fully parallel", json-batching;
// microsoft-graph-docs issue 16280). Results pair with users by index; a
// user whose create failed has a zero OnlineUser and an error. A user
// whose read-back failed is built from the create's answer and the input.
func (t *Tenant) CreateUsers(ctx context.Context, in []backend.NewOnlineUser) ([]backend.OnlineUser, []error) {
	const op = opCreateUser
	posts := make([]step, len(in))
	for i, u := range in {
		ri, err := t.usersBuilder().ToPostRequestInformation(ctx, toNewUser(u), nil)
		posts[i] = step{ri: ri, err: err}
	}
	out := make([]backend.OnlineUser, len(in))
	errs := make([]error, len(in))
	var reads []step
	var readOf []int
	for i, r := range t.sendAll(ctx, posts, true, op) {
		upn := in[i].UserPrincipalName
		if err := t.itemError(r, op, upn); err != nil {
			errs[i] = err
			continue
		}
		var created models.Userable
		if len(r.body) > 0 {
			v, err := parseItem(r.body, models.CreateUserFromDiscriminatorValue)
			if err != nil {
				errs[i] = backend.Wrap(err, backend.Unknown, op, upn)
				continue
			}
			created, _ = v.(models.Userable)
		}
		out[i] = mergeCreated(in[i], created)
		ri, err := t.userBuilder(upn, true).ToGetRequestInformation(ctx, userGetConfig())
		if err == nil {
			reads = append(reads, step{ri: ri})
			readOf = append(readOf, i)
		}
	}
	for k, r := range t.sendAll(ctx, reads, false, op) {
		i := readOf[k]
		if t.itemError(r, op, in[i].UserPrincipalName) != nil {
			continue // the user exists: keep what the create answered
		}
		if v, err := parseItem(r.body, models.CreateUserFromDiscriminatorValue); err == nil {
			if u, ok := v.(models.Userable); ok && u.GetId() != nil {
				out[i] = fromUser(u)
			}
		}
	}
	return out, errs
}

// AssignLicensesMany assigns licenses through fully parallel JSON batches
// of assignLicense requests, then reads the users whose assignment
// succeeded back through batches of reads, so that each result holds the
// licenses now assigned. The assignment is what counts: when only its
// read-back fails, the item succeeds with the user of the assignment's
// answer, whose AssignedLicenses then lists only the licenses this change
// added (the others it holds are not known).
func (t *Tenant) AssignLicensesMany(ctx context.Context, changes []backend.LicenseChange) ([]backend.OnlineUser, []error) {
	const op = opAssignLicenses
	posts := make([]step, len(changes))
	for i, c := range changes {
		body, err := toAssignLicense(c.Add, c.Remove)
		if err != nil {
			posts[i] = step{err: withOpKey(err, op, c.UserID)}
			continue
		}
		ri, err := t.assignLicenseBuilder(c.UserID).ToPostRequestInformation(ctx, body, nil)
		posts[i] = step{ri: ri, err: err}
	}
	out := make([]backend.OnlineUser, len(changes))
	errs := make([]error, len(changes))
	var reads []step
	var readOf []int
	for i, r := range t.sendAll(ctx, posts, true, op) {
		c := changes[i]
		if err := t.itemError(r, op, c.UserID); err != nil {
			errs[i] = err
			continue
		}
		out[i] = assignedFromAnswer(c, r.body)
		ri, err := t.userBuilder(c.UserID, true).ToGetRequestInformation(ctx, userGetConfig())
		if err == nil {
			reads = append(reads, step{ri: ri})
			readOf = append(readOf, i)
		}
	}
	for k, r := range t.sendAll(ctx, reads, false, op) {
		i := readOf[k]
		if t.itemError(r, op, changes[i].UserID) != nil {
			continue // assigned: keep what the assignment answered
		}
		if v, err := parseItem(r.body, models.CreateUserFromDiscriminatorValue); err == nil {
			if u, ok := v.(models.Userable); ok && u.GetId() != nil {
				out[i] = fromUser(u)
			}
		}
	}
	return out, errs
}

// assignedFromAnswer builds a result from assignLicense's answer (the user
// with its default properties) and the licenses the change added.
func assignedFromAnswer(c backend.LicenseChange, body []byte) backend.OnlineUser {
	var u backend.OnlineUser
	if len(body) > 0 {
		if v, err := parseItem(body, models.CreateUserFromDiscriminatorValue); err == nil {
			if mu, ok := v.(models.Userable); ok {
				u = fromUser(mu)
			}
		}
	}
	if u.ID == "" {
		u.ID = c.UserID
	}
	if len(u.AssignedLicenses) == 0 {
		for _, a := range c.Add {
			u.AssignedLicenses = append(u.AssignedLicenses, backend.AssignedLicense(a))
		}
	}
	return u
}

// sendAll sends the steps in fully parallel JSON batches of at most
// MaxBatchItems requests (no dependsOn), up to BatchConcurrency batches in
// flight; batches of writes first wait for the write pacer. It returns
// one answer per step, in the steps' order.
func (t *Tenant) sendAll(ctx context.Context, steps []step, writes bool, op string) []itemResult {
	res := make([]itemResult, len(steps))
	var batches [][]int
	var cur []int
	for i, s := range steps {
		if s.err != nil {
			res[i] = itemResult{err: s.err}
			continue
		}
		if len(cur) == MaxBatchItems {
			batches = append(batches, cur)
			cur = nil
		}
		cur = append(cur, i)
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	failAll := func(b []int, err error) {
		for _, i := range b {
			res[i] = itemResult{err: err}
		}
	}
	sem := make(chan struct{}, t.batchConc)
	var wg sync.WaitGroup
	for _, b := range batches {
		if err := backend.CtxErr(ctx, op); err != nil {
			failAll(b, err)
			continue
		}
		if writes {
			if err := t.limiter.Wait(ctx, len(b)); err != nil {
				failAll(b, err)
				continue
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			failAll(b, backend.CtxErr(ctx, op))
			continue
		}
		wg.Add(1)
		go func(b []int) {
			defer wg.Done()
			defer func() { <-sem }()
			for k, r := range t.sendBatch(ctx, steps, b) {
				res[b[k]] = r
			}
		}(b)
	}
	wg.Wait()
	return res
}

// sendBatch sends one fully parallel JSON batch of the steps idx and
// returns their answers. When the batch itself fails, every step carries
// that error.
func (t *Tenant) sendBatch(ctx context.Context, steps []step, idx []int) []itemResult {
	out := make([]itemResult, len(idx))
	fail := func(err error) []itemResult {
		for k := range out {
			out[k] = itemResult{err: err}
		}
		return out
	}
	batch := msgraphgocore.NewBatchRequest(t.adapter)
	ids := make([]string, len(idx))
	for k, i := range idx {
		item, err := batch.AddBatchRequestStep(*steps[i].ri)
		if err != nil {
			return fail(err)
		}
		ids[k] = deref(item.GetId())
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
		return fail(backend.Errorf(backend.Unknown, opBatch, "", "Graph's batch answer could not be read"))
	}
	for k, id := range ids {
		item := br.GetResponseById(id)
		if item == nil || item.GetStatus() == nil {
			out[k] = itemResult{err: backend.Errorf(backend.Unavailable, opBatch, id, "Graph's batch answer has no response for this request")}
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
		out[k] = r
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
