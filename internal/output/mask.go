package output

import "unicode/utf8"

// Mask is the label of a secret id (an NSX token, an agent uuid) in notices,
// prompts and errors: its first four characters and an ellipsis, enough to
// tell tokens apart and too little to use one. Secrets shorter than 12
// characters show only the ellipsis, since four characters would be a large
// part of them.
func Mask(secret string) string {
	if utf8.RuneCountInString(secret) < 12 {
		return "…"
	}
	r := []rune(secret)
	return string(r[:4]) + "…"
}
