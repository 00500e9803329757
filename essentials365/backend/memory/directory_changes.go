package memory

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/essentials365/sdk/essentials365/backend"
)

// Changes returns the users written since the watermark, oldest change
// first, each once with its latest state; deleted users come as
// tombstones. An empty watermark returns every current user. At most
// PageSize changes come in one answer; More says to call again.
func (d *Directory) Changes(ctx context.Context, watermark string) (out backend.DirectoryChanges, err error) {
	const op = OpChanges
	eop := dirErrOp(op)
	defer func() { d.record(string(op), watermark, err) }()
	if err = d.dirEnterOp(ctx, op, watermark); err != nil {
		return out, err
	}
	var from uint64
	if watermark != "" {
		if from, err = dirParseWatermark(eop, watermark); err != nil {
			return out, err
		}
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if from > d.usn {
		return out, backend.Invalid(eop, watermark, backend.ReasonWatermark, "the watermark is not from this directory")
	}
	i, _ := slices.BinarySearchFunc(d.changes, from+1, func(it dirLogItem, usn uint64) int {
		return compareUint(it.usn, usn)
	})
	last := from
	for ; i < len(d.changes); i++ {
		it := d.changes[i]
		e := d.objects[it.id]
		if e == nil || e.usn != it.usn {
			continue // stale: the object was written again later
		}
		if watermark == "" && e.deleted {
			continue
		}
		if len(out.Changes) == d.pageSize {
			out.More = true
			break
		}
		c := backend.DirectoryChange{Type: backend.Upserted, User: e.user}
		if e.deleted {
			c.Type = backend.Deleted
		}
		out.Changes = append(out.Changes, c)
		last = it.usn
	}
	if !out.More {
		last = d.usn
	}
	out.Watermark = dirFormatWatermark(last)
	return out, nil
}

const dirWatermarkPrefix = "memdir1."

func dirFormatWatermark(usn uint64) string {
	return dirWatermarkPrefix + strconv.FormatUint(usn, 36)
}

func dirParseWatermark(eop, w string) (uint64, error) {
	rest, ok := strings.CutPrefix(w, dirWatermarkPrefix)
	if !ok || rest == "" {
		return 0, backend.Invalid(eop, w, backend.ReasonWatermark, "the watermark is malformed")
	}
	n, err := strconv.ParseUint(rest, 36, 64)
	if err != nil {
		return 0, backend.Invalid(eop, w, backend.ReasonWatermark, "the watermark is malformed")
	}
	return n, nil
}
