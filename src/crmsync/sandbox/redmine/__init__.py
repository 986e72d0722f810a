"""A local Redmine CRM contacts API (`crmsync redmine-sandbox`): real HTTP, SQLite, the quirks.

It answers as the RedmineUP CRM plugin's API and source code do:

- `GET /contacts.json|xml` (also `/projects/:id/contacts.json`, or `?format=json`): Redmine's
  paging (`limit` 25 by default, < 1 -> 25, > 100 -> 100; an explicit `offset` wins over
  `page`), `total_count`/`offset`/`limit` beside the list (attributes in XML; `nometa=1` drops
  them), order `last_name, first_name` unless `sort=id[:desc]`, the filters, and the search
  quirk: `total_count` ignores `search` while the results do not.
- `GET /contacts/:id.json|xml` with `projects`, `include=notes`, and `include=contacts` (a
  company's people, by their `company` string).
- Auth: `X-Redmine-API-Key`, `?key=`, or HTTP Basic (key:anything); 401 with an empty body,
  `WWW-Authenticate` only when no key was sent. Other paths redirect to /login, as the HTML
  application does for an API client. Unknown ids/projects 404, bad filter values 422
  `{"errors": [...]}`. Read-only: there are no writes.
- `GET /_sandbox/stats` (requests by method, path template and status; contacts and notes) and
  `POST /_sandbox/reset` (clears the counters) need no key and are not counted.
- `--latency-ms`, `--fail-rate` (500/502/503 before doing anything; 503 with Retry-After) and
  `--seed` use the Rally sandbox's fault injector.

Modules: server (settings, seeding, app, serve), middleware, routes, query (Redmine's query
string rules), store (SQLite), render (the JSON and XML shapes, also used to write samples).
"""
