package dnsrecords

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Format is an output format of Render.
type Format string

// The formats.
const (
	// FormatText is the Essentials-style NewDNSRecords file: one readable
	// block per record.
	FormatText Format = "text"
	// FormatZone is a BIND zone-file fragment with the explanations as
	// comments; github.com/miekg/dns parses it back to the same records.
	FormatZone Format = "zone"
	// FormatCSV has one row per record and a header row.
	FormatCSV Format = "csv"
	// FormatJSON is one JSON document with the domain, records and warnings.
	FormatJSON Format = "json"
)

// Formats returns every format.
func Formats() []Format { return []Format{FormatText, FormatZone, FormatCSV, FormatJSON} }

// ParseFormat returns the format with the given name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if strings.EqualFold(strings.TrimSpace(s), string(f)) {
			return f, nil
		}
	}
	return "", invalid(opRender, s, ReasonOption, "unknown format; want text, zone, csv or json")
}

// Render writes the set to w in format f.
func (s *RecordSet) Render(w io.Writer, f Format) error {
	bw := bufio.NewWriter(w)
	var err error
	switch f {
	case FormatText:
		err = s.renderText(bw)
	case FormatZone:
		err = s.renderZone(bw)
	case FormatCSV:
		err = s.renderCSV(bw)
	case FormatJSON:
		err = s.renderJSON(bw)
	default:
		return invalid(opRender, string(f), ReasonOption, "unknown format; want text, zone, csv or json")
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

func (s *RecordSet) domainTitle() string {
	if s.Domain.Unicode != "" && s.Domain.Unicode != s.Domain.Name {
		return fmt.Sprintf("%s (%s)", s.Domain.Name, s.Domain.Unicode)
	}
	return s.Domain.Name
}

func requirement(r Record) string {
	if r.Optional {
		return "optional"
	}
	return "required"
}

func sourceText(r Record) string {
	switch r.Source {
	case SourceTenant:
		return "value from the tenant"
	case SourceDocumented:
		return "value documented by Microsoft"
	case SourceDerived:
		if r.Placeholder {
			return "UNVERIFIED: placeholder, replace with the tenant's value"
		}
		return "UNVERIFIED: derived from the domain name, confirm in the admin center"
	}
	return string(r.Source)
}

func ttlText(ttl uint32) string {
	switch {
	case ttl%3600 == 0 && ttl > 0:
		h := ttl / 3600
		if h == 1 {
			return "3600 (1 hour)"
		}
		return fmt.Sprintf("%d (%d hours)", ttl, h)
	case ttl%60 == 0 && ttl > 0:
		return fmt.Sprintf("%d (%d minutes)", ttl, ttl/60)
	}
	return fmt.Sprintf("%d seconds", ttl)
}

// wrap writes label then value, wrapped at width; continuation lines are
// indented under the value.
func wrap(w *bufio.Writer, label, value string, width int) {
	w.WriteString(label)
	col, first := len(label), true
	for word := range strings.FieldsSeq(value) {
		switch {
		case first:
		case col+1+len(word) > width:
			w.WriteByte('\n')
			for range len(label) {
				w.WriteByte(' ')
			}
			col = len(label)
		default:
			w.WriteByte(' ')
			col++
		}
		w.WriteString(word)
		col += len(word)
		first = false
	}
	w.WriteByte('\n')
}

func (s *RecordSet) renderText(w *bufio.Writer) error {
	title := "DNS records to add for " + s.domainTitle()
	fmt.Fprintln(w, title)
	fmt.Fprintln(w, strings.Repeat("=", len([]rune(title))))
	fmt.Fprintln(w)
	wrap(w, "", "Add these records at the DNS host of the domain to use it with Microsoft 365. "+
		"DNS hosts name the fields differently; ask yours if in doubt. "+
		"Values marked UNVERIFIED were derived from the domain name: confirm them in the Microsoft 365 admin center "+
		"(Settings > Domains) before publishing them.", 78)
	if len(s.Warnings) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Notes:")
		for _, n := range s.Warnings {
			wrap(w, "  - ", n, 78)
		}
	}
	const pad = "  %-12s"
	field := func(name, value string) {
		label := "  " + name + ":"
		label += strings.Repeat(" ", 14-len(label))
		wrap(w, label, value, 78)
	}
	for i, r := range s.Records {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Record %d of %d: %s (%s)\n", i+1, len(s.Records), r.Service.label(), requirement(r))
		field("Type", string(r.Type))
		field("Host", fmt.Sprintf("%s (%s)", r.Host(s.Domain.Name), r.Name))
		switch r.Type {
		case TypeMX:
			field("Value", r.Exchange)
			field("Priority", strconv.Itoa(int(r.Preference)))
		case TypeTXT:
			fmt.Fprintf(w, pad+"%s\n", "Value:", r.Text)
		case TypeCNAME:
			field("Value", r.Target)
		case TypeSRV:
			field("Value", r.Target)
			field("Priority", strconv.Itoa(int(r.Priority)))
			field("Weight", strconv.Itoa(int(r.Weight)))
			field("Port", strconv.Itoa(int(r.Port)))
		}
		field("TTL", ttlText(r.TTL))
		field("Purpose", r.Explanation.Purpose)
		field("Without it", r.Explanation.WithoutIt)
		for _, warn := range r.Explanation.Warnings {
			field("Warning", warn)
		}
		field("Source", sourceText(r))
	}
	return nil
}

func (s *RecordSet) renderZone(w *bufio.Writer) error {
	fmt.Fprintf(w, "; Microsoft 365 DNS records for %s\n", s.domainTitle())
	fmt.Fprintln(w, "; Lines marked UNVERIFIED hold values derived from the domain name: confirm them")
	fmt.Fprintln(w, "; in the Microsoft 365 admin center before importing this fragment.")
	for _, n := range s.Warnings {
		fmt.Fprintf(w, "; Note: %s\n", oneLine(n))
	}
	fmt.Fprintf(w, "$ORIGIN %s.\n", s.Domain.Name)
	for _, r := range s.Records {
		rr, err := r.RR()
		if err != nil {
			return err
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "; %s, %s: %s\n", r.Service.label(), requirement(r), oneLine(r.Explanation.Purpose))
		if r.Source == SourceDerived {
			fmt.Fprintf(w, "; %s\n", sourceText(r))
		}
		fmt.Fprintln(w, rr.String())
	}
	return nil
}

// oneLine makes s safe inside a zone-file comment.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (s *RecordSet) renderCSV(w *bufio.Writer) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"Type", "Host", "Name", "Value", "Priority", "Weight", "Port", "TTL", "Service", "Optional", "Source", "Purpose"}}
	for _, r := range s.Records {
		var prio, weight, port string
		switch r.Type {
		case TypeMX:
			prio = strconv.Itoa(int(r.Preference))
		case TypeSRV:
			prio, weight, port = strconv.Itoa(int(r.Priority)), strconv.Itoa(int(r.Weight)), strconv.Itoa(int(r.Port))
		}
		rows = append(rows, []string{string(r.Type), r.Host(s.Domain.Name), r.Name, r.Value(), prio, weight, port,
			strconv.FormatUint(uint64(r.TTL), 10), string(r.Service), strconv.FormatBool(r.Optional), string(r.Source), r.Explanation.Purpose})
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

type jsonDoc struct {
	Domain   string       `json:"domain"`
	Unicode  string       `json:"unicode,omitempty"`
	Records  []jsonRecord `json:"records"`
	Warnings []string     `json:"warnings,omitempty"`
}

type jsonRecord struct {
	Role        Role     `json:"role"`
	Name        string   `json:"name"`
	Host        string   `json:"host"`
	Type        Type     `json:"type"`
	TTL         uint32   `json:"ttl"`
	Preference  *uint16  `json:"preference,omitempty"`
	Exchange    string   `json:"exchange,omitempty"`
	Text        string   `json:"text,omitempty"`
	Target      string   `json:"target,omitempty"`
	Priority    *uint16  `json:"priority,omitempty"`
	Weight      *uint16  `json:"weight,omitempty"`
	Port        *uint16  `json:"port,omitempty"`
	Service     Service  `json:"service"`
	Optional    bool     `json:"optional"`
	Source      Source   `json:"source"`
	Unverified  bool     `json:"unverified"`
	Placeholder bool     `json:"placeholder,omitempty"`
	Purpose     string   `json:"purpose"`
	WithoutIt   string   `json:"withoutIt"`
	Warnings    []string `json:"warnings,omitempty"`
}

func (s *RecordSet) renderJSON(w *bufio.Writer) error {
	doc := jsonDoc{Domain: s.Domain.Name, Records: []jsonRecord{}, Warnings: s.Warnings}
	if s.Domain.Unicode != s.Domain.Name {
		doc.Unicode = s.Domain.Unicode
	}
	for _, r := range s.Records {
		jr := jsonRecord{Role: r.Role, Name: r.Name, Host: r.Host(s.Domain.Name), Type: r.Type, TTL: r.TTL,
			Service: r.Service, Optional: r.Optional, Source: r.Source, Unverified: r.Unverified(), Placeholder: r.Placeholder,
			Purpose: r.Explanation.Purpose, WithoutIt: r.Explanation.WithoutIt, Warnings: r.Explanation.Warnings}
		switch r.Type {
		case TypeMX:
			jr.Preference, jr.Exchange = ptr(r.Preference), r.Exchange
		case TypeTXT:
			jr.Text = r.Text
		case TypeCNAME:
			jr.Target = r.Target
		case TypeSRV:
			jr.Priority, jr.Weight, jr.Port, jr.Target = ptr(r.Priority), ptr(r.Weight), ptr(r.Port), r.Target
		}
		doc.Records = append(doc.Records, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func ptr[T any](v T) *T { return &v }
