package m365emulator

// The Exchange side of the emulator: Exchange Online's admin REST
// endpoint, POST /adminapi/beta/{tenant}/InvokeCommand, over a
// backend.Exchange (Options.Exchange). Every shape below cites where it
// comes from; "[real]" marks a shape seen in a captured answer of the
// service, "[client]" one that public clients (the Exchange Online
// PowerShell module, ExoHelper, CIPP) send or parse, "[emulator]" a choice
// of this emulator where no source was found.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/essentials365/sdk/essentials365/backend"
)

// exchangePrefix is the path of Exchange Online's admin REST endpoint
// [real: captured Get-Mailbox request, host outlook.office.com and
// outlook.office365.com].
const exchangePrefix = "/adminapi/beta/"

// Exchange's answer headers and envelope constants [real: captured
// Get-Mailbox answer, May 2024].
const (
	exoRateLimit     = 30000
	exoAnnotationCol = "#Collection(String)"
	// exoExceptionNotFound is the exception Exchange raises for an
	// unknown identity; Ex6F9304 is the id seen for it across cmdlets
	// [real: Remove-Mailbox error body; Microsoft Q&A 1029077].
	exoExceptionNotFound = "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
	// exoExceptionMemberExists [client: CIPP matches it].
	exoExceptionMemberExists = "|Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException"
	// The following exception types are [emulator] choices: the names
	// Exchange's task framework uses, not seen in a captured answer.
	exoExceptionMemberMissing = "|Microsoft.Exchange.Management.Tasks.MemberNotFoundException"
	exoExceptionProxyExists   = "|Microsoft.Exchange.Data.Directory.ProxyAddressExistsException"
	exoExceptionObjectExists  = "|Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException"
	exoExceptionTask          = "|Microsoft.Exchange.Configuration.Tasks.RecipientTaskException"
	exoExceptionBinding       = "|System.Management.Automation.ParameterBindingException"
	exoExceptionDenied        = "|Microsoft.Exchange.Configuration.Tasks.CmdletAccessDeniedException"
	// exoMsgConcurrency is the text ExoHelper retries on [client].
	exoMsgConcurrency = "You have reached the maximum number of concurrent requests per tenant. Please wait and try again"
)

// exoRequest is one InvokeCommand call.
type exoRequest struct {
	req    *request
	tenant string
	cmdlet string
	params map[string]json.RawMessage
	// base is the absolute InvokeCommand URL without query.
	base string
	// skip is the $skiptoken offset of a later page.
	skip     int
	pageSize int
}

// exoError is an Exchange error answer in the making.
type exoError struct {
	status    int
	code      string
	exception string // "<ExId>|<Exception.Type>"
	text      string
	reason    backend.Reason
	retry     time.Duration
	throttled bool
}

// serveExchange serves one InvokeCommand request.
func (s *Server) serveExchange(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	req := &request{method: r.Method, header: r.Header, rawQuery: r.URL.RawQuery, requestID: newRequestID(), clientID: r.Header.Get("client-request-id")}
	if req.clientID == "" {
		req.clientID = req.requestID
	}
	status, header, body := s.exchangeAnswer(r, req)
	h := w.Header()
	for k, vs := range header {
		h[k] = vs
	}
	h.Set("request-id", req.requestID)
	h.Set("client-request-id", req.clientID)
	// [real] quota headers of every answer; the window is not documented.
	h.Set("Rate-Limit-Limit", strconv.Itoa(exoRateLimit))
	h.Set("Rate-Limit-Remaining", strconv.FormatInt(max(0, exoRateLimit-s.requests.Load()), 10))
	h.Set("Rate-Limit-Reset", s.now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05.000Z"))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h.Set("Content-Type", jsonContentType) // [real] same media type as Graph
	h.Set("OData-Version", "4.0")          // [real]
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	s.log.Debug("m365emulator: exchange request", "status", status, "path", r.URL.Path)
}

// exchangeAnswer routes, authenticates, decodes and runs the cmdlet.
func (s *Server) exchangeAnswer(r *http.Request, req *request) (int, http.Header, any) {
	rest := strings.TrimPrefix(r.URL.Path, exchangePrefix)
	tenant, action, ok := strings.Cut(rest, "/")
	if !ok || action != "InvokeCommand" || tenant == "" {
		return s.exoFail(exoError{status: http.StatusNotFound, code: "NotFound", text: "The emulator serves only /adminapi/beta/{tenant}/InvokeCommand."})
	}
	s.countRoute("POST /adminapi/beta/{tenant}/InvokeCommand")
	if r.Method != http.MethodPost {
		return s.exoFail(exoError{status: http.StatusMethodNotAllowed, code: "MethodNotAllowed", text: "InvokeCommand takes POST."})
	}
	token, hasToken := bearer(r.Header.Get("Authorization"))
	if (s.opts.RequireAuth || s.opts.Token != "") && !hasToken || s.opts.Token != "" && token != s.opts.Token {
		return s.exoFail(exoError{status: http.StatusUnauthorized, code: "Unauthorized", text: "The access token is missing or invalid."})
	}
	if s.opts.Exchange == nil {
		// [emulator] a tenant without Exchange Online.
		return s.exoFail(exoError{status: http.StatusNotFound, code: "NotFound", exception: exoExceptionTask,
			text: "The tenant has no Exchange Online organization: it needs a subscription that includes Exchange Online."})
	}
	if !s.exoKnownTenant(r.Context(), tenant) {
		return s.exoFail(exoError{status: http.StatusNotFound, code: "NotFound", text: fmt.Sprintf("Tenant '%s' was not found.", tenant)})
	}
	body, resp := s.readBody(r, req)
	if resp != nil {
		return s.exoFail(exoError{status: resp.status, code: "BadRequest", text: "The request body could not be read."})
	}
	var in struct {
		CmdletInput struct {
			CmdletName string                     `json:"CmdletName"`
			Parameters map[string]json.RawMessage `json:"Parameters"`
		} `json:"CmdletInput"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.CmdletInput.CmdletName == "" {
		return s.exoFail(exoError{status: http.StatusBadRequest, code: "BadRequest", text: "The body must be {\"CmdletInput\":{\"CmdletName\":...,\"Parameters\":{...}}}."})
	}
	er := &exoRequest{
		req: req, tenant: tenant, cmdlet: in.CmdletInput.CmdletName, params: in.CmdletInput.Parameters,
		base: baseURL(r)[:len(baseURL(r))-len("/v1.0")] + r.URL.Path, pageSize: exoPageSize(r.Header.Get("Prefer")),
	}
	if er.params == nil {
		er.params = map[string]json.RawMessage{}
	}
	if v := r.URL.Query().Get("$skiptoken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s.exoFail(exoError{status: http.StatusBadRequest, code: "BadRequest", text: "The $skiptoken is not one this server issued."})
		}
		er.skip = n
	}
	values, next, xerr := s.runCmdlet(r.Context(), er)
	if xerr != nil {
		return s.exoFail(*xerr)
	}
	if values == nil {
		values = []map[string]any{}
	}
	// Envelope [real: captured Get-Mailbox answer].
	out := map[string]any{
		"@odata.context":               strings.TrimSuffix(er.base, "InvokeCommand") + "$metadata#Collection(Exchange.GenericHashTable)",
		"adminapi.warnings@odata.type": exoAnnotationCol,
		"@adminapi.warnings":           []string{},
		"value":                        values,
	}
	if next != "" {
		out["@odata.nextLink"] = next // [client] paging re-POSTs the same body to it
	}
	h := http.Header{}
	h.Set("Preference-Applied", `odata.include-annotations="*"`) // [real]
	return http.StatusOK, h, out
}

// exoKnownTenant accepts the tenant's id or any of its domains [real: the
// captured request used the initial domain].
func (s *Server) exoKnownTenant(ctx context.Context, tenant string) bool {
	org, err := s.tenant.Organization(ctx)
	if err == nil && strings.EqualFold(org.ID, tenant) {
		return true
	}
	doms, err := s.tenant.Domains(ctx)
	if err != nil {
		return false
	}
	for _, d := range doms {
		if strings.EqualFold(d.Name, tenant) {
			return true
		}
	}
	return false
}

// exoPageSize reads odata.maxpagesize from Prefer [client: the module sends
// "odata.maxpagesize=1000", CIPP "odata.maxpagesize = 1000;..."].
func exoPageSize(prefer string) int {
	for _, p := range strings.FieldsFunc(prefer, func(r rune) bool { return r == ',' || r == ';' }) {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return min(n, 1000)
			}
		}
	}
	return 1000
}

// exoFail builds an error answer in Exchange's shape [real: Remove-Mailbox
// error body]: details[].message is "<ExId>|<Exception.Type>|<text>", the
// generic "Error executing cmdlet" is in message, and innererror carries
// the OData exception. When the backend named a rule, a second detail
// carries it with target "essentials365.reason" [emulator extension;
// Exchange never sends it].
func (s *Server) exoFail(e exoError) (int, http.Header, any) {
	h := http.Header{}
	msg := "Error executing cmdlet"
	details := []map[string]string{}
	if e.exception != "" {
		details = append(details, map[string]string{"code": "Client", "target": "", "message": e.exception + "|" + e.text})
	} else {
		msg = e.text
	}
	if e.throttled {
		msg = exoMsgConcurrency
		h.Set("Retry-After", s.retryAfterHeader(e.retry))
	}
	if e.reason != "" {
		details = append(details, map[string]string{"code": string(e.reason), "target": ReasonTarget, "message": "emulator extension: the backend rule that failed"})
	}
	body := map[string]any{"error": map[string]any{
		"code": e.code, "message": msg, "details": details,
		"innererror": map[string]any{"message": msg, "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"},
	}}
	return e.status, h, body
}

// exoBackendError maps a backend error to Exchange's answer.
func exoBackendError(cmdlet string, err error) *exoError {
	text := plainMessage(err)
	e := &exoError{text: text, reason: backend.ReasonOf(err)}
	switch backend.KindOf(err) {
	case backend.NotFound:
		e.status, e.code, e.exception = http.StatusNotFound, "NotFound", exoExceptionNotFound
		if strings.Contains(text, "isn't a member") {
			e.exception = exoExceptionMemberMissing
		}
	case backend.AlreadyExists:
		e.status, e.code = http.StatusBadRequest, "BadRequest"
		switch {
		case strings.EqualFold(cmdlet, "Add-DistributionGroupMember"):
			e.exception = exoExceptionMemberExists
		case strings.Contains(strings.ToLower(text), "proxy address"):
			e.exception = exoExceptionProxyExists
		default:
			e.exception = exoExceptionObjectExists
		}
	case backend.InvalidArgument, backend.FailedPrecondition:
		e.status, e.code, e.exception = http.StatusBadRequest, "BadRequest", exoExceptionTask
	case backend.PermissionDenied:
		e.status, e.code, e.exception = http.StatusForbidden, "Forbidden", exoExceptionDenied
	case backend.Throttled:
		// [client] ExoHelper retries 429 and this text; the status of a
		// real throttled answer is not documented.
		e.status, e.code, e.throttled = http.StatusTooManyRequests, "TooManyRequests", true
		e.retry, _ = backend.RetryAfter(err)
	case backend.Canceled:
		e.status, e.code = http.StatusGatewayTimeout, "GatewayTimeout"
	case backend.Unimplemented:
		e.status, e.code, e.exception = http.StatusBadRequest, "BadRequest", exoExceptionBinding
	default:
		e.status, e.code = http.StatusServiceUnavailable, "ServiceUnavailable"
		e.retry = retryAfterOf(err)
	}
	return e
}

// exoParams reads a cmdlet's parameters, refusing any it does not know
// with PowerShell's parameter-binding error, as Exchange does.
type exoParams struct {
	cmdlet string
	raw    map[string]json.RawMessage
	err    *exoError
}

func (er *exoRequest) parameters(allowed ...string) *exoParams {
	p := &exoParams{cmdlet: er.cmdlet, raw: map[string]json.RawMessage{}}
	for k, v := range er.params {
		found := ""
		for _, a := range allowed {
			if strings.EqualFold(a, k) {
				found = a
			}
		}
		if found == "" {
			p.err = &exoError{status: http.StatusBadRequest, code: "BadRequest", exception: exoExceptionBinding,
				text: fmt.Sprintf("A parameter cannot be found that matches parameter name '%s'.", k)}
			return p
		}
		p.raw[found] = v
	}
	return p
}

func (p *exoParams) has(name string) bool { _, ok := p.raw[name]; return ok }

func (p *exoParams) bad(name, want string) {
	if p.err == nil {
		p.err = &exoError{status: http.StatusBadRequest, code: "BadRequest", exception: exoExceptionBinding,
			text: fmt.Sprintf("Cannot bind parameter '%s': %s expected.", name, want)}
	}
}

func (p *exoParams) str(name string) string {
	v, ok := p.raw[name]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		var list []string // a multi-valued property sent as a list
		if json.Unmarshal(v, &list) == nil {
			return strings.Join(list, "\n")
		}
		p.bad(name, "a string")
	}
	return s
}

func (p *exoParams) boolean(name string) (bool, bool) {
	v, ok := p.raw[name]
	if !ok {
		return false, false
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		p.bad(name, "true or false")
	}
	return b, true
}

func (p *exoParams) require(name string) string {
	s := p.str(name)
	if s == "" && p.err == nil {
		p.err = &exoError{status: http.StatusBadRequest, code: "BadRequest", exception: exoExceptionBinding,
			text: fmt.Sprintf("Cannot validate argument on parameter '%s'. The argument is null or empty.", name)}
	}
	return s
}

// hashtable decodes {"@odata.type":"#Exchange.GenericHashTable","Add":[...],
// "Remove":[...]} [client: CIPP, ExoHelper; CIPP writes "add" in lower
// case, so keys are case-insensitive; a single value may be a string].
func (p *exoParams) hashtable(name string) (add, remove []string) {
	v, ok := p.raw[name]
	if !ok {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		p.bad(name, "a #Exchange.GenericHashTable of Add and Remove")
		return nil, nil
	}
	for k, raw := range m {
		var vals []string
		if err := json.Unmarshal(raw, &vals); err != nil {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				if !strings.HasPrefix(k, "@") {
					p.bad(name, "Add and Remove lists of addresses")
				}
				continue
			}
			vals = []string{one}
		}
		switch {
		case strings.EqualFold(k, "Add"):
			add = append(add, vals...)
		case strings.EqualFold(k, "Remove"):
			remove = append(remove, vals...)
		case strings.HasPrefix(k, "@"):
		default:
			p.bad(name, "Add and Remove only")
		}
	}
	return add, remove
}
