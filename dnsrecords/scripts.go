package dnsrecords

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// scriptTables are the scripts a label is checked against, in the order
// they are named in warnings.
var scriptTables = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Armenian", unicode.Armenian}, {"Hebrew", unicode.Hebrew}, {"Arabic", unicode.Arabic},
	{"Han", unicode.Han}, {"Hiragana", unicode.Hiragana}, {"Katakana", unicode.Katakana},
	{"Hangul", unicode.Hangul}, {"Bopomofo", unicode.Bopomofo}, {"Thai", unicode.Thai},
	{"Devanagari", unicode.Devanagari}, {"Georgian", unicode.Georgian}, {"Cherokee", unicode.Cherokee},
}

// allowedMixes are the script combinations a label may use without a
// warning (UTS 39's "highly restrictive" level: Latin with the scripts of
// Japanese, Chinese or Korean writing).
var allowedMixes = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// latinLookalikes are Cyrillic and Greek letters that look like Latin
// ones; a label written only with them imitates a Latin name.
const latinLookalikes = "аеорсухіјѕԁһӏԛԝαοινυ"

// scriptWarnings returns a warning per label of the Unicode name that
// mixes scripts or imitates Latin letters.
func scriptWarnings(unicodeName string) []string {
	var out []string
	for _, label := range strings.Split(unicodeName, ".") {
		var scripts []string
		lookalike, letters := true, 0
		for _, r := range label {
			if !unicode.IsLetter(r) {
				continue
			}
			letters++
			if !strings.ContainsRune(latinLookalikes, r) {
				lookalike = false
			}
			for _, st := range scriptTables {
				if unicode.Is(st.table, r) && !slices.Contains(scripts, st.name) {
					scripts = append(scripts, st.name)
				}
			}
		}
		switch {
		case len(scripts) > 1 && !mixAllowed(scripts):
			out = append(out, fmt.Sprintf("the label %q mixes %s letters, as a look-alike of another domain does; check that it is the name you mean", label, strings.Join(scripts, " and ")))
		case letters > 0 && lookalike && len(scripts) == 1 && scripts[0] != "Latin":
			out = append(out, fmt.Sprintf("the label %q is written in %s letters that look like Latin ones, as a look-alike of another domain is; check that it is the name you mean", label, scripts[0]))
		}
	}
	return out
}

func mixAllowed(scripts []string) bool {
	for _, mix := range allowedMixes {
		ok := true
		for _, s := range scripts {
			if !slices.Contains(mix, s) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
