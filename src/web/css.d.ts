// Style sheets are bundled by esbuild (scripts/build-web.ts); TypeScript only needs to know they exist.
declare module '*.css';
