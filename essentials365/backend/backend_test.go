package backend_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/essentials365/sdk/essentials365/backend"
)

func TestErrorKinds(t *testing.T) {
	cause := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
	err := backend.Wrap(cause, backend.NotFound, "directory: get user", "ann")
	require.ErrorIs(t, err, backend.ErrNotFound)
	assert.NotErrorIs(t, err, backend.ErrAlreadyExists)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe, "the driver's own error stays reachable")
	assert.Equal(t, `directory: get user ("ann"): open x: file does not exist`, err.Error())

	// The portable layer adds what it was doing and keeps kind and cause.
	outer := backend.WithOp(fmt.Errorf("context: %w", err), "accounts: status", "ann")
	require.ErrorIs(t, outer, backend.ErrNotFound)
	require.ErrorAs(t, outer, &pe)
	assert.Equal(t, backend.NotFound, backend.KindOf(outer))
	assert.Nil(t, backend.WithOp(nil, "x", "y"))
	assert.Nil(t, backend.Wrap(nil, backend.Unknown, "x", "y"))

	inv := backend.Invalid("accounts: add alias", "a b@contoso.com", backend.ReasonAliasSyntax, "%q is not allowed", " ")
	assert.Equal(t, backend.ReasonAliasSyntax, backend.ReasonOf(backend.WithOp(inv, "outer", "")))
	assert.Contains(t, inv.Error(), "[rule "+string(backend.ReasonAliasSyntax)+"]")

	th := &backend.Error{Kind: backend.Throttled, RetryAfter: 3 * time.Second}
	d, ok := backend.RetryAfter(backend.WithOp(th, "accounts: create", "ann"))
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, d)
	_, ok = backend.RetryAfter(inv)
	assert.False(t, ok)
	assert.True(t, backend.Retryable(th))
	assert.True(t, backend.Retryable(&backend.Error{Kind: backend.Unavailable}))
	assert.False(t, backend.Retryable(inv))

	for _, ce := range []error{context.Canceled, context.DeadlineExceeded} {
		assert.Equal(t, backend.Canceled, backend.KindOf(backend.Wrap(ce, backend.Unavailable, "op", "")), "a context error is Canceled")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, backend.CtxErr(ctx, "op"), backend.ErrCanceled)
	assert.Equal(t, backend.Unknown, backend.KindOf(errors.New("plain")))
	assert.Equal(t, "kind(42)", backend.Kind(42).String())
	for k := backend.NotFound; k <= backend.Canceled; k++ {
		require.ErrorIs(t, &backend.Error{Kind: k}, k.Sentinel(), k.String())
		assert.Equal(t, k, backend.KindOf(k.Sentinel()))
	}
	assert.Nil(t, backend.Unknown.Sentinel())
}

func TestGUIDByteOrder(t *testing.T) {
	// AD stores the first three fields little-endian.
	var g backend.GUID
	for i := range g {
		g[i] = byte(i + 1)
	}
	assert.Equal(t, "04030201-0605-0807-090a-0b0c0d0e0f10", g.String())
	assert.Equal(t, "AQIDBAUGBwgJCgsMDQ4PEA==", g.ImmutableID())
	back, err := backend.ParseGUID("{04030201-0605-0807-090A-0B0C0D0E0F10}")
	require.NoError(t, err)
	assert.Equal(t, g, back)
	fromImm, err := backend.GUIDFromImmutableID(g.ImmutableID())
	require.NoError(t, err)
	assert.Equal(t, g, fromImm)

	for _, bad := range []string{"", "not-a-guid", "04030201-0605-0807-090a-0b0c0d0e0f1g", "0403020106050807090a0b0c0d0e0f10"} {
		_, err := backend.ParseGUID(bad)
		require.ErrorIs(t, err, backend.ErrInvalidArgument, bad)
	}
	_, err = backend.GUIDFromImmutableID("c2hvcnQ=")
	require.ErrorIs(t, err, backend.ErrInvalidArgument)

	n := backend.NewGUID()
	assert.False(t, n.IsZero())
	assert.NotEqual(t, n, backend.NewGUID())
	p, err := backend.ParseGUID(n.String())
	require.NoError(t, err)
	assert.Equal(t, n, p)
}

func TestOnlineRules(t *testing.T) {
	passwords := []struct {
		pw string
		ok bool
	}{
		{"Abcdef1!", true}, {"abcdef12!", true}, {"ABCDEFGH12", false}, {"Abc1!", false}, {"abcdefgh", false},
	}
	for _, tc := range passwords {
		assert.Equal(t, tc.ok, backend.OnlinePasswordOK(tc.pw), tc.pw)
	}
	locals := []struct{ local, rule string }{
		{"ann", ""}, {"o'brien", ""}, {"a.b-c_d!e#f^g~h", ""}, {"", "syntax"}, {".ann", "syntax"}, {"an..n", "syntax"},
		{"ann.", "syntax"}, {"zoë", "characters"}, {"a b", "characters"}, {"a+b", "characters"},
	}
	for _, tc := range locals {
		assert.Equal(t, tc.rule, backend.OnlineLocalPartRule(tc.local), tc.local)
	}
}
