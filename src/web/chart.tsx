import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export type ChartSeries = { label: string; color: string; scale?: string };

type Props = {
  title: string;
  /** Times in ms, then one array per series (null for a gap). */
  data: [number[], ...(number | null)[][]];
  series: ChartSeries[];
  height?: number;
  /** Said when there are points but no series has a value (a figure this node does not measure). */
  unmeasured?: string;
};

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** A uPlot time chart that follows its container's width; `data-points` says how many points it draws. */
export function Chart({ title, data, series, height = 180, unmeasured }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const scales = [...new Set(series.map((s) => s.scale ?? 'y'))];
  const seconds = (d: Props['data']): uPlot.AlignedData => [d[0].map((t) => t / 1000), ...d.slice(1)];

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const axis = {
      stroke: css('--muted'),
      grid: { stroke: css('--grid'), width: 1 },
      ticks: { show: false },
    };
    const made = new uPlot(
      {
        width: Math.max(element.clientWidth, 200),
        height,
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        series: [
          {},
          ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, scale: s.scale ?? 'y' })),
        ],
        axes: [axis, ...scales.map((scale, i) => ({ ...axis, scale, side: i === 0 ? 3 : 1, size: 56 }))],
      },
      seconds(data),
      element,
    );
    plot.current = made;
    const resize = new ResizeObserver(() =>
      made.setSize({ width: Math.max(element.clientWidth, 200), height }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      made.destroy();
      plot.current = null;
    };
    // Made once per series set; data changes go through setData below.
  }, [series.map((s) => s.label).join(), height]);

  useEffect(() => {
    plot.current?.setData(seconds(data));
  }, [data]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} data-points={data[0].length} />
      {data[0].length === 0 && <p class="empty">No points yet.</p>}
      {unmeasured && data[0].length > 0 && data.slice(1).every((s) => s.every((v) => v === null)) && (
        <p class="empty">{unmeasured}</p>
      )}
    </figure>
  );
}
