export * from './principal.js';
export * from './current-principal.decorator.js';
