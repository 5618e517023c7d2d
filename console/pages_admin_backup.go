package console

import "net/http"

// The backup: POST /v1/admin/backup streams a tar archive of the store,
// which the console passes to the browser as a download as it comes,
// never holding it whole (api.call reads an answer whole: a backup is the
// size of the store).

// backup streams the API's backup to the browser as a file download; a
// refusal before the first byte (a user who is not an admin, a store
// backed up elsewhere) is shown as the error page.
func (c *Console) backup(q *req) error {
	return c.api.download(q.r, q.w, http.MethodPost, "/v1/admin/backup", "waystation-backup.tar")
}
