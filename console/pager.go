package console

import (
	"net/url"
	"strconv"
)

// listPage is how many entries a long list (the safety board, the
// worklist) shows at once.
const listPage = 50

// pager is the position of a list's page among its pages; its links keep
// the rest of the page's query (filters: codes, never personal data).
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

// paged returns the page of items that ?page= asks for (the first when
// absent or out of range) and the pager of the list at path.
func paged[T any](items []T, path string, query url.Values) ([]T, pager) {
	p := pager{Total: len(items), Pages: max(1, (len(items)+listPage-1)/listPage), Page: 1}
	if n, err := strconv.Atoi(query.Get("page")); err == nil && n >= 1 && n <= p.Pages {
		p.Page = n
	}
	link := func(n int) string {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(n))
		q.Del("lang")
		return path + "?" + q.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	from := (p.Page - 1) * listPage
	return items[from:min(from+listPage, len(items))], p
}
