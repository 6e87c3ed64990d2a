export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** One line per event on stderr: `time level [prefix] message key=value ...`. Never pass secrets in fields. */
export function createLogger(
  prefix: string,
  minimum: LogLevel = (process.env.OTENSOR_LOG as LogLevel) ?? 'info',
): Logger {
  const floor = order[minimum] ?? 1;
  return (level, message, fields) => {
    if (order[level] < floor) return;
    const extra = fields
      ? Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')
      : '';
    process.stderr.write(
      `${new Date().toISOString()} ${level} [${prefix}] ${message}${extra ? ` ${extra}` : ''}\n`,
    );
  };
}
