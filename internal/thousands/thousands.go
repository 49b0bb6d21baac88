// Package thousands writes whole numbers as people read them in leadpipe's terminal output (the
// progress bar, the bench's report): 1234567 as "1,234,567".
package thousands

import (
	"strconv"
	"strings"
)

// Format is n with its thousands separated by commas: 1,234,567; -1,000.
func Format(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	if len(digits) < len(s) {
		b.WriteByte('-')
	}
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
