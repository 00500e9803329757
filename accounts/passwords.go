package accounts

import (
	"crypto/rand"
	"math/big"
)

const (
	pwUpper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	pwLower  = "abcdefghijkmnopqrstuvwxyz"
	pwDigits = "23456789"
	pwSymbol = "!#$%*+-=?@^_"
)

// GeneratePassword returns a random password of n characters (at least 12)
// drawn with crypto/rand, holding upper- and lower-case letters, digits and
// symbols, so it meets both Active Directory's and Microsoft 365's
// complexity rules. Look-alike characters (O/0, l/1) are left out so a
// temporary password can be read out to a user.
func GeneratePassword(n int) string {
	if n < 12 {
		n = 12
	}
	classes := []string{pwUpper, pwLower, pwDigits, pwSymbol}
	all := pwUpper + pwLower + pwDigits + pwSymbol
	b := make([]byte, n)
	for i := range b {
		set := all
		if i < len(classes) {
			set = classes[i]
		}
		b[i] = set[randInt(len(set))]
	}
	// Shuffle so the guaranteed classes are not always first.
	for i := len(b) - 1; i > 0; i-- {
		j := randInt(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("accounts: crypto/rand failed: " + err.Error())
	}
	return int(v.Int64())
}
