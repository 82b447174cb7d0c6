package exit

// Meaning is one row of the exit-code table users read in `tokenctl help
// exit-codes` and in the man pages' EXIT STATUS section.
type Meaning struct {
	Code    int
	Meaning string
}

// Table is the exit-code contract (DESIGN.md, Exit codes), in code order.
var Table = []Meaning{
	{OK, "success (an empty list too; deleting an id that is already gone)"},
	{Error, "other error: server 400/405/422 or 5xx not covered below, an unexpected response; a confirmation the user declined (No or Esc: nothing deleted)"},
	{Usage, "usage or local validation error: nothing was sent (one exception: an ambiguous name, after its lookup read)"},
	{Auth, "authentication or permission denied (401, 403)"},
	{NotFound, "not found (404)"},
	{Conflict, "conflict or precondition (409, 412, 428), or a token that is EXPIRED/USED where a live one is needed"},
	{Unavailable, "rate limited or unavailable after retries (429, 502, 503, 504)"},
	{Network, "network or TLS failure (refused, timeout, certificate, thumbprint mismatch), or a create whose answer was lost (outcome unknown: look before running it again)"},
	{Partial, "partial failure: some items of a batch failed, the others succeeded"},
	{Differences, "differences found (diff, apply --dry-run): the server is not yet as the documents say"},
	{Timeout, "timed out waiting (token wait, --wait) before the condition held"},
	{Interrupted, "interrupted (Ctrl-C, SIGTERM, SIGHUP): a batch reports what was done, in flight and not sent"},
}
