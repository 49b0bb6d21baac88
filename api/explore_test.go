package api_test

import (
	"fmt"
	"testing"
)

func TestExplore(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a := h.account(3)
	r := a.upload("/v1/previews", "preview15.csv", fixture(t, "preview15.csv"), `{"mapping":{"Notes":"title"}}`)
	fmt.Println(r)
	r = a.upload("/v1/imports?dry_run=true", "flow.csv", fixture(t, "flow.csv"), "")
	fmt.Println(r)
	b := h.account(-1)
	h.startWorkers()
	id := b.submit("flow.csv", fixture(t, "flow.csv"), "")
	v := b.waitFinished(id, "completed")
	fmt.Printf("%+v\n", v)
	fmt.Println(b.get(fmt.Sprintf("/v1/imports/%d", id)))
	fmt.Println(b.get(fmt.Sprintf("/v1/imports/%d/skipped.csv", id)))
	fmt.Println(b.get(fmt.Sprintf("/v1/prospects?import_id=%d", id)))
	fmt.Println(b.get("/v1/imports"))
}
