package console

import "net/http"

// inspectExport downloads the case's export bundle
// (GET /v1/cases/{id}/export) as a file, streamed from the API as it
// writes it.
func (c *Console) inspectExport(q *req) error {
	id, err := caseIDOf(q)
	if err != nil {
		return err
	}
	return c.api.download(q.r, q.w, http.MethodGet, "/v1/cases/"+id.String()+"/export", "")
}
