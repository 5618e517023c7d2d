package console

import (
	"net/url"
	"testing"
)

func TestALongListIsShownAPageAtATimeKeepingItsFilter(t *testing.T) {
	items := make([]int, 120)
	for i := range items {
		items[i] = i
	}
	filter := url.Values{"rule": {"overdue_stay"}, "page": {"3"}, "lang": {"en"}}
	got, p := paged(items, "/safety", filter)
	if len(got) != 20 || got[0] != 100 || p.Page != 3 || p.Pages != 3 || p.Total != 120 {
		t.Fatalf("page 3: %d items from %d, pager %+v", len(got), got[0], p)
	}
	if p.Next != "" || p.Prev != "/safety?page=2&rule=overdue_stay" {
		t.Fatalf("links %q / %q", p.Prev, p.Next)
	}
	for _, bad := range []string{"0", "4", "-1", "x", "99999999999999999999"} {
		if got, p := paged(items, "/safety", url.Values{"page": {bad}}); p.Page != 1 || len(got) != listPage {
			t.Errorf("page %q: shown page %d with %d items", bad, p.Page, len(got))
		}
	}
	if got, p := paged([]int{}, "/safety", nil); len(got) != 0 || p.Pages != 1 || p.Next != "" {
		t.Errorf("an empty list: %v %+v", got, p)
	}
}
