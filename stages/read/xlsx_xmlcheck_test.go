package read

import (
	"strings"
	"testing"
)

// TestXMLChecker feeds well-formed and broken XML to the checker whole and one byte a write, so
// that every construct is also found across writes.
func TestXMLChecker(t *testing.T) {
	for _, c := range []struct{ xml, err string }{
		{`<?xml version="1.0"?><a x="1>2" y='</a>'><b/><c></c><!-- </a> --><![CDATA[</a>]]><d>t</d></a>`, ""},
		{`<x:a><x:b r="1" /></x:a >`, ""},
		{`<a><b>1</c></a>`, "its XML is broken at byte 11: the element <b> is closed by </c>"},
		{`<a></a></a>`, "its XML is broken at byte 11: the end tag </a> closes no element"},
		{`<a><b/ ></a>`, "its XML is broken at byte 7: '/' inside the tag <b> is not followed by '>'"},
		{`<a><b>1</b>`, "its XML is cut short: the element <a> is never closed (11 bytes)"},
		{`<a><b x="1`, "its XML is cut short inside a tag, comment or CDATA section (10 bytes)"},
		{`<a><!-- x -</a>`, "its XML is cut short inside a tag, comment or CDATA section (15 bytes)"},
		{strings.Repeat("<a>", xmlMaxDepth+1), "its XML is broken at byte 3075: elements nest more than 1024 deep"},
	} {
		for _, split := range []bool{false, true} {
			var xc xmlChecker
			if split {
				for i := range len(c.xml) {
					xc.Write([]byte{c.xml[i]})
				}
			} else {
				xc.Write([]byte(c.xml))
			}
			got := ""
			if err := xc.Close(); err != nil {
				got = err.Error()
			}
			if got != c.err {
				t.Errorf("%.40q (byte by byte: %v): %q, want %q", c.xml, split, got, c.err)
			}
		}
	}
}
