import type { FC } from 'hono/jsx';

/** Colours per provenance and tier, shared by every chart so a class keeps its colour. */
export const palette: Record<string, string> = {
  human: '#4e79a7',
  'ai-assisted': '#f28e2b',
  agent: '#e15759',
  automation: '#76b7b2',
  auto: '#59a14f',
  light: '#edc948',
  standard: '#b07aa1',
  senior: '#e15759',
};

/** A stacked bar per week (x) of counts by series, as inline SVG: no script, nothing fetched. */
export const StackedBars: FC<{ title: string; points: { x: number; series: string; value: number }[]; id: string }> = ({ title, points, id }) => {
  const xs = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  const series = [...new Set(points.map((p) => p.series))].sort();
  const totals = xs.map((x) => points.filter((p) => p.x === x).reduce((s, p) => s + p.value, 0));
  const max = Math.max(1, ...totals);
  const width = 640;
  const height = 200;
  const barWidth = xs.length === 0 ? 0 : Math.max(2, Math.floor((width - 40) / xs.length) - 2);
  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 20}`} width={width} height={height + 20} role="img" aria-label={title}>
        {xs.map((x, i) => {
          let y = height;
          return (
            <g data-x={x}>
              {series.map((s) => {
                const value = points.find((p) => p.x === x && p.series === s)?.value ?? 0;
                const h = (value / max) * (height - 10);
                y -= h;
                return value === 0 ? null : (
                  <rect class="bar" x={30 + i * (barWidth + 2)} y={y} width={barWidth} height={h} fill={palette[s] ?? '#999'}>
                    <title>{`${new Date(x * 1000).toISOString().slice(0, 10)} ${s}: ${value}`}</title>
                  </rect>
                );
              })}
            </g>
          );
        })}
        <text x="0" y="12" font-size="10">{max}</text>
        <line x1="28" y1={height} x2={width} y2={height} stroke="#888" />
      </svg>
      <p class="legend">
        {series.map((s) => (
          <span>
            <i style={`background:${palette[s] ?? '#999'}`} /> {s}
          </span>
        ))}
      </p>
    </figure>
  );
};

/** Horizontal bars of counts by label. */
export const CountBars: FC<{ title: string; counts: Record<string, number>; id: string }> = ({ title, counts, id }) => {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, v]) => v));
  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 420 ${entries.length * 22 + 4}`} width="420" height={entries.length * 22 + 4} role="img" aria-label={title}>
        {entries.map(([label, value], i) => (
          <g>
            <text x="0" y={i * 22 + 15} font-size="12">{label}</text>
            <rect class="bar" x="100" y={i * 22 + 3} width={(value / max) * 280} height="16" fill={palette[label] ?? '#999'} />
            <text x={106 + (value / max) * 280} y={i * 22 + 15} font-size="12">{value}</text>
          </g>
        ))}
      </svg>
    </figure>
  );
};
