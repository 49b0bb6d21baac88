package kafkasink_test

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
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
