import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The router store behind a `--data DIR` a user typed: the router's own folder (it holds router.db), or the
 * folder given to `otensor-cli up --data DIR`, whose router keeps its store in DIR/router. Without this, a
 * user who ran `up --data .data/up` and then `keys create --data .data/up` would make a second, empty store
 * the running router never reads.
 */
export function routerStoreDir(dir: string): string {
  if (existsSync(join(dir, 'router.db'))) return dir;
  const upRouter = join(dir, 'router');
  if (existsSync(join(upRouter, 'router.db'))) return upRouter;
  return dir;
}
