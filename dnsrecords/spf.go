package dnsrecords

import (
	"fmt"
	"slices"
	"strings"
)

// SPFInclude is the SPF mechanism that authorises Exchange Online to send
// mail for a domain.
const SPFInclude = "include:spf.protection.outlook.com"

// SPFLookupLimit is the number of DNS-querying terms an SPF evaluation may
// use (RFC 7208 §4.6.4); past it, receivers return permerror.
const SPFLookupLimit = 10

// SPFResult is the outcome of MergeSPF.
type SPFResult struct {
	// Record is the one merged SPF record to publish.
	Record string
	// Lookups counts the terms of Record that cost a DNS lookup (include,
	// a, mx, ptr, exists, redirect). Lookups made by included records are
	// not counted: the real total is higher.
	Lookups int
	// Merged is the number of existing SPF records found in the input.
	Merged int
	// Changed reports whether Record differs, other than in spacing, from the
	// single existing record: false means there is nothing to edit.
	Changed bool
	// Warnings are problems a person should look at.
	Warnings []string
}

// MergeSPF returns the single SPF record that keeps everything the existing
// records authorise and adds include. existing may hold every TXT value of
// the domain; values that are not SPF records (MS=…, google-site-verification=…)
// are ignored. Several existing SPF records (an error under RFC 7208) are
// merged into one. include defaults to SPFInclude.
//
// The existing policy (the all mechanism or the redirect modifier) is kept;
// with no existing record the result ends in -all, as Microsoft recommends.
func MergeSPF(existing []string, include string) (SPFResult, error) {
	if include == "" {
		include = SPFInclude
	}
	if !strings.HasPrefix(strings.ToLower(include), "include:") || strings.ContainsAny(include, " \t\"") {
		return SPFResult{}, invalid(opSPF, include, ReasonSPF, "the mechanism to add must look like include:domain")
	}
	var spfs []string
	for _, t := range existing {
		t = strings.TrimSpace(t)
		if isSPF(t) {
			spfs = append(spfs, t)
		}
	}
	res := SPFResult{Merged: len(spfs)}
	if len(spfs) == 0 {
		res.Record = "v=spf1 " + include + " -all"
		res.Lookups = 1
		res.Changed = true
		return res, nil
	}
	if len(spfs) > 1 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the domain publishes %d SPF records; receivers treat that as an error (permerror). They were merged into one: delete the others", len(spfs)))
	}
	st, warnings, err := collectSPFTerms(spfs, include)
	if err != nil {
		return SPFResult{}, err
	}
	res.Warnings = append(res.Warnings, warnings...)
	terms, warnings := st.policyTerms(include)
	res.Warnings = append(res.Warnings, warnings...)
	res.Record = "v=spf1 " + strings.Join(terms, " ")
	res.Lookups = spfLookups(res.Record)
	res.Changed = len(spfs) != 1 || res.Record != strings.Join(strings.Fields(spfs[0]), " ")
	if res.Lookups > SPFLookupLimit {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the merged SPF record needs %d DNS lookups before counting those of the included records; the limit is %d, past which receivers return permerror: remove includes or replace them with ip4:/ip6: ranges", res.Lookups, SPFLookupLimit))
	}
	return res, nil
}

// spfTerms are the terms of one or more SPF records, deduplicated, with
// the policy terms (all, redirect=, exp=) set apart: the first of each.
type spfTerms struct {
	terms              []string
	all, redirect, exp string
	hasInclude         bool
}

// collectSPFTerms reads the terms of the SPF records spfs (each starting
// with v=spf1), noting whether include is among them, with a warning for
// each unknown or deprecated term.
func collectSPFTerms(spfs []string, include string) (spfTerms, []string, error) {
	var (
		st              spfTerms
		warnings        []string
		seen            = map[string]bool{}
		unknownWarned   = map[string]bool{}
		includeLowerKey = strings.ToLower(include)
	)
	for _, rec := range spfs {
		for i, term := range strings.Fields(rec) {
			if i == 0 {
				continue // v=spf1
			}
			for j := 0; j < len(term); j++ {
				if term[j] < 0x21 || term[j] > 0x7e {
					return spfTerms{}, nil, invalid(opSPF, rec, ReasonSPF, "the SPF record contains a character that is not printable ASCII")
				}
			}
			lower := strings.ToLower(term)
			mech := strings.TrimLeft(lower, "+-~?")
			switch {
			case mech == "all":
				if st.all == "" {
					st.all = term
				}
				continue
			case strings.HasPrefix(mech, "redirect="):
				if st.redirect == "" {
					st.redirect = term
				}
				continue
			case strings.HasPrefix(mech, "exp="):
				if st.exp == "" {
					st.exp = term
				}
				continue
			}
			if !knownSPFTerm(mech) && !unknownWarned[mech] {
				unknownWarned[mech] = true
				warnings = append(warnings, fmt.Sprintf("unknown SPF term %q kept as is", term))
			}
			if mech == "ptr" || strings.HasPrefix(mech, "ptr:") {
				warnings = append(warnings, "the ptr mechanism is deprecated (RFC 7208 §5.5): remove it")
			}
			if seen[lower] {
				continue
			}
			seen[lower] = true
			if strings.TrimPrefix(lower, "+") == includeLowerKey {
				st.hasInclude = true
			}
			st.terms = append(st.terms, term)
		}
	}
	return st, warnings, nil
}

// policyTerms returns the merged record's terms after v=spf1: the
// mechanisms, include when missing, then the policy (all, else
// redirect=) and exp=, with a warning when the policy is dropped, lax or
// missing.
func (st spfTerms) policyTerms(include string) ([]string, []string) {
	terms := slices.Clone(st.terms)
	var warnings []string
	if !st.hasInclude {
		terms = append(terms, include)
	}
	switch {
	case st.all != "":
		terms = append(terms, st.all)
		if st.redirect != "" {
			warnings = append(warnings, "the existing SPF record had both all and redirect=; redirect= is ignored when all is present and was dropped")
		}
		if strings.TrimPrefix(st.all, "+") == "all" {
			warnings = append(warnings, "the SPF record ends in +all, which lets any server send mail for the domain: use -all")
		}
	case st.redirect != "":
		terms = append(terms, st.redirect)
	default:
		warnings = append(warnings, "the SPF record has no all mechanism, so mail from other servers gets a neutral result; Microsoft recommends ending it with -all")
	}
	if st.exp != "" {
		terms = append(terms, st.exp)
	}
	return terms, warnings
}

// isSPF reports whether a TXT value is an SPF record.
func isSPF(t string) bool {
	l := strings.ToLower(strings.TrimSpace(t))
	return l == "v=spf1" || strings.HasPrefix(l, "v=spf1 ")
}

func knownSPFTerm(mech string) bool {
	name := mech
	if i := strings.IndexAny(name, ":/"); i >= 0 {
		name = name[:i]
	}
	switch name {
	case "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists":
		return true
	}
	return false
}

// spfLookups counts the terms of an SPF record that cost a DNS lookup.
func spfLookups(rec string) int {
	n := 0
	for i, term := range strings.Fields(strings.ToLower(rec)) {
		if i == 0 {
			continue
		}
		mech := strings.TrimLeft(term, "+-~?")
		name := mech
		if j := strings.IndexAny(name, ":/="); j >= 0 {
			name = name[:j]
		}
		switch name {
		case "include", "a", "mx", "ptr", "exists":
			n++
		case "redirect":
			if strings.HasPrefix(mech, "redirect=") {
				n++
			}
		}
	}
	return n
}

// spfAuthorises reports whether an SPF record contains include (any
// qualifier but -).
func spfAuthorises(rec, include string) bool {
	inc := strings.ToLower(include)
	for _, term := range strings.Fields(strings.ToLower(rec)) {
		t := strings.TrimLeft(term, "+~?")
		if t == inc && !strings.HasPrefix(term, "-") {
			return true
		}
	}
	return false
}

// withSPFAll replaces the all term of an SPF record with all ("-all",
// "~all", "?all"); an empty all leaves the record as it is.
func withSPFAll(rec, all string) (string, error) {
	if all == "" {
		return rec, nil
	}
	switch all {
	case "-all", "~all", "?all":
	default:
		return "", invalid(opSPF, all, ReasonOption, "the SPF policy is -all, ~all or ?all")
	}
	terms := strings.Fields(rec)
	out := terms[:0]
	for _, t := range terms {
		if m := strings.ToLower(strings.TrimLeft(t, "+-~?")); m == "all" || strings.HasPrefix(m, "redirect=") {
			continue
		}
		out = append(out, t)
	}
	return strings.Join(append(out, all), " "), nil
}
