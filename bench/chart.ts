// The latency chart of BENCHMARKS.md, written as SVG text: one panel per
// path, one percentile curve per server (medians of the rounds). The x axis
// is log-scaled in 1 / (1 - p), so that p90, p99 and p99.9 are evenly
// spaced and the tail gets the room it deserves.

export interface Curve {
  readonly label: string;
  /** Latency in ms at each of the chart's percentiles. */
  readonly values: readonly number[];
}

export interface Panel {
  readonly title: string;
  readonly curves: readonly Curve[];
}

const COLOURS = ['#d9480f', '#1864ab', '#2b8a3e', '#862e9c', '#e67700'];
const PANEL_WIDTH = 440;
const PANEL_HEIGHT = 260;
const MARGIN = { left: 56, right: 16, top: 34, bottom: 42 };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A round step (1, 2, 5 × 10^n) that cuts `max` into about five parts. */
function tickStep(max: number): number {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? raw;
}

function panelSvg(
  panel: Panel,
  percentiles: readonly number[],
  colourOf: (label: string) => string,
  x0: number,
  y0: number,
): string {
  const width = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const height = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const logs = percentiles.map((p) => Math.log10(100 / (100 - p)));
  const [minLog, maxLog] = [Math.min(...logs), Math.max(...logs)];
  const x = (i: number) => x0 + MARGIN.left + ((logs[i] - minLog) / (maxLog - minLog)) * width;
  const finite = panel.curves.flatMap((c) => c.values).filter(Number.isFinite);
  const step = tickStep(Math.max(1, ...finite));
  const top = Math.ceil(Math.max(1, ...finite) / step) * step;
  const y = (ms: number) => y0 + MARGIN.top + height - (ms / top) * height;

  const parts: string[] = [
    `<text x="${x0 + PANEL_WIDTH / 2}" y="${y0 + 20}" text-anchor="middle" font-weight="bold">${escape(panel.title)}</text>`,
  ];
  for (let ms = 0; ms <= top + 1e-9; ms += step) {
    parts.push(
      `<line x1="${x0 + MARGIN.left}" x2="${x0 + MARGIN.left + width}" y1="${y(ms)}" y2="${y(ms)}" stroke="#dee2e6"/>`,
      `<text x="${x0 + MARGIN.left - 6}" y="${y(ms) + 4}" text-anchor="end">${+ms.toFixed(3)}</text>`,
    );
  }
  percentiles.forEach((p, i) => {
    if (![50, 90, 99, 99.9].includes(p)) return;
    parts.push(
      `<line x1="${x(i)}" x2="${x(i)}" y1="${y0 + MARGIN.top}" y2="${y0 + MARGIN.top + height}" stroke="#dee2e6"/>`,
      `<text x="${x(i)}" y="${y0 + MARGIN.top + height + 16}" text-anchor="middle">p${p}</text>`,
    );
  });
  parts.push(
    `<text x="${x0 + MARGIN.left + width / 2}" y="${y0 + PANEL_HEIGHT - 6}" text-anchor="middle">percentile</text>`,
    `<text transform="translate(${x0 + 14} ${y0 + MARGIN.top + height / 2}) rotate(-90)" text-anchor="middle">latency (ms)</text>`,
  );
  panel.curves.forEach((curve) => {
    const points = curve.values
      .map((ms, i) => (Number.isFinite(ms) ? `${x(i).toFixed(1)},${y(ms).toFixed(1)}` : ''))
      .filter(Boolean)
      .join(' ');
    parts.push(
      `<polyline points="${points}" fill="none" stroke="${colourOf(curve.label)}" stroke-width="2"/>`,
    );
  });
  return parts.join('\n');
}

/** Panels laid out two by two, with one legend for all. */
export function latencyChart(
  title: string,
  percentiles: readonly number[],
  panels: readonly Panel[],
): string {
  const columns = 2;
  const rows = Math.ceil(panels.length / columns);
  const legendHeight = 28;
  const width = columns * PANEL_WIDTH;
  const height = 36 + legendHeight + rows * PANEL_HEIGHT;
  // Every server in any panel (some run on one path only), one colour each.
  const labels = [...new Set(panels.flatMap((panel) => panel.curves.map((c) => c.label)))];
  const colourOf = (label: string) => COLOURS[labels.indexOf(label) % COLOURS.length];
  const legend = labels
    .map((label, c) => {
      const lx = 20 + c * 170;
      return (
        `<line x1="${lx}" x2="${lx + 24}" y1="50" y2="50" stroke="${colourOf(label)}" stroke-width="3"/>` +
        `<text x="${lx + 30}" y="54">${escape(label)}</text>`
      );
    })
    .join('\n');
  const body = panels
    .map((panel, i) =>
      panelSvg(
        panel,
        percentiles,
        colourOf,
        (i % columns) * PANEL_WIDTH,
        36 + legendHeight + Math.floor(i / columns) * PANEL_HEIGHT,
      ),
    )
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
    legend,
    body,
    '</svg>',
    '',
  ].join('\n');
}
