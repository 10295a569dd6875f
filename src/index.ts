/** flowsift library entry point. */
export * from './capture/types.js';
export * from './decode/types.js';
