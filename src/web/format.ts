/** How figures read on the page. */

const UNITS = ['', 'K', 'M', 'G', 'T', 'P', 'E'];

/** 1.23 GFLOPS-style: a number with an SI prefix. */
export function si(value: number, unit = ''): string {
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? (Number.isInteger(v) ? 0 : 1) : 2)} ${UNITS[i]}${unit}`.trim();
}

export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? '—' : `${(ratio * 100).toFixed(1)} %`;
}

export function short(id: string): string {
  return id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

export function time(ms: number): string {
  return new Date(ms).toLocaleString();
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** Whole tokens as the API writes them (decimal strings), trimmed for reading. */
export function tokens(amount: string | undefined): string {
  if (amount === undefined) return '—';
  const [whole, fraction = ''] = amount.split('.');
  const kept = fraction.slice(0, 6).replace(/0+$/, '');
  return kept ? `${whole}.${kept}` : (whole ?? amount);
}
