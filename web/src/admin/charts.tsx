// Daily line charts drawn with uPlot, sized to their container.
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Line {
  label: string;
  values: Array<number | null>;
  color: string;
}

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

/** One chart of daily values; `days` are "YYYY-MM-DD". */
export function DailyChart(props: { title: string; days: string[]; lines: Line[]; unit?: string }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = box.current;
    if (element === null) {
      return undefined;
    }
    const xs = props.days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
    const text = cssVar('--text', '#222');
    const grid = cssVar('--border', '#ddd');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const options: uPlot.Options = {
      width: Math.max(240, element.clientWidth),
      height: 200,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, size: 56 }],
      series: [
        {},
        ...props.lines.map((line) => ({
          label: line.label,
          stroke: line.color,
          width: 2,
          points: { show: props.days.length <= 31 },
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${v.toLocaleString()}${props.unit ?? ''}`),
        })),
      ],
    };
    const data: uPlot.AlignedData = [xs, ...props.lines.map((line) => line.values)];
    const chart = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(240, element.clientWidth), height: 200 });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [props.days, props.lines, props.unit]);

  const total = props.lines.map((line) => ({
    label: line.label,
    sum: line.values.reduce<number>((acc, v) => acc + (v ?? 0), 0),
  }));
  return (
    <figure class="chart card" aria-label={props.title}>
      <figcaption>
        <strong>{props.title}</strong>
        <span class="muted small">
          {' '}
          {props.unit === undefined ? total.map((t) => `${t.label}: ${t.sum.toLocaleString()}`).join(' · ') : ''}
        </span>
      </figcaption>
      <div ref={box} class="chart-box" />
    </figure>
  );
}
