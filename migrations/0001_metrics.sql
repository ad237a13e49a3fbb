-- edgeprompt metrics: per prompt, label, weights period and version.
-- Applied with `npx wrangler d1 migrations apply METRICS --local` (or --remote).

-- Every event id already counted, so that a redelivered batch or a repeated POST counts
-- nothing twice. Kept for at least the token expiry plus a day (see README).
CREATE TABLE seen_events (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  seen_at REAL NOT NULL
);
CREATE INDEX seen_events_seen_at ON seen_events (seen_at);

-- Weights periods (route versions) as first seen.
CREATE TABLE periods (
  prompt TEXT NOT NULL,
  label TEXT NOT NULL,
  period TEXT NOT NULL,
  first_revision INTEGER NOT NULL,
  first_seen REAL NOT NULL,
  PRIMARY KEY (prompt, label, period)
);

-- Distinct exposed units (keyed hashes, never raw ids) per version and period.
CREATE TABLE exposed_units (
  prompt TEXT NOT NULL,
  label TEXT NOT NULL,
  period TEXT NOT NULL,
  version INTEGER NOT NULL,
  unit_hash TEXT NOT NULL,
  rule TEXT NOT NULL,
  forced INTEGER NOT NULL,
  first_seen REAL NOT NULL,
  PRIMARY KEY (prompt, label, period, version, unit_hash)
);

-- Decisions served (a unit counts each time).
CREATE TABLE exposure_counts (
  prompt TEXT NOT NULL,
  label TEXT NOT NULL,
  period TEXT NOT NULL,
  version INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (prompt, label, period, version)
);

-- Binary metrics: units with at least one success.
CREATE TABLE outcome_units (
  prompt TEXT NOT NULL,
  label TEXT NOT NULL,
  period TEXT NOT NULL,
  version INTEGER NOT NULL,
  metric TEXT NOT NULL,
  unit_hash TEXT NOT NULL,
  PRIMARY KEY (prompt, label, period, version, metric, unit_hash)
);

-- Every metric: count, sum and sum of squares of the reported values.
CREATE TABLE outcome_sums (
  prompt TEXT NOT NULL,
  label TEXT NOT NULL,
  period TEXT NOT NULL,
  version INTEGER NOT NULL,
  metric TEXT NOT NULL,
  n INTEGER NOT NULL,
  total REAL NOT NULL,
  total_sq REAL NOT NULL,
  PRIMARY KEY (prompt, label, period, version, metric)
);
