// The metrics page: per version and declared metric, the estimate with its 95% interval
// and the difference against the control with its interval (a table and a chart against
// a zero line), exposed units per version, the sample-ratio check, and the running
// difference hour by hour; for the current weights period or all of them.
import { useMemo } from "preact/hooks";
import { api } from "../api";
import { useAsync, useTitle } from "../hooks";
import { links } from "../router";
import type { MetricDeclaration, MetricsReport, SrmCheck, VersionReport } from "../types";
import { Badge, Empty, ErrorBox, Loading } from "../components/ui";
import { Chart } from "../components/chart";
import { formatCi, formatDiff, formatHour, formatInt, formatMetric, formatNum, formatP } from "../format";
import { running } from "../stats";
import { PALETTE, TONES } from "../palette";

type Tone = keyof typeof TONES;

/** Whether a difference is better, worse or not yet clear, given the metric's direction. */
function toneOf(ci: [number, number] | null | undefined, higherIsBetter: boolean): Tone {
  if (!ci) return "unclear";
  if (ci[0] > 0) return higherIsBetter ? "better" : "worse";
  if (ci[1] < 0) return higherIsBetter ? "worse" : "better";
  return "unclear";
}

/** The metrics page of one label. */
export function Metrics({ prompt, label, period }: { prompt: string; label: string; period: "current" | "all" }) {
  useTitle(`${prompt}/${label} metrics`);
  const [data, reload] = useAsync(async () => {
    const [report, manifest] = await Promise.all([api.metrics(prompt, label, period, true), api.manifest()]);
    return { report, metrics: manifest.metrics ?? {} };
  }, [prompt, label, period]);

  const head = (
    <div class="page-head">
      <p class="crumbs">
        <a href={links.overview()}>Overview</a> / <a href={links.prompt(prompt)}>{prompt}</a> / metrics
      </p>
      <h1>
        {prompt}/{label} metrics
      </h1>
      <div class="toolbar">
        <nav class="segmented" aria-label="Period">
          <a href={links.metrics(prompt, label, "current")} aria-current={period === "current" ? "page" : undefined}>
            Current weights period
          </a>
          <a href={links.metrics(prompt, label, "all")} aria-current={period === "all" ? "page" : undefined}>
            All periods
          </a>
        </nav>
        <a href={links.traffic(prompt, label)}>Traffic</a>
        <button type="button" onClick={reload} disabled={data.state === "loading"}>
          {data.state === "loading" ? "Loading…" : "Refresh"}
        </button>
      </div>
    </div>
  );
  if (data.state === "error" && !data.value)
    return (
      <section>
        {head}
        <ErrorBox error={data.error} title="The metrics could not be loaded" />
      </section>
    );
  if (!data.value)
    return (
      <section>
        {head}
        <Loading what="the metrics" />
      </section>
    );
  const { report, metrics } = data.value;
  const exposed = report.versions.reduce((a, v) => a + v.exposed_units, 0);
  return (
    <section>
      {head}
      <p class="muted">
        Revision {report.revision} · {report.period === "all" ? "every weights period" : `weights period ${report.period}`} · control: version {report.control} (the first of the
        default's split) · each unit is one observation; forced (QA) units are left out.
      </p>
      <h2>Exposure</h2>
      <VersionsTable report={report} />
      <SrmView srm={report.srm} report={report} period={period} />
      {exposed === 0 ? (
        <Empty>No exposed unit in {period === "all" ? "any period" : "the current weights period"} yet: nothing to compare.</Empty>
      ) : Object.keys(metrics).length === 0 ? (
        <Empty>The manifest declares no metric.</Empty>
      ) : (
        Object.entries(metrics)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, decl]) => <MetricSection key={name} name={name} decl={decl} report={report} />)
      )}
    </section>
  );
}

function VersionsTable({ report }: { report: MetricsReport }) {
  return (
    <div class="table-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col" class="num">
              Version
            </th>
            <th scope="col" class="num">
              Weight (default)
            </th>
            <th scope="col" class="num">
              Exposed units
            </th>
            <th scope="col" class="num">
              Exposures
            </th>
          </tr>
        </thead>
        <tbody>
          {report.versions.map((v) => (
            <tr key={v.version}>
              <th scope="row" class="num">
                {v.version}
                {v.version === report.control && <span class="muted"> (control)</span>}
              </th>
              <td class="num">{v.weight === null ? "—" : `${v.weight}%`}</td>
              <td class="num" data-testid={`exposed-${v.version}`}>
                {formatInt(v.exposed_units)}
              </td>
              <td class="num">{formatInt(v.exposures)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SrmView({ srm, report, period }: { srm: SrmCheck | null; report: MetricsReport; period: "current" | "all" }) {
  if (!srm)
    return (
      <p class="muted">
        Sample-ratio check:{" "}
        {period === "all" ? "only for the current weights period (periods have different weights)." : "no unit decided by the default yet."}
      </p>
    );
  const weighted = report.versions.filter((v) => v.weight !== null);
  const total = srm.observed_default_units.reduce((a, b) => a + b, 0);
  return (
    <div class="srm">
      <h3>
        Sample-ratio check{" "}
        {srm.mismatch ? <Badge tone="bad">mismatch</Badge> : <Badge tone="ok">matches the weights</Badge>}
      </h3>
      <p>
        Units the default decided, against the default's weights: chi-square {formatNum(srm.chi_square, 3)} with {srm.df} degree{srm.df === 1 ? "" : "s"} of freedom, p ={" "}
        {formatP(srm.p_value)}
        {srm.mismatch ? " (below 0.001: the observed split does not match the configured one; check for bugs before trusting the comparison)." : "."}
      </p>
      <div class="table-scroll">
        <table class="compact-table">
          <thead>
            <tr>
              <th scope="col">Version</th>
              {weighted.map((v) => (
                <th key={v.version} scope="col" class="num">
                  v{v.version}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Observed</th>
              {srm.observed_default_units.map((n, i) => (
                <td key={i} class="num">
                  {formatInt(n)}
                </td>
              ))}
            </tr>
            <tr>
              <th scope="row">Expected</th>
              {weighted.map((v) => (
                <td key={v.version} class="num">
                  {formatNum((total * (v.weight ?? 0)) / 100, 4)}
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      </div>
    </div>
  );
}

function MetricSection({ name, decl, report }: { name: string; decl: MetricDeclaration; report: MetricsReport }) {
  const binary = decl.kind === "binary";
  const higher = decl.higher_is_better !== false;
  const fmt = (v: number) => formatMetric(v, binary);
  const fmtDiff = (v: number) => formatDiff(v, binary);
  const cell = (v: VersionReport) => v.metrics[name];
  const what = binary ? "rate of exposed units with a success" : decl.kind === "count" ? "mean count per exposed unit" : "mean of each reporting unit's mean";
  const estimates = report.versions
    .filter((v) => cell(v)?.ci)
    .map((v) => ({
      label: `v${v.version}`,
      estimate: cell(v)!.estimate!,
      low: cell(v)!.ci![0],
      high: cell(v)!.ci![1],
      tone: (v.version === report.control ? "control" : "unclear") as Tone,
      title: `version ${v.version}: ${fmt(cell(v)!.estimate!)} ${formatCi(cell(v)!.ci, fmt)}`,
    }));
  const diffs = report.versions
    .filter((v) => v.version !== report.control && cell(v)?.diff)
    .map((v) => {
      const d = cell(v)!.diff!;
      return {
        label: `v${v.version} − v${report.control}`,
        estimate: d.estimate,
        low: d.ci[0],
        high: d.ci[1],
        tone: toneOf(d.ci, higher),
        title: `version ${v.version} minus the control: ${fmtDiff(d.estimate)} ${formatCi(d.ci, fmtDiff)}`,
      };
    });
  return (
    <section class="metric" aria-labelledby={`m-${name}`}>
      <h2 id={`m-${name}`}>
        {name} <span class="muted small">{decl.kind}, {higher ? "higher is better" : "lower is better"}</span>
      </h2>
      {decl.description && <p>{decl.description}</p>}
      <p class="muted small">Estimate: {what}; 95% intervals.</p>
      <div class="table-scroll">
        <table class="metric-table">
          <thead>
            <tr>
              <th scope="col" class="num">
                Version
              </th>
              <th scope="col" class="num">
                Units
              </th>
              <th scope="col" class="num">
                {binary ? "Successes" : decl.kind === "count" ? "Total" : "Values"}
              </th>
              <th scope="col" class="num">
                Estimate
              </th>
              <th scope="col">95% interval</th>
              <th scope="col" class="num">
                Difference vs v{report.control}
              </th>
              <th scope="col">95% interval</th>
            </tr>
          </thead>
          <tbody>
            {report.versions.map((v) => {
              const c = cell(v);
              return (
                <tr key={v.version}>
                  <th scope="row" class="num">
                    {v.version}
                  </th>
                  <td class="num">{formatInt(c?.units)}</td>
                  <td class="num">{formatNum(c?.count)}</td>
                  <td class="num" data-testid={`est-${name}-${v.version}`}>
                    {c?.estimate == null ? "—" : fmt(c.estimate)}
                  </td>
                  <td data-testid={`ci-${name}-${v.version}`}>{formatCi(c?.ci, fmt)}</td>
                  <td class="num">{v.version === report.control ? <span class="muted">control</span> : c?.diff ? fmtDiff(c.diff.estimate) : "—"}</td>
                  <td>
                    {c?.diff ? (
                      <>
                        {formatCi(c.diff.ci, fmtDiff)} <DiffBadge tone={toneOf(c.diff.ci, higher)} />
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div class="charts">
        {estimates.length > 0 && (
          <div>
            <h3>Estimates</h3>
            <Chart
              label={`${name}: estimate and 95% interval per version`}
              deps={[report, name]}
              draw={(c, width) => c.intervals(estimates, { width, zero: false, percent: binary, label: binary ? `${name} (%)` : name })}
            />
          </div>
        )}
        {diffs.length > 0 && (
          <div>
            <h3>Difference against the control</h3>
            <Chart
              label={`${name}: difference against version ${report.control} with 95% interval; zero is no difference`}
              deps={[report, name]}
              draw={(c, width) => c.intervals(diffs, { width, zero: true, percent: binary, label: binary ? "difference (percentage points)" : "difference" })}
            />
          </div>
        )}
      </div>
      <OverTime name={name} decl={decl} report={report} />
    </section>
  );
}

function DiffBadge({ tone }: { tone: Tone }) {
  if (tone === "better") return <Badge tone="ok">better</Badge>;
  if (tone === "worse") return <Badge tone="bad">worse</Badge>;
  return <Badge tone="muted">not clear yet</Badge>;
}

function OverTime({ name, decl, report }: { name: string; decl: MetricDeclaration; report: MetricsReport }) {
  const versions = report.versions.map((v) => v.version);
  const points = useMemo(() => running(report.series ?? [], name, decl, versions, report.control), [report, name]);
  const binary = decl.kind === "binary";
  const candidates = versions.filter((v) => v !== report.control);
  const rows = points
    .filter((p) => p.version !== report.control && p.diff)
    .map((p) => ({ time: new Date(p.hour * 3_600_000), series: `v${p.version} − v${report.control}`, estimate: p.diff!.estimate, low: p.diff!.ci[0], high: p.diff!.ci[1] }));
  if (candidates.length === 0) return null;
  const series = candidates.map((v) => `v${v} − v${report.control}`);
  const hours = [...new Set(points.map((p) => p.hour))];
  return (
    <div class="over-time">
      <h3>Over time</h3>
      {rows.length === 0 ? (
        <p class="muted">No hour has data for both the control and a candidate yet.</p>
      ) : (
        <>
          <p class="muted small">
            The difference against the control and its 95% interval with everything up to and including each hour (the hourly aggregates added up, and the intervals
            computed as the report computes them); {hours.length} hour{hours.length === 1 ? "" : "s"}, in your time zone.
          </p>
          <ul class="legend">
            {series.map((s, i) => (
              <li key={s}>
                <span class={`swatch pal-${i % PALETTE.length}`} aria-hidden="true" />
                {s}
              </li>
            ))}
          </ul>
          <Chart
            label={`${name}: running difference against the control per hour with 95% interval`}
            deps={[report, name]}
            draw={(c, width) => c.running(rows, { width, percent: binary, label: binary ? "difference (percentage points)" : "difference", series, formatTime: (d) => formatHour(d.getTime() / 3_600_000) })}
          />
          <details>
            <summary>As a table</summary>
            <div class="table-scroll">
              <table class="compact-table">
                <thead>
                  <tr>
                    <th scope="col">Hour</th>
                    <th scope="col">Series</th>
                    <th scope="col" class="num">
                      Units so far
                    </th>
                    <th scope="col" class="num">
                      Difference
                    </th>
                    <th scope="col">95% interval</th>
                  </tr>
                </thead>
                <tbody>
                  {points
                    .filter((p) => p.version !== report.control)
                    .map((p) => (
                      <tr key={`${p.hour}/${p.version}`}>
                        <td>{formatHour(p.hour)}</td>
                        <td>
                          v{p.version} − v{report.control}
                        </td>
                        <td class="num">{formatInt(p.units)}</td>
                        <td class="num">{p.diff ? formatDiff(p.diff.estimate, binary) : "—"}</td>
                        <td>{formatCi(p.diff?.ci, (v) => formatDiff(v, binary))}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </div>
  );
}
