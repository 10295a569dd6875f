/** Vitest setup file: after each test file, its temporary directories go (see tmp.ts). */
import { afterAll } from 'vitest';
import { removeTestDirs } from './tmp.js';

afterAll(removeTestDirs);
