import type { ComponentChildren } from 'preact';
import type { ApiError } from './api.js';

export function Stat({ label, value, hint }: { label: string; value: ComponentChildren; hint?: string }) {
  return (
    <div class="stat">
      <span class="label">{label}</span>
      <strong>{value}</strong>
      {hint && <span class="hint">{hint}</span>}
    </div>
  );
}

/** What a page shows instead of data it could not get, in words a user can act on. */
export function Problem({ error, what }: { error: ApiError; what: string }) {
  const text =
    error.status === 404
      ? `This router does not serve ${what} yet.`
      : error.status === 401
        ? `Sign in to see ${what}.`
        : error.message;
  return <p class="empty">{text}</p>;
}

export function Table({ head, children }: { head: string[]; children: ComponentChildren }) {
  return (
    <div class="table">
      <table>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function NodeLink({ id }: { id: string }) {
  return (
    <a href={`#/node/${id}`} class="mono" title={id}>
      {id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id}
    </a>
  );
}

export function Select<T extends string>(props: {
  label: string;
  value: T;
  options: readonly T[];
  onChange(value: NoInfer<T>): void;
  name?: string;
}) {
  return (
    <label class="select">
      {props.label}
      <select
        name={props.name ?? props.label}
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value as T)}
      >
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}
