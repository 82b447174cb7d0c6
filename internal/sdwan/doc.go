package sdwan

// Where the vendor's documents (the SystemAdministration spec subsets, the
// pan.dev pages, the two Python SDKs; see ../shared/api/sdwan.md) are silent
// or disagree, tokenctl chooses as follows.
//
//   - expires_utc_ms: the spec says "expiry time in seconds"; the field's
//     name, the vendor's own scripts and the API use epoch milliseconds, so
//     tokenctl sends milliseconds. A manifest value that is in the past and
//     below 10^12 is reported as "looks like epoch seconds".
//   - expires_utc_ms is required although the spec marks nothing required:
//     the vendor SDK lists it as a required attribute. It comes from
//     --expires or --expires-at (not both), or the manifest's field, which
//     either flag overrides; it must lie in the future by the local clock.
//   - Roles: the 23 names and "Max size = 7" live only in descriptions; both
//     are enforced before sending, each problem listed. Duplicate names are
//     not rejected (nothing documents it). Custom role names are free text:
//     the enum copied into CustomRole.name's description cannot apply to
//     roles the customer names. A token with no roles is allowed, as the
//     spec allows it.
//   - session_key_c ("The session key C. Max size = 128.") is treated as a
//     secret on input: it comes from a manifest or --session-key-c-file,
//     never a flag value, and --debug redacts it. Output passes the vendor's
//     object through, so list/get show it as the server returns it.
//   - Custom permissions: value is required on both generations, tenant_id
//     on the legacy one only (the unified spec has no such field).
//   - id, x_auth_token, is_system_owned (and echoed _etag/_schema/...) are
//     read-only; a manifest carrying them is refused before sending, since
//     v2.1 answers AUTH_TOKEN_CANNOT_SET_READONLY_FIELDS.
//   - x_auth_token is shown by the create only. The schema is shared, so a
//     server might send it on list/get/delete too; tokenctl blanks it there.
//   - Delete of an unknown id (404) counts as deleted (DESIGN.md: deletes are
//     idempotent); the deleted object the vendor returns is not printed, the
//     per-id result is, as for every tokenctl delete.
//   - No paging is documented for the list; tokenctl reads one answer.
//   - Discovery: ids from --tenant/--operator, else the profile, else the
//     cache, else the profile call of the configured version (v2.1:
//     ProfileV2N1 id and tenant_id; v2.0: the operator object). The
//     profile's "id" is the operator id, as the SDKs read it. The cache is
//     keyed by server and credential (a static token by a 64-bit prefix of
//     its SHA-256, an OAuth client by client id and TSG), never the secret.
//     A cached id the server refuses (ESP_INVALID_TENANT_DATA,
//     TOKEN_INVALID_OPERATOR_ID) is dropped and rediscovered once.
//   - OAuth: token endpoint https://auth.apps.paloaltonetworks.com/oauth2/access_token
//     and scope "tsg_id:<tsg>" as pan.dev documents them (the unified SDK
//     uses /auth/v1/oauth2/access_token and adds "email profile"; auth_url
//     overrides the endpoint). Client id and secret go raw in HTTP Basic, as
//     pan.dev's curl example does. Without expires_in the lifetime is the
//     documented 15 minutes. A token is reused until 60 s before expiry (the
//     SDK's margin), and cached across runs in the state cache.
//   - The profile call required after every new access token is always
//     GET /sdwan/v2.1/api/profile, the path pan.dev names, whatever
//     api_version the profile selects; discovery reuses its answer.
//   - Renewal: a 401 (expired or forgotten token) gets one new token; a 403
//     on a token from the cache gets one too (its profile call may not count
//     on the server any more), while a 403 on a token minted and profiled in
//     this run is a real permission denial.
//   - The legacy static token's embedded region (parse_auth_token in the
//     SDK) is never used to rewrite the server: that would send credentials
//     to a host the profile does not name. Legacy profiles name their
//     regional server.
//   - Statuses: 400 is exit 1, 401/403 exit 3, 404 exit 4; 413 joins the
//     retried statuses (the SDKs' status_forcelist) and maps to exit 6.
