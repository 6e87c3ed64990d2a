#!/usr/bin/env node
// npm 11.19 writes package-lock.json with only this platform's optional native packages, and then `npm ci`
// rejects that same lock ("Missing: ... from lock file"; npm/cli#8805, #9846). This adds the missing
// entries (version, integrity, os/cpu/libc) from the registry, as older npm wrote them, so `npm ci` works on
// every platform. Run it after changing dependencies: `node scripts/complete-lockfile.mjs`.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const packages = lock.packages;
let added = 0;

// Resolve a dependency the way Node does: nearest node_modules up the parent's path.
function resolveFrom(parentPath, name) {
  let base = parentPath;
  while (true) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const index = base.lastIndexOf('/node_modules/');
    base = index >= 0 ? base.slice(0, index) : '';
  }
}

function platformFromName(name) {
  const os = [
    [/android/, 'android'],
    [/darwin|mac-/, 'darwin'],
    [/win32|win-/, 'win32'],
    [/freebsd/, 'freebsd'],
    [/openbsd/, 'openbsd'],
    [/openharmony/, 'openharmony'],
    [/linux/, 'linux'],
  ].find(([re]) => re.test(name))?.[1];
  const cpu = [
    [/arm64|aarch64/, 'arm64'],
    [/armv7|arm-|-arm$|eabi/, 'arm'],
    [/x64|x86_64/, 'x64'],
    [/ia32/, 'ia32'],
    [/riscv64/, 'riscv64'],
    [/ppc64/, 'ppc64'],
    [/s390x/, 's390x'],
    [/loong64/, 'loong64'],
  ].find(([re]) => re.test(name))?.[1];
  const libc = /musl/.test(name) ? 'musl' : /-gnu/.test(name) ? 'glibc' : undefined;
  return { ...(os ? { os: [os] } : {}), ...(cpu ? { cpu: [cpu] } : {}), ...(libc ? { libc: [libc] } : {}) };
}

for (const [path, entry] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolveFrom(path, name)) continue;
    let manifest;
    try {
      manifest = JSON.parse(
        execFileSync(
          'npm',
          [
            'view',
            `${name}@${range}`,
            'version',
            'dist.integrity',
            'os',
            'cpu',
            'libc',
            'engines',
            'license',
            '--json',
          ],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
          },
        ),
      );
    } catch {
      // Registries that mirror only some platforms lack the others' packages; npm ci still wants an entry.
      // The platform is read from the package's name; elsewhere npm fetches it by name and version as usual.
      if (!/^\d+\.\d+\.\d+/.test(range))
        throw new Error(`${name}@${range} is not in the registry and not pinned`);
      manifest = { version: range, ...platformFromName(name) };
      console.log(`not in this registry, platform from its name: ${name}@${range}`);
    }
    const info = Array.isArray(manifest) ? manifest.at(-1) : manifest;
    const target = packages[`node_modules/${name}`] ? `${path}/node_modules/${name}` : `node_modules/${name}`;
    packages[target] = {
      version: info.version,
      ...(info['dist.integrity'] ? { integrity: info['dist.integrity'] } : {}),
      ...(info.cpu ? { cpu: info.cpu } : {}),
      ...(entry.dev ? { dev: true } : {}),
      ...(info.engines ? { engines: info.engines } : {}),
      ...(info.libc ? { libc: info.libc } : {}),
      ...(info.license ? { license: info.license } : {}),
      optional: true,
      ...(info.os ? { os: info.os } : {}),
    };
    added++;
  }
}

lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} optional platform package(s) to package-lock.json`);
