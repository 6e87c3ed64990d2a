export * from './api.js';
export * from './errors.js';
export * from './messages.js';
export * from './metrics-views.js';
export * from './router-url.js';
export * from './signing.js';
export * from './validation.js';
export * from './views.js';
