"""A local Rally CRM API (`crmsync sandbox`): real HTTP, SQLite, faults on demand.

It answers as Rally's API documents describe contacts, companies and activities; where they
are silent, it decides as follows:

- Errors are `{"error": "..."}`: 400 malformed request (bad JSON, not an object/array, bulk
  outside 1..100 records, bad list parameters), 401 missing or unknown `X-Api-Key`, 404 unknown
  id or path, 405 wrong method, 413 body over 16 MiB, 422 a single record that fails validation
  (messages name the camelCase field) or whose email/domain another record of the tenant has,
  429 past `--rate-limit` (with `Retry-After`), 5xx only when injected.
- Upsert answers 201 `{"action": "created", "id"}` or 200 `{"action": "updated", "id"}`;
  activities have no upsert (404). A company upsert without a domain is 422.
- Bulk answers 200 with per-index errors; an email (contacts) or domain (companies) that the
  tenant already has, or that repeats an earlier item of the batch, fails at its index.
- Lists are ordered by updatedAt, then id; `updatedSince` is inclusive.
- `GET /_sandbox/stats` and `POST /_sandbox/reset` need no key and are never faulted or
  counted. A connection cut by `--commit-then-fail-rate` is counted under the status its
  headers carried; stats also count the faults injected, and a reset restarts the seed.

Modules: server (settings, app, serve), middleware (auth, limits, faults, stats, log), routes,
records (the operations), listing (query string), store (SQLite), faults, stats, validation,
serving (what both sandboxes share to start and stop), measured (the outer layer both share:
count and log every request), testing (`running_sandbox` for tests and benchmarks).
"""
