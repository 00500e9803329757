package adldap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"iter"
	"net"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/essentials365/sdk/essentials365/backend"
)

// The listing path. ListUsers reads thousands of entries; through go-ldap
// each costs about 300 allocations, five times ldapsearch's CPU. It runs
// instead on a connection of its own that speaks the few LDAP operations a
// listing needs (StartTLS, simple bind, paged search, unbind) through the
// codec of wire.go, and builds each user from one string holding the
// entry. Requests are encoded with go-ldap's filter compiler and paging
// control; the server's errors become *ldap.Error values, classified like
// every other error of the driver.

// listConn is a bound connection of the listing path.
type listConn struct {
	s   *settings
	nc  net.Conn
	r   *bufio.Reader
	buf []byte // the last message read
	id  int64  // the last message ID sent
	// inv is the DC's invocationId once read (it stays the same for the
	// life of a connection).
	inv string
}

// alive reports whether the server has not closed an idle connection: it
// has sent nothing (a notice of disconnection, or the end of the stream)
// since the last answer. It waits a millisecond at most (a deadline
// already passed would not read at all).
func (c *listConn) alive() bool {
	_ = c.nc.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := c.r.Peek(1)
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialList connects, sets up TLS and binds as the driver's user.
func dialList(ctx context.Context, s *settings) (*listConn, error) {
	dctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	c := &listConn{s: s, nc: nc}
	stop := context.AfterFunc(dctx, func() { _ = c.nc.Close() })
	defer stop()
	if err := c.setup(dctx); err != nil {
		_ = c.nc.Close()
		if dctx.Err() != nil {
			return nil, errors.Join(dctx.Err(), err)
		}
		return nil, err
	}
	return c, nil
}

func (c *listConn) setup(ctx context.Context) error {
	_ = c.nc.SetDeadline(time.Now().Add(requestTimeout(ctx, c.s)))
	if c.s.useTLS {
		tc := tls.Client(c.nc, c.s.tlsConfig.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		c.nc = tc
	}
	c.r = bufio.NewReaderSize(c.nc, 64<<10)
	if c.s.startTLS {
		if err := c.startTLS(ctx); err != nil {
			return err
		}
	}
	if c.s.messages != nil {
		c.nc = countingConn{c.nc, c.s.messages}
	}
	op := appendTLV(nil, tagBindRequest,
		appendTLV(nil, tagInteger, berInt(3)),
		appendTLV(nil, tagOctetString, []byte(c.s.user)),
		appendTLV(nil, tagSimpleAuth, []byte(c.s.password)))
	if err := c.send(op, nil); err != nil {
		return err
	}
	return c.result(tagBindResponse)
}

// startTLS runs the StartTLS extended operation and the handshake,
// verifying the certificate as [startTLSConfig] does.
func (c *listConn) startTLS(ctx context.Context) error {
	op := appendTLV(nil, tagExtendedRequest, appendTLV(nil, tagExtendedName, []byte("1.3.6.1.4.1.1466.20037")))
	if err := c.send(op, nil); err != nil {
		return err
	}
	if err := c.result(tagExtendedResponse); err != nil {
		return err
	}
	var verifyErr error
	tc := tls.Client(c.nc, startTLSConfig(c.s.tlsConfig, &verifyErr))
	if err := tc.HandshakeContext(ctx); err != nil {
		if verifyErr != nil {
			return verifyErr
		}
		return err
	}
	c.nc = tc
	c.r = bufio.NewReaderSize(c.nc, 64<<10)
	return nil
}

// send writes an LDAP message with the next message ID.
func (c *listConn) send(op, controls []byte) error {
	c.id++
	var msg []byte
	if controls != nil {
		msg = appendTLV(nil, tagSequence, appendTLV(nil, tagInteger, berInt(c.id)), op, appendTLV(nil, tagControls, controls))
	} else {
		msg = appendTLV(nil, tagSequence, appendTLV(nil, tagInteger, berInt(c.id)), op)
	}
	if _, err := c.nc.Write(msg); err != nil {
		return ldap.NewError(ldap.ErrorNetwork, err)
	}
	return nil
}

// read reads the next message answering the last request and returns its
// protocol operation's tag and content, and its controls.
func (c *listConn) read() (tag byte, content, controls []byte, err error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.s.timeout))
	var msg []byte
	msg, c.buf, err = readMessage(c.r, c.buf)
	if err != nil {
		return 0, nil, nil, ldap.NewError(ldap.ErrorNetwork, err)
	}
	idb, rest, err := expect(msg, tagInteger)
	if err != nil {
		return 0, nil, nil, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
	}
	id, err := parseInt(idb)
	if err != nil {
		return 0, nil, nil, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
	}
	tag, content, rest, err = next(rest)
	if err != nil {
		return 0, nil, nil, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
	}
	if id != c.id {
		// Message ID 0 is the server's notice of disconnection.
		return 0, nil, nil, ldap.NewError(ldap.ErrorNetwork, errors.New("adldap: the server ended the connection"))
	}
	if len(rest) > 0 {
		if controls, _, err = expect(rest, tagControls); err != nil {
			return 0, nil, nil, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
		}
	}
	return tag, content, controls, nil
}

// result reads a response of type want and returns its LDAPResult as an
// error (nil for success).
func (c *listConn) result(want byte) error {
	tag, content, _, err := c.read()
	if err != nil {
		return err
	}
	if tag != want {
		return ldap.NewError(ldap.ErrorUnexpectedResponse, errMalformed)
	}
	return ldapResult(content)
}

// ldapResult turns an LDAPResult into nil or an *ldap.Error carrying the
// result code and the server's diagnostic message.
func ldapResult(content []byte) error {
	codeb, rest, err := expect(content, tagEnumerated)
	if err != nil {
		return ldap.NewError(ldap.ErrorUnexpectedResponse, err)
	}
	code, err := parseInt(codeb)
	if err != nil {
		return ldap.NewError(ldap.ErrorUnexpectedResponse, err)
	}
	if code == ldap.LDAPResultSuccess {
		return nil
	}
	_, rest, _ = expect(rest, tagOctetString) // matchedDN
	diag, _, _ := expect(rest, tagOctetString)
	return ldap.NewError(uint16(code), errors.New(string(diag)))
}

// search runs a search and calls each with the content of every entry
// (valid until each returns) until each returns false or an error. With
// pageSize above 0 the search is paged (subtree searches); controls are
// extra encoded controls sent with every request. When each stops, the
// rest of the page is read and a paged search is abandoned, so the
// connection stays usable; each's error is returned.
func (c *listConn) search(base string, scope int, filter string, attrs []string, controls []byte, pageSize uint32,
	each func(entry []byte) (bool, error)) error {
	fp, err := ldap.CompileFilter(filter)
	if err != nil {
		return err
	}
	var attrList []byte
	for _, a := range attrs {
		attrList = appendTLV(attrList, tagOctetString, []byte(a))
	}
	op := appendTLV(nil, tagSearchRequest,
		appendTLV(nil, tagOctetString, []byte(base)),
		appendTLV(nil, tagEnumerated, berInt(int64(scope))),
		appendTLV(nil, tagEnumerated, berInt(int64(ldap.NeverDerefAliases))),
		appendTLV(nil, tagInteger, berInt(0)),
		appendTLV(nil, tagInteger, berInt(0)),
		appendTLV(nil, tagBoolean, []byte{0}),
		fp.Bytes(),
		appendTLV(nil, tagSequence, attrList))
	var paging *ldap.ControlPaging
	if pageSize > 0 {
		paging = ldap.NewControlPaging(pageSize)
	}
	var stopErr error
	stopped := false
	for {
		ctrls := controls
		if paging != nil {
			ctrls = append(append([]byte(nil), controls...), paging.Encode().Bytes()...)
		}
		if err := c.send(op, ctrls); err != nil {
			return err
		}
		cookie, err := c.page(func(entry []byte) {
			if stopped {
				return
			}
			more, err := each(entry)
			if err != nil || !more {
				stopped, stopErr = true, err
			}
		})
		if err != nil {
			return err
		}
		if len(cookie) == 0 || paging == nil {
			return stopErr
		}
		paging.SetCookie(cookie)
		if stopped {
			// Tell the server to drop the paged search (size 0).
			paging.PagingSize = 0
			if err := c.send(op, append(append([]byte(nil), controls...), paging.Encode().Bytes()...)); err != nil {
				return err
			}
			if _, err := c.page(func([]byte) {}); err != nil {
				return err
			}
			return stopErr
		}
	}
}

// page reads the answers to one search request, calling entry for every
// entry, and returns the paged-results cookie of its end.
func (c *listConn) page(entry func([]byte)) ([]byte, error) {
	for {
		tag, content, controls, err := c.read()
		if err != nil {
			return nil, err
		}
		switch tag {
		case tagSearchEntry:
			entry(content)
		case tagSearchReference:
			// Continuation references point at other partitions.
		case tagSearchDone:
			if err := ldapResult(content); err != nil {
				return nil, err
			}
			cookie, err := pagingCookie(controls)
			if err != nil {
				return nil, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
			}
			return cookie, nil
		default:
			return nil, ldap.NewError(ldap.ErrorUnexpectedResponse, errMalformed)
		}
	}
}

// pagingCookie finds the paged-results control among a response's
// controls and returns its cookie (empty when the search is over).
func pagingCookie(controls []byte) ([]byte, error) {
	for len(controls) > 0 {
		ctrl, rest, err := expect(controls, tagSequence)
		if err != nil {
			return nil, err
		}
		controls = rest
		oid, ctrl, err := expect(ctrl, tagOctetString)
		if err != nil {
			return nil, err
		}
		if string(oid) != ldap.ControlTypePaging {
			continue
		}
		if t, _, r, err := next(ctrl); err == nil && t == tagBoolean {
			ctrl = r // criticality
		}
		value, _, err := expect(ctrl, tagOctetString)
		if err != nil {
			return nil, err
		}
		seq, _, err := expect(value, tagSequence)
		if err != nil {
			return nil, err
		}
		_, seq, err = expect(seq, tagInteger)
		if err != nil {
			return nil, err
		}
		cookie, _, err := expect(seq, tagOctetString)
		return cookie, err
	}
	return nil, nil
}

// close unbinds and closes the connection.
func (c *listConn) close() {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.id++
	_, _ = c.nc.Write(appendTLV(nil, tagSequence, appendTLV(nil, tagInteger, berInt(c.id)), []byte{tagUnbindRequest, 0}))
	_ = c.nc.Close()
}

// ListUsers streams the domain's user accounts (sAMAccountType
// SAM_NORMAL_USER_ACCOUNT) except critical system objects (Administrator,
// Guest, krbtgt), a page at a time with the simple paged results control,
// on a connection of the listing path held while the caller iterates.
func (d *Directory) ListUsers(ctx context.Context) iter.Seq2[backend.DirectoryUser, error] {
	const op = backend.OpDirectoryListUsers
	return func(yield func(backend.DirectoryUser, error) bool) {
		stopped := false
		err := d.doList(ctx, op, "", func(c *listConn) error {
			return c.search(d.baseDN, ldap.ScopeWholeSubtree, listFilter, d.attrs, nil, d.s.pageSize, func(entry []byte) (bool, error) {
				// A caller that cancels while iterating gets Canceled at
				// the next entry, not the rest of the page or the next
				// pages (the connection's close on ctx.Done races with a
				// request already under way).
				if err := backend.CtxErr(ctx, op); err != nil {
					return false, err
				}
				a, err := d.entryAttrs(entry)
				if err != nil {
					return false, err
				}
				u, err := a.user()
				if err != nil {
					return false, err
				}
				if !yield(u, nil) {
					stopped = true
					return false, nil
				}
				return true, nil
			})
		})
		if err != nil && !stopped {
			yield(backend.DirectoryUser{}, err)
		}
	}
}

// doList runs fn on a connection of the listing path, as do does on
// go-ldap's: closed when ctx is done during the call, dropped after a
// transport failure, errors classified.
func (d *Directory) doList(ctx context.Context, op, key string, fn func(c *listConn) error) error {
	return withConn(ctx, op, key, d.pool.getList, func(c *listConn) { _ = c.nc.Close() }, d.pool.putList, fn)
}

// entryAttrs reads the user attributes of the content of a
// SearchResultEntry. Its strings share one allocation: the entry
// converted once.
func (d *Directory) entryAttrs(entry []byte) (userAttrs, error) {
	s := string(entry)
	str := func(b []byte) string {
		off := cap(entry) - cap(b)
		return s[off : off+len(b)]
	}
	dn, rest, err := expect(entry, tagOctetString)
	if err != nil {
		return userAttrs{}, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
	}
	list, _, err := expect(rest, tagSequence)
	if err != nil {
		return userAttrs{}, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
	}
	a := userAttrs{dn: str(dn)}
	for len(list) > 0 {
		var attr []byte
		if attr, list, err = expect(list, tagSequence); err != nil {
			return userAttrs{}, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
		}
		name, vals, err := expect(attr, tagOctetString)
		if err != nil {
			return userAttrs{}, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
		}
		set, _, err := expect(vals, tagSet)
		if err != nil {
			return userAttrs{}, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
		}
		if len(set) == 0 {
			continue
		}
		v, _, err := expect(set, tagOctetString)
		if err != nil {
			return userAttrs{}, ldap.NewError(ldap.ErrorUnexpectedResponse, err)
		}
		switch {
		case equalFoldASCII(name, "objectGUID"):
			a.guid = v
		case equalFoldASCII(name, "sAMAccountName"):
			a.sam = str(v)
		case equalFoldASCII(name, "userPrincipalName"):
			a.upn = str(v)
		case equalFoldASCII(name, "displayName"):
			a.displayName = str(v)
		case equalFoldASCII(name, "givenName"):
			a.givenName = str(v)
		case equalFoldASCII(name, "sn"):
			a.surname = str(v)
		case equalFoldASCII(name, "mail"):
			a.mail = str(v)
		case equalFoldASCII(name, "userAccountControl"):
			a.uac = parseDecimal(v)
		case equalFoldASCII(name, "pwdLastSet"):
			a.pwdLastSet = parseDecimal(v)
		case equalFoldASCII(name, d.s.mapping):
			a.online = str(v)
		case equalFoldASCII(name, "isDeleted"):
			a.deleted = equalFoldASCII(v, "TRUE")
		}
	}
	return a, nil
}

// entryValue returns the first value of the attribute name in the content
// of a SearchResultEntry, or nil.
func entryValue(entry []byte, name string) ([]byte, error) {
	_, rest, err := expect(entry, tagOctetString)
	if err != nil {
		return nil, err
	}
	list, _, err := expect(rest, tagSequence)
	if err != nil {
		return nil, err
	}
	for len(list) > 0 {
		var attr []byte
		if attr, list, err = expect(list, tagSequence); err != nil {
			return nil, err
		}
		n, vals, err := expect(attr, tagOctetString)
		if err != nil {
			return nil, err
		}
		if !equalFoldASCII(n, name) {
			continue
		}
		set, _, err := expect(vals, tagSet)
		if err != nil || len(set) == 0 {
			return nil, err
		}
		v, _, err := expect(set, tagOctetString)
		return v, err
	}
	return nil, nil
}
