package adldap

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
	"github.com/essentials365/sdk/internal/sambatest"
)

// openCounting opens the driver on the test DC with one connection whose
// requests are counted.
func openCounting(t *testing.T, pageSize int) (*Directory, *atomic.Int64) {
	t.Helper()
	dc := sambatest.Settings(t)
	s, err := (&Config{URL: dc.URL, User: dc.User, Password: dc.Password, BaseDN: dc.BaseDN, CAFile: dc.CAFile,
		PageSize: pageSize, MaxConns: 1, Timeout: 20 * time.Second}).settings()
	require.NoError(t, err)
	var n atomic.Int64
	s.messages = &n
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Open with the counting settings: the same steps as Open.
	d, err := openSettings(ctx, s, dc.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d, &n
}

// TestChangesRequests counts the LDAP requests of change tracking on a
// connection already used: a run is the rootDSE and one search (users and
// tombstones together), the invocationId being read once per connection.
func TestChangesRequests(t *testing.T) {
	d, n := openCounting(t, 500)
	ctx := t.Context()
	var created []backend.GUID
	t.Cleanup(func() {
		for _, id := range created {
			_ = d.DeleteUser(context.Background(), id)
		}
	})
	first, err := d.Changes(ctx, "")
	require.NoError(t, err)
	for first.More {
		first, err = d.Changes(ctx, first.Watermark)
		require.NoError(t, err)
	}
	sam := fmt.Sprintf("e365rq%d", time.Now().UnixNano()%1e8)
	u, err := d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: sam, Password: "Vq9#rT2!wK"})
	require.NoError(t, err)
	created = append(created, u.ID)

	before := n.Load()
	next, err := d.Changes(ctx, first.Watermark)
	require.NoError(t, err)
	assert.False(t, next.More)
	assert.Equal(t, int64(2), n.Load()-before, "an incremental run costs the rootDSE and one search")
	// The DC may be shared with other tests: look at this test's user.
	c, ok := changeOf(next, u.ID)
	require.True(t, ok, "the new user is reported")
	assert.Equal(t, backend.Upserted, c.Type)

	require.NoError(t, d.DeleteUser(ctx, u.ID))
	created = nil
	before = n.Load()
	last, err := d.Changes(ctx, next.Watermark)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n.Load()-before, "deletions come in the same search")
	c, ok = changeOf(last, u.ID)
	require.True(t, ok, "the deletion is reported")
	assert.Equal(t, backend.Deleted, c.Type)
	assert.Equal(t, sam, c.User.SAMAccountName)
}

// changeOf finds the change of user id.
func changeOf(ch backend.DirectoryChanges, id backend.GUID) (backend.DirectoryChange, bool) {
	for _, c := range ch.Changes {
		if c.User.ID == id {
			return c, true
		}
	}
	return backend.DirectoryChange{}, false
}

// TestChangesInParts lists the domain with small pages (25 users), so that
// the empty watermark's run comes in several parts, and checks that every user comes
// exactly once and that the run ends on a watermark that follows on.
func TestChangesInParts(t *testing.T) {
	const pageSize = 25
	d, _ := openCounting(t, pageSize)
	ctx := t.Context()
	// The DC may be shared with other tests: check this test's users.
	want := map[backend.GUID]bool{}
	for i := range 3 * pageSize {
		sam := fmt.Sprintf("e365pt%d%d", time.Now().UnixNano()%1e7, i)
		u, err := d.CreateUser(ctx, backend.NewDirectoryUser{SAMAccountName: sam, Password: "Vq9#rT2!wK"})
		require.NoError(t, err)
		t.Cleanup(func() { _ = d.DeleteUser(context.Background(), u.ID) })
		want[u.ID] = true
	}
	got := map[backend.GUID]int{}
	wm, parts := "", 0
	for {
		ch, err := d.Changes(ctx, wm)
		require.NoError(t, err)
		parts++
		require.Less(t, parts, 100000)
		assert.LessOrEqual(t, len(ch.Changes), maxAnswerPages*pageSize, "a part holds at most a few pages")
		for _, c := range ch.Changes {
			assert.Equal(t, backend.Upserted, c.Type)
			got[c.User.ID]++
		}
		wm = ch.Watermark
		if !ch.More {
			break
		}
	}
	t.Logf("%d users in %d parts", len(got), parts)
	assert.Greater(t, parts, 1)
	for id := range want {
		assert.Equal(t, 1, got[id], "user %v listed once", id)
	}
	w, err := parseWatermark("test", wm)
	require.NoError(t, err)
	assert.Zero(t, w.high, "the run ended on a complete watermark")
	ch, err := d.Changes(ctx, wm)
	require.NoError(t, err)
	assert.False(t, ch.More)
}
