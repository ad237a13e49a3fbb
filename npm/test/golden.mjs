// The shared golden set (tests/golden/), checked the same way in Node, in workerd and
// in Chromium: every case's decision or error must equal the expected one exactly.
export function checkGolden(Engine, manifest, cases) {
  const engine = new Engine(manifest);
  const failures = [];
  for (const c of cases) {
    let got;
    try {
      got = { decision: engine.resolve(c.request) };
    } catch (e) {
      got = { error: { code: e.code, message: e.message } };
    }
    const a = JSON.stringify(sortKeys(got));
    const b = JSON.stringify(sortKeys(c.expected));
    if (a !== b) failures.push({ name: c.name, got: a, expected: b });
  }
  return { total: cases.length, failures };
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  }
  return v;
}
