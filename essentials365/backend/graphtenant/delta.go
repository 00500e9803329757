package graphtenant

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/essentials365/sdk/essentials365/backend"
)

// watermarkPrefix marks this driver's watermarks: "g1." and the base64url
// of Graph's @odata.nextLink or @odata.deltaLink.
const watermarkPrefix = "g1."

func encodeWatermark(link string) string {
	return watermarkPrefix + base64.RawURLEncoding.EncodeToString([]byte(link))
}

// decodeWatermark returns the link inside a watermark. Graph's delta and
// next links are opaque (their path may be /users/delta() or
// /users/microsoft.graph.delta(), their tokens anything): the link is
// followed as given, once it is known to point at the configured service
// (same scheme and host, under the base path), so that the tenant's
// token is never sent elsewhere.
func (t *Tenant) decodeWatermark(op, w string) (string, error) {
	bad := func(why string) error {
		return backend.Invalid(op, w, backend.ReasonWatermark, "not a watermark of this driver: %s", why)
	}
	rest, ok := strings.CutPrefix(w, watermarkPrefix)
	if !ok {
		return "", bad("unknown format")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", bad("not base64url")
	}
	link := string(raw)
	if err := t.checkLink(link); err != nil {
		return "", bad("made for another service")
	}
	return link, nil
}

// Changes runs Graph's users delta query. The watermark wraps the
// @odata.nextLink (More is set) or the @odata.deltaLink of the answer.
func (t *Tenant) Changes(ctx context.Context, watermark string) (backend.TenantChanges, error) {
	const op = opChanges
	if err := backend.CtxErr(ctx, op); err != nil {
		return backend.TenantChanges{}, err
	}
	var (
		res users.DeltaGetResponseable
		err error
	)
	if watermark == "" {
		// users/delta ignores $top; its page size is asked with Prefer
		// (https://learn.microsoft.com/graph/api/user-delta), and the
		// links Graph returns keep it.
		h := abstractions.NewRequestHeaders()
		h.Add("Prefer", "odata.maxpagesize="+strconv.Itoa(int(t.pageSize)))
		res, err = t.usersBuilder().Delta().GetAsDeltaGetResponse(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
			Headers:         h,
			QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: userSelect},
		})
	} else {
		link, derr := t.decodeWatermark(op, watermark)
		if derr != nil {
			return backend.TenantChanges{}, derr
		}
		res, err = users.NewDeltaRequestBuilder(link, t.adapter).GetAsDeltaGetResponse(ctx, nil)
	}
	if err != nil {
		return backend.TenantChanges{}, classify(err, op, "", t.now())
	}
	out := backend.TenantChanges{}
	for _, u := range res.GetValue() {
		if u == nil {
			continue
		}
		ch := backend.TenantChange{Type: backend.Upserted, User: fromUser(u)}
		if removed, ok := u.GetAdditionalData()["@removed"]; ok {
			ch.Type = backend.Deleted
			ch.Permanent = removedReason(removed) == "deleted"
		}
		out.Changes = append(out.Changes, ch)
	}
	if next := deref(res.GetOdataNextLink()); next != "" {
		out.Watermark, out.More = encodeWatermark(next), true
	} else if delta := deref(res.GetOdataDeltaLink()); delta != "" {
		out.Watermark = encodeWatermark(delta)
	} else {
		return backend.TenantChanges{}, backend.Errorf(backend.Unknown, op, "", "Graph's delta answer has neither nextLink nor deltaLink")
	}
	return out, nil
}

// removedReason reads @removed.reason as the JSON parse node decoded it.
func removedReason(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	switch r := m["reason"].(type) {
	case *string:
		if r != nil {
			return *r
		}
	case string:
		return r
	}
	return ""
}
