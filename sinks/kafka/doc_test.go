package kafkasink_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	kafkasink "github.com/leadpipe/leadpipe/sinks/kafka"
)

// docs/kafka.md documents every field of both messages, and shows the example consumer as it
// is compiled here.
func TestDocsMatchTheCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/kafka.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	_, consumer, _ := strings.Cut(text, "## Example consumer")
	_, block, _ := strings.Cut(consumer, "```go\n")
	block, _, _ = strings.Cut(block, "```")
	if strings.TrimSpace(block) == "" || !strings.Contains(string(example), block) {
		t.Errorf("the example consumer in docs/kafka.md is not the one in example_test.go")
	}

	field := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|")
	for heading, msg := range map[string]any{"### Row outcome": kafkasink.Outcome{}, "### Import event": kafkasink.Event{}} {
		_, section, _ := strings.Cut(text, heading)
		section, _, _ = strings.Cut(section[1:], "\n#")
		var documented []string
		for _, m := range field.FindAllStringSubmatch(section, -1) {
			documented = append(documented, m[1])
		}
		b, _ := json.Marshal(msg)
		var fields map[string]any
		if err := json.Unmarshal(b, &fields); err != nil {
			t.Fatal(err)
		}
		slices.Sort(documented)
		if want := slices.Sorted(maps.Keys(fields)); !slices.Equal(documented, want) {
			t.Errorf("%s documents fields %v, the message has %v", heading, documented, want)
		}
	}
}

// The example consumer reads a version 1 outcome as a prospects one, a version 2 outcome of
// any kind as it is, and skips other versions.
func TestExampleConsumerReadsBothVersions(t *testing.T) {
	for _, c := range []struct {
		msg, want string
	}{
		{`{"version":1,"import_id":7,"row_number":2,"account":"acme","outcome":"created","reason":"","detail":"","prospect_id":12,"warnings":[]}`,
			"7 2 prospects created 12"},
		{`{"version":2,"import_id":8,"row_number":3,"account":"acme","kind":"organizations","outcome":"updated","reason":"","detail":"","entity_id":311,"prospect_id":null,"warnings":[]}`,
			"8 3 organizations updated 311"},
		{`{"version":2,"import_id":8,"row_number":4,"account":"acme","kind":"deals","outcome":"skipped","reason":"missing_identifier","detail":"","entity_id":null,"prospect_id":null,"warnings":[]}`,
			"8 4 deals skipped none"},
		{`{"version":3,"import_id":9,"row_number":2}`, "error: version 3"},
	} {
		got := ""
		if o, err := read([]byte(c.msg)); err != nil {
			got = "error: " + err.Error()
		} else {
			entity := "none"
			if o.EntityID != nil {
				entity = strconv.FormatInt(*o.EntityID, 10)
			}
			got = fmt.Sprintf("%d %d %s %s %s", o.ImportID, o.RowNumber, o.Kind, o.Outcome, entity)
		}
		if got != c.want {
			t.Errorf("read(%s) = %s, want %s", c.msg, got, c.want)
		}
	}
}
